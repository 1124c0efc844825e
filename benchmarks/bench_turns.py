"""Per-turn latency of the assistant with 20 concurrent conversations, against a trivial Rasa bot.

A turn is one REST call (`/webhooks/rest/webhook`): NLU, policies and every custom action the turn
runs (form validation, catalogue engine, knowledge-base retrieval), without LLM generation
(`KNOWLEDGE_LLM_MODEL` empty, the production setting on CPU). The real servers are started as
`make run` starts them: the Rasa server with `models/current.tar.gz` and a SQLite tracker store,
the action server with the knowledge base of the KNOWLEDGE_* settings (`.run/knowledge` by
default; built by `make run`) and an SQLite lead store.

The baseline, measured in the same run under the same load, is a trivial Rasa bot: the same NLU
pipeline (read from config.yml), one intent per reply, rules only, no custom action and an
in-memory tracker store. It is trained once into `.run/bench/` (kept while its files do not
change). The ratio of the two p95s is what the assistant's own work costs over Rasa's fixed cost
per message.

A conversation is a person: after each reply they read and type before sending the next
message. Each simulated person pauses a time drawn uniformly from `--think-time MIN:MAX` seconds
(default 2:6, faster than people type a sentence, so a heavier load than real) and starts at a
random moment within the first pause, so the conversations overlap without marching in step.
`--think-time 0` removes the pauses: every conversation sends its next message as soon as the
previous reply arrives, a saturation test of the server rather than a model of users.

    python -m benchmarks.bench_turns [--conversations 20] [--repeat 1] [--think-time 2:6]
"""

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import yaml

from benchmarks.journey import MILESTONES, SCRIPT
from common.rasa_api import rest_headers
from common.startup import StartupError
from stack.dependencies import check_tracker_store
from stack.services import action_service, rasa_service, tensorflow_threads_env
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service, Supervisor
from stack.training import model_path, rasa_executable
from tests.services import free_port

CONVERSATIONS = 20
THINK_TIME_S = (2.0, 6.0)
# The trivial bot runs outside the project folder; its pipeline imports `bot.components`.
COMPONENTS_PATH = {"PYTHONPATH": str(PROJECT_ROOT)}
HEADER = (
    "| Benchmark | Turns | Median (ms) | p95 (ms) | Max (ms) | Baseline | Baseline median (ms) "
    "| Baseline p95 (ms) | Ratio p95 | Load average |\n|---|---|---|---|---|---|---|---|---|---|"
)

TRIVIAL_DOMAIN = """version: "3.1"
intents: [greet, goodbye, thank, inform]
responses:
  utter_greet: [{text: "Bonjour !"}]
  utter_goodbye: [{text: "Au revoir !"}]
  utter_thank: [{text: "Avec plaisir."}]
  utter_inform: [{text: "C'est noté."}]
"""
TRIVIAL_DATA = """version: "3.1"
nlu:
  - intent: greet
    examples: |
      - bonjour
      - salut
      - bonsoir
      - hello
  - intent: goodbye
    examples: |
      - au revoir
      - à bientôt
      - bonne journée
  - intent: thank
    examples: |
      - merci
      - merci beaucoup
      - c'est gentil
  - intent: inform
    examples: |
      - j'ai 35 ans
      - je suis locataire
      - oui
      - non
      - 60 €
rules:
  - rule: greet
    steps: [{intent: greet}, {action: utter_greet}]
  - rule: goodbye
    steps: [{intent: goodbye}, {action: utter_goodbye}]
  - rule: thank
    steps: [{intent: thank}, {action: utter_thank}]
  - rule: inform
    steps: [{intent: inform}, {action: utter_inform}]
  - rule: anything else
    steps: [{intent: nlu_fallback}, {action: utter_inform}]
"""


@dataclasses.dataclass
class TurnsResult:
    conversations: int
    think_time_s: tuple[float, float]
    turns: int
    turns_per_second: float
    assistant: dict[str, float]
    trivial: dict[str, float]
    ratio_p95: float
    by_message: list[dict[str, Any]]  # the assistant's figures for each message of SCRIPT
    errors: list[str]
    load_average: list[float]
    rasa_workers: int = 1
    # CPU time (user + system) of each server's process tree, and of this benchmark's process,
    # during the assistant's rounds, divided by their turns.
    cpu_ms_per_turn: dict[str, float] = dataclasses.field(default_factory=dict)


def assistant_settings(
    run_dir: Path, rasa_workers: int = 1, tracker_store_url: str = "", lock_store_url: str = ""
) -> StackSettings:
    """The stack settings of a benchmark run: free ports, SQLite stores in `run_dir` unless other
    stores are given, no LLM."""
    if not model_path().exists():
        raise SystemExit("no trained model: run `make train` first")
    return StackSettings(
        _env_file=None,
        rasa_port=free_port(),
        action_server_port=free_port(),
        webapp_port=free_port(),
        tracker_store_url=tracker_store_url or f"sqlite:///{run_dir / 'tracker.db'}",
        lock_store_url=lock_store_url,
        rasa_workers=rasa_workers,
        advisor_database_url=f"sqlite:///{run_dir / 'advisor.db'}",
        run_dir=run_dir,
        knowledge_llm_model="",  # retrieval and extractive answers only
    )


def trivial_config(root: Path = PROJECT_ROOT) -> str:
    """The assistant's own NLU pipeline (from config.yml), with rules as the only policy."""
    pipeline = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    config = {
        "recipe": "default.v1",
        "assistant_id": "trivial-benchmark-bot",
        "language": "fr",
        "pipeline": pipeline,
        "policies": [{"name": "RulePolicy"}],
    }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def trivial_model(cache: Path) -> Path:
    """Train the trivial bot once per content (a minute), then reuse it."""
    config = trivial_config()
    digest = hashlib.sha256((TRIVIAL_DOMAIN + config + TRIVIAL_DATA).encode()).hexdigest()
    model = cache / f"trivial-{digest[:12]}.tar.gz"
    if model.exists():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "domain.yml").write_text(TRIVIAL_DOMAIN)
        (root / "config.yml").write_text(config)
        (root / "data.yml").write_text(TRIVIAL_DATA)
        command = [
            str(rasa_executable()), "train", "--config", "config.yml", "--domain", "domain.yml",
            "--data", "data.yml", "--out", str(cache), "--fixed-model-name", model.name[:-7],
        ]  # fmt: skip
        env = {**os.environ, **COMPONENTS_PATH}
        subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL, env=env)  # noqa: S603
    return model


def trivial_service(model: Path, port: int, settings: StackSettings) -> Service:
    """The trivial bot's server: REST channel only, in-memory tracker store, no action server."""
    base = f"http://127.0.0.1:{port}"
    (model.parent / "credentials.yml").write_text("rest:\n")
    (model.parent / "endpoints.yml").write_text("# in-memory tracker and lock stores\n")
    return Service(
        name="trivial Rasa bot",
        command=[
            str(rasa_executable()),
            "run",
            "--model",
            str(model),
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--enable-api",
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
        ],
        host="127.0.0.1",
        port=port,
        port_variable="-",
        health_url=f"{base}/status",
        url=base,
        env={
            **tensorflow_threads_env(settings),  # as the assistant's Rasa server
            "SANIC_WORKERS": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **COMPONENTS_PATH,
        },
        cwd=model.parent,
    )


@dataclasses.dataclass
class _Load:
    """What one round of conversations against one server measured."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    by_message: dict[int, list[float]] = dataclasses.field(default_factory=dict)  # SCRIPT index
    errors: list[str] = dataclasses.field(default_factory=list)
    wall_s: float = 0.0


async def _conversation(
    client: httpx.AsyncClient,
    url: str,
    sender: str,
    load: _Load,
    think_time_s: tuple[float, float],
    check_journey: bool = False,
) -> None:
    # Not security-sensitive: the same pauses for a person in every run (the sender ends with a
    # run id, so that a run never continues an earlier run's conversation in a shared store).
    pause = random.Random(sender.rpartition(".")[0] or sender).uniform  # noqa: S311
    await asyncio.sleep(pause(0, think_time_s[1]))
    replies: list[str] = []
    for index, message in enumerate(SCRIPT):
        if index:
            await asyncio.sleep(pause(*think_time_s))
        started = time.perf_counter()
        response = await client.post(url, json={"sender": sender, "message": message})
        elapsed_ms = (time.perf_counter() - started) * 1000
        load.latencies.append(elapsed_ms)
        load.by_message.setdefault(index, []).append(elapsed_ms)
        reply = response.json() if response.status_code == 200 else None
        if not reply:
            load.errors.append(f"{sender}: {message!r} → HTTP {response.status_code}")
        else:
            replies.append(json.dumps(reply, ensure_ascii=False))
    for name, marker in MILESTONES.items() if check_journey else ():
        if not any(marker in reply for reply in replies):
            load.errors.append(f"{sender}: the journey never reached {name}")


async def _load(
    url: str,
    rest_token: str,
    conversations: int,
    tag: str,
    think_time_s: tuple[float, float],
    check_journey: bool = False,
) -> _Load:
    load = _Load()
    run_id = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=conversations + 5)
    # The assistant's REST channel wants its bearer token (channels/rest.py); the trivial bot's
    # plain channel ignores the header.
    headers = rest_headers(rest_token)
    async with httpx.AsyncClient(timeout=120, limits=limits, headers=headers) as client:
        # One conversation first, not timed and without pauses: loads lazy code paths.
        await _conversation(client, url, f"{tag}-warm-up.{run_id}", _Load(), (0.0, 0.0))
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _conversation(
                    client, url, f"{tag}-{index}.{run_id}", load, think_time_s, check_journey
                )
                for index in range(conversations)
            )
        )
        load.wall_s = time.perf_counter() - started
    return load


def _cpu_seconds(pid: int, descendants: bool = True) -> float:
    """CPU time of a process, and of all its descendants unless told otherwise, so far (0 once
    it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *(root.children(recursive=True) if descendants else ())]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _tree_cpu_seconds(pid: int) -> float:
    """A server's whole process tree; this process alone (the servers are its children)."""
    return _cpu_seconds(pid, descendants=pid != os.getpid())


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(_percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1),
    }


def run(
    conversations: int,
    repeat: int,
    think_time_s: tuple[float, float],
    rasa_workers: int = 1,
    tracker_store_url: str = "",
    lock_store_url: str = "",
) -> TurnsResult:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp)
        settings = assistant_settings(run_dir, rasa_workers, tracker_store_url, lock_store_url)
        check_tracker_store(settings.tracker_store_url)
        trivial_port = free_port()
        services = [
            action_service(settings),
            rasa_service(settings),
            trivial_service(trivial_model(PROJECT_ROOT / ".run" / "bench"), trivial_port, settings),
        ]
        supervisor = Supervisor(services, run_dir / "logs", startup_timeout_s=600)
        supervisor.start()
        pids = supervisor.pids()
        watched = {
            "Rasa server": pids[services[1].name],
            "action server": pids[services[0].name],
            "benchmark client": os.getpid(),  # the servers are its children: itself only
        }
        cpu_s = dict.fromkeys(watched, 0.0)
        try:
            assistant, trivial = _Load(), _Load()
            for round_ in range(repeat):
                # Alternated, so that a busy moment of the shared machine hits both alike.
                for load, port, tag in (
                    (trivial, trivial_port, f"trivial-{round_}"),
                    (assistant, settings.rasa_port, f"assistant-{round_}"),
                ):
                    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
                    before = {name: _tree_cpu_seconds(pid) for name, pid in watched.items()}
                    measured = asyncio.run(
                        _load(
                            url,
                            settings.rasa_rest_token,
                            conversations,
                            tag,
                            think_time_s,
                            load is assistant,
                        )
                    )
                    if load is assistant:
                        for name, pid in watched.items():
                            cpu_s[name] += _tree_cpu_seconds(pid) - before[name]
                    load.latencies += measured.latencies
                    for index, values in measured.by_message.items():
                        load.by_message.setdefault(index, []).extend(values)
                    load.errors += measured.errors
                    load.wall_s += measured.wall_s
        finally:
            supervisor.stop()
    result_assistant = _summary(assistant.latencies)
    result_trivial = _summary(trivial.latencies)
    return TurnsResult(
        conversations=conversations,
        think_time_s=think_time_s,
        turns=len(assistant.latencies),
        turns_per_second=round(len(assistant.latencies) / assistant.wall_s, 2),
        assistant=result_assistant,
        trivial=result_trivial,
        ratio_p95=round(result_assistant["p95_ms"] / result_trivial["p95_ms"], 2),
        by_message=[
            {"message": SCRIPT[index], **_summary(values)}
            for index, values in sorted(assistant.by_message.items())
        ],
        errors=assistant.errors + trivial.errors,
        load_average=[round(value, 2) for value in os.getloadavg()],
        rasa_workers=rasa_workers,
        cpu_ms_per_turn={
            name: round(seconds * 1000 / max(1, len(assistant.latencies)), 1)
            for name, seconds in cpu_s.items()
        },
    )


def _think_time(value: str) -> tuple[float, float]:
    low, _, high = value.partition(":")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX in seconds, not {value!r}") from None
    if not 0 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= MIN <= MAX, not {value!r}")
    return bounds


def _format_think_time(bounds: tuple[float, float]) -> str:
    return "none" if bounds[1] == 0 else f"{bounds[0]:g}–{bounds[1]:g} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_turns", description=__doc__)
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of conversations")
    parser.add_argument(
        "--think-time",
        type=_think_time,
        default=THINK_TIME_S,
        metavar="MIN:MAX",
        help="seconds a person pauses between two messages (0 = none, a saturation test)",
    )
    parser.add_argument(
        "--rasa-workers",
        type=int,
        default=1,
        help="Sanic workers of the assistant's Rasa server (above 1 needs --lock-store-url)",
    )
    parser.add_argument(
        "--tracker-store-url",
        default="",
        help="the assistant's tracker store (default: an SQLite file of the run), e.g. "
        "postgresql://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--lock-store-url", default="", help="e.g. redis://127.0.0.1:6379/3 (default: in memory)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.rasa_workers > 1 and not args.lock_store_url:
        parser.error("--rasa-workers above 1 needs --lock-store-url")
    try:
        result = run(
            args.conversations,
            args.repeat,
            args.think_time,
            args.rasa_workers,
            args.tracker_store_url,
            args.lock_store_url,
        )
    except StartupError as error:
        parser.exit(2, f"python -m benchmarks.bench_turns: {error}\n")
    if args.json:
        print(json.dumps(dataclasses.asdict(result), indent=2))
    else:
        a, t = result.assistant, result.trivial
        print(HEADER)
        print(
            f"| per-turn latency, {result.conversations} concurrent conversations, "
            f"{result.rasa_workers} Rasa worker(s), "
            f"think time {_format_think_time(result.think_time_s)} "
            f"({result.turns_per_second} turns/s) "
            f"| {result.turns} | {a['median_ms']} | {a['p95_ms']} | {a['max_ms']} "
            f"| trivial Rasa bot | {t['median_ms']} | {t['p95_ms']} | {result.ratio_p95} "
            f"| {result.load_average} |"
        )
        print(f"CPU ms per turn (assistant rounds): {result.cpu_ms_per_turn}")
        if result.errors:
            print(f"{len(result.errors)} errors, first: {result.errors[0]}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
