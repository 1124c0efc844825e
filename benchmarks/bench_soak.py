"""Soak of the assistant (issue 18): many people doing the whole journey at once for minutes, on
the processes a deployment runs, to find what only time shows — errors under sustained load,
empty replies, leads lost or duplicated, memory that keeps growing.

The servers are the replica harness's (benchmarks/replicas.py, also used by the replica and
failover tests): one or two replicas, each a Rasa server and the action server it calls, sharing
one PostgreSQL tracker store, one Redis lock store and one PostgreSQL lead store, fresh for the
run; no knowledge base nor language model (the journey asks no product question). Each turn goes
to a replica drawn at random, as a load balancer would send it.

Each of `--people` people plays the harness's prospect script (opening, the needs form with every
question that applies, the summary confirmed, the advisor requested up to the lead reference for
two journeys in three, goodbye), thinking 2 to 5 s before each message. A person who finishes, or
whose journey fails, starts a new conversation at once, until `--minutes` have passed; the
journeys in progress then finish before the figures are taken.

Before the timed part, one journey per replica without pauses loads the models, then the same
people play for `--warm-up-minutes` (default 2) so that the servers reach the steady state of
this load: the bounded caches a server keeps by design (the tracker store's cache of recent
conversations, the featurizer's cache of recent messages, the database pools) fill during that
time, not during the measure. Memory — the resident memory of each server's whole process tree —
is sampled every 15 s from the end of the first journey to the end of the run: its value when
the timed part starts and when the last journey ends gives the growth held against the 10 % bar;
the growth from the first journey, the peak and one sample per minute are reported beside it,
so a reader sees whether memory levels off or keeps climbing. The journeys of the warm-up count
for errors and leads; only the timed part's turns count for latency. Reported: turns, errors,
empty replies and apologies, journeys started and finished, the leads expected (one per finished
journey that asked for an advisor) against those in the lead store, per-turn latency (median,
p95), and each server's memory growth.

    python -m benchmarks.bench_soak --people 100 --minutes 10 [--warm-up-minutes 2]
        [--replicas 1|2] [--json [PATH]]

Needs PostgreSQL and Redis on loopback (scripts/ensure-services) and `models/current.tar.gz`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import random
import re
import statistics
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import psycopg

from benchmarks.replicas import (
    Cluster,
    Policy,
    Prospect,
    Replica,
    Router,
    TrackerRows,
    leads_by_conversation,
    running_cluster,
)
from stack.settings import PROJECT_ROOT
from stack.training import model_path
from tests.services import service_reachable

PEOPLE = 100
MINUTES = 10.0
WARM_UP_MINUTES = 2.0
THINK_TIME_S = (2.0, 5.0)
# Every third journey leaves after the recommendation: no lead may appear for it.
LEAVES_WITHOUT_ADVISOR = 3
# The bar of the issue: no server's memory grows more than this over the run.
MAX_MEMORY_GROWTH = 0.10
MEMORY_SAMPLE_S = 15.0
# People per connection reading the tracker rows (the harness's view of the form's state).
PEOPLE_PER_CONNECTION = 20
# The journeys in progress at the end get this long to finish.
DRAIN_TIMEOUT_S = 600.0
CHANNELS_BASE_FILE = PROJECT_ROOT / "channels" / "base.py"
MIB = 1024 * 1024


def technical_problem_text(channels_file: Path = CHANNELS_BASE_FILE) -> str:
    """The apology every channel sends when a turn brought no bot message (channels/base.py,
    read as text: the Rasa packages it imports are not in this environment)."""
    found = re.search(r'TECHNICAL_PROBLEM = \(\s*"([^"]+)"', channels_file.read_text("utf-8"))
    if found is None:
        raise ValueError(f"TECHNICAL_PROBLEM not found in {channels_file}")
    return found.group(1)


# --- measuring ----------------------------------------------------------------------------------


def process_tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 once it is gone)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += process.memory_info().rss
    return total


def cluster_memory(cluster: Cluster) -> dict[str, int]:
    """`<replica>: <server>` → resident bytes of the server's process tree."""
    return {
        f"{replica.name}: {service}": process_tree_rss(pid)
        for replica in cluster.replicas
        for service, pid in replica.supervisor.pids().items()
    }


@dataclasses.dataclass
class Journey:
    """One conversation a person had, and how it ended."""

    conversation_id: str
    asked_for_advisor: bool
    finished: bool = False
    error: str | None = None
    turns: int = 0


@dataclasses.dataclass
class SoakRun:
    """What a run observed, before any arithmetic."""

    people: int
    replicas: int
    seconds: float
    drain_seconds: float
    journeys: list[Journey]
    latencies_s: list[float]
    empty_replies: int
    apologies: int
    transport_failures: int
    leads: dict[str, list[str]]  # conversation id → lead references, from the lead store
    memory_start: dict[str, int]
    memory_end: dict[str, int]
    memory_peak: dict[str, int]
    warm_up_seconds: float = 0.0
    memory_first: dict[str, int] = dataclasses.field(default_factory=dict)
    # (seconds since the end of the first journey, server → resident bytes)
    memory_series: list[tuple[float, dict[str, int]]] = dataclasses.field(default_factory=list)


# --- the report ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.95 is the p95); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def memory_growth(start: Mapping[str, int], end: Mapping[str, int]) -> dict[str, float]:
    """Relative growth of each server's memory, (end - start) / start."""
    return {name: (end.get(name, 0) - before) / before for name, before in start.items() if before}


def per_minute(
    series: Sequence[tuple[float, Mapping[str, int]]],
) -> list[tuple[float, dict[str, int]]]:
    """The first sample of each minute of `series`, and its last sample."""
    kept: list[tuple[float, dict[str, int]]] = []
    minute = -1
    for index, (seconds, values) in enumerate(series):
        if int(seconds // 60) != minute or index == len(series) - 1:
            minute = int(seconds // 60)
            kept.append((seconds, dict(values)))
    return kept


def lead_check(
    journeys: Sequence[Journey], leads: Mapping[str, list[str]]
) -> tuple[int, int, list[str]]:
    """(leads expected, leads found for them, conversations whose leads are wrong): a finished
    journey that asked for an advisor has exactly one lead, any other journey has none."""
    expected = found = 0
    wrong: list[str] = []
    for journey in journeys:
        references = leads.get(journey.conversation_id, [])
        if journey.finished and journey.asked_for_advisor:
            expected += 1
            found += len(references)
            if len(references) != 1:
                wrong.append(f"{journey.conversation_id}: {len(references)} leads, 1 expected")
        elif journey.finished and references:
            wrong.append(f"{journey.conversation_id}: {len(references)} leads, none expected")
    return expected, found, wrong


def report(run: SoakRun) -> dict[str, Any]:
    journeys = run.journeys
    errors = [journey.error for journey in journeys if journey.error]
    expected, found, wrong = lead_check(journeys, run.leads)
    growth = memory_growth(run.memory_start, run.memory_end)
    growth_from_first = memory_growth(run.memory_first or run.memory_start, run.memory_end)
    turns = len(run.latencies_s)
    elapsed = run.seconds + run.drain_seconds
    memory = {
        name: {
            "start_mib": round(run.memory_start[name] / MIB, 1),
            "end_mib": round(run.memory_end.get(name, 0) / MIB, 1),
            "peak_mib": round(max(run.memory_peak.get(name, 0), run.memory_start[name]) / MIB, 1),
            "growth": round(growth.get(name, 0.0), 4),
            "first_mib": round((run.memory_first or run.memory_start).get(name, 0) / MIB, 1),
            "growth_from_first": round(growth_from_first.get(name, 0.0), 4),
        }
        for name in sorted(run.memory_start)
    }
    memory_within_bar = all(value <= MAX_MEMORY_GROWTH for value in growth.values())
    passed = (
        not errors
        and run.empty_replies == 0
        and run.apologies == 0
        and not wrong
        and found == expected
        and memory_within_bar
    )
    return {
        "people": run.people,
        "replicas": run.replicas,
        "warm_up_seconds": round(run.warm_up_seconds, 1),
        "seconds": round(run.seconds, 1),
        "drain_seconds": round(run.drain_seconds, 1),
        "turns": turns,
        "turns_per_second": round(turns / elapsed, 2) if elapsed else 0.0,
        "latency_ms": {
            "median": round(statistics.median(run.latencies_s) * 1000, 1) if turns else 0.0,
            "p95": round(percentile(run.latencies_s, 0.95) * 1000, 1),
            "max": round(max(run.latencies_s, default=0.0) * 1000, 1),
        },
        "journeys_started": len(journeys),
        "journeys_finished": sum(journey.finished for journey in journeys),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:10],
        "transport_failures": run.transport_failures,
        "empty_replies": run.empty_replies,
        "apologies": run.apologies,
        "leads_expected": expected,
        "leads_found": found,
        "lead_mismatches": wrong[:20],
        "leads_in_database": sum(len(references) for references in run.leads.values()),
        "memory": memory,
        "memory_per_minute": [
            {
                "seconds": round(seconds),
                **{name: round(value / MIB, 1) for name, value in v.items()},
            }
            for seconds, v in per_minute(run.memory_series)
        ],
        "memory_within_bar": memory_within_bar,
        "passed": passed,
    }


def markdown(result: Mapping[str, Any]) -> str:
    latency = result["latency_ms"]
    lines = [
        f"{result['people']} people, {result['replicas']} replica(s), "
        f"{result.get('warm_up_seconds', 0) / 60:.1f} min of warm-up then "
        f"{result['seconds'] / 60:.1f} min (+{result['drain_seconds']:.0f} s for the journeys in "
        f"progress to finish): **{'passed' if result['passed'] else 'FAILED'}**",
        "",
        "| Turns | Turns/s | Median (ms) | p95 (ms) | Max (ms) | Journeys started | Finished "
        "| Errors | Empty replies | Apologies | Leads expected | Leads found |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['turns']} | {result['turns_per_second']} | {latency['median']} "
        f"| {latency['p95']} | {latency['max']} | {result['journeys_started']} "
        f"| {result['journeys_finished']} | {result['errors']} | {result['empty_replies']} "
        f"| {result['apologies']} | {result['leads_expected']} | {result['leads_found']} |",
        "",
        "| Server (replica: process tree) | After the first journey (MiB) | Timed start (MiB) "
        "| End (MiB) | Peak (MiB) | Growth over the timed part | Growth from the first journey |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, memory in result["memory"].items():
        lines.append(
            f"| {name} | {memory['first_mib']} | {memory['start_mib']} | {memory['end_mib']} "
            f"| {memory['peak_mib']} | {memory['growth']:+.1%} "
            f"| {memory['growth_from_first']:+.1%} |"
        )
    names = list(result["memory"])
    if result.get("memory_per_minute"):
        lines += [
            "",
            "| Minute | " + " | ".join(f"{name} (MiB)" for name in names) + " |",
            "|---:|" + "---:|" * len(names),
        ]
        for sample in result["memory_per_minute"]:
            values = " | ".join(str(sample.get(name, "")) for name in names)
            lines.append(f"| {sample['seconds'] / 60:.1f} | {values} |")
    lines += [
        "",
        f"Leads in the database: {result['leads_in_database']} (the warm-up's included); "
        f"transport failures: {result['transport_failures']}; memory within the "
        f"{MAX_MEMORY_GROWTH:.0%} bar: {result['memory_within_bar']}.",
    ]
    for example in result["error_examples"]:
        lines.append(f"- error: {example[:300]}")
    for mismatch in result["lead_mismatches"]:
        lines.append(f"- lead: {mismatch}")
    return "\n".join(lines)


# --- the run ------------------------------------------------------------------------------------


class MemorySampler:
    """Every sample of each server's resident memory since the sampler was made, and the
    highest seen."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.peak: dict[str, int] = {}
        self.series: list[tuple[float, dict[str, int]]] = []
        self._origin = asyncio.get_running_loop().time()

    def sample(self) -> dict[str, int]:
        current = cluster_memory(self.cluster)
        for name, value in current.items():
            self.peak[name] = max(self.peak.get(name, 0), value)
        self.series.append((asyncio.get_running_loop().time() - self._origin, current))
        return current

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), MEMORY_SAMPLE_S)


def always(replica: Replica) -> Policy:
    """A routing policy that sends every turn to `replica`."""
    return lambda _turn: replica


async def _play(prospect: Prospect, journey: Journey) -> None:
    try:
        await prospect.play()
        journey.finished = True
    except Exception as error:  # counted and reported; the person starts a new conversation
        journey.error = f"{type(error).__name__}: {error}"
    finally:
        journey.turns = prospect.turns


async def soak(
    cluster: Cluster,
    people: int,
    seconds: float,
    think_time_s: tuple[float, float] = THINK_TIME_S,
    seed: int = 18,
    warm_up_seconds: float = 0.0,
) -> SoakRun:
    apology = technical_problem_text()
    apologies = 0

    def judge(reply: list[dict[str, Any]]) -> None:
        nonlocal apologies
        apologies += any(message.get("text") == apology for message in reply)

    run_id = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=people * 2, max_keepalive_connections=people * 2)
    async with httpx.AsyncClient(limits=limits) as client, contextlib.AsyncExitStack() as stack:
        rows = []
        for _ in range(max(1, math.ceil(people / PEOPLE_PER_CONNECTION))):
            connection = await psycopg.AsyncConnection.connect(cluster.tracker_url, autocommit=True)
            await stack.enter_async_context(connection)
            rows.append(TrackerRows(connection))
        router = Router(cluster.replicas, client, seed)
        router.on_reply = judge

        # Warm-up: one journey on each replica, without pauses, not counted.
        warm_ups = [
            Prospect(f"warm-up-{run_id}-{replica.name}", router, rows[0], always(replica))
            for replica in cluster.replicas
        ]
        await asyncio.gather(*(prospect.play() for prospect in warm_ups))
        sampler = MemorySampler(cluster)
        memory_first = sampler.sample()
        router.latencies_s.clear()
        router.empty_replies = 0
        router.failures.clear()
        apologies = 0

        loop = asyncio.get_running_loop()
        warm_up_started = loop.time()
        started = warm_up_started + warm_up_seconds
        deadline = started + seconds
        journeys: list[Journey] = []

        async def person(index: int) -> None:
            thinking = random.Random(f"{seed}-{index}")  # noqa: S311 (reproducible pauses)
            number = 0
            while loop.time() < deadline:
                prospect = Prospect(
                    f"soak-{run_id}-{index}-{number}",
                    router,
                    rows[index % len(rows)],
                    router.random_replica,
                    asks_for_advisor=(index + number) % LEAVES_WITHOUT_ADVISOR != 0,
                    email=f"personne{index}.{number}@exemple.fr",
                    think_time_s=think_time_s,
                    thinking=thinking,
                )
                journey = Journey(prospect.conversation_id, prospect.asks_for_advisor)
                journeys.append(journey)
                await _play(prospect, journey)
                number += 1

        stop_sampling = asyncio.Event()
        sampling = asyncio.create_task(sampler.run(stop_sampling))
        tasks = [asyncio.create_task(person(index)) for index in range(people)]
        if warm_up_seconds > 0:
            # The steady state: the timed part starts here, its figures only from now on.
            await asyncio.sleep(warm_up_seconds)
            router.latencies_s.clear()
        memory_start = sampler.sample()
        _, pending = await asyncio.wait(tasks, timeout=seconds + DRAIN_TIMEOUT_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        ended = loop.time()
        stop_sampling.set()
        await sampling
        memory_end = sampler.sample()

    return SoakRun(
        people=people,
        replicas=len(cluster.replicas),
        seconds=min(ended - started, seconds),
        drain_seconds=max(0.0, ended - deadline),
        journeys=journeys,
        latencies_s=list(router.latencies_s),
        empty_replies=router.empty_replies,
        apologies=apologies,
        transport_failures=len(router.failures),
        leads=leads_by_conversation(cluster.advisor_url),
        memory_start=memory_start,
        memory_end=memory_end,
        memory_peak=sampler.peak,
        warm_up_seconds=warm_up_seconds,
        memory_first=memory_first,
        memory_series=list(sampler.series),
    )


def run(
    people: int, minutes: float, replicas: int, warm_up_minutes: float = WARM_UP_MINUTES
) -> dict[str, Any]:
    if not model_path().exists():
        raise SystemExit(f"no trained Rasa model at {model_path()}: run `make train` first")
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        if not service_reachable(port):
            raise SystemExit(
                f"{name} is not answering on 127.0.0.1:{port}: scripts/ensure-services"
            )
    with (
        tempfile.TemporaryDirectory(prefix="soak-") as tmp,
        running_cluster(Path(tmp), replicas) as cluster,
    ):
        print(
            f"{replicas} replica(s) ready; {people} people for {warm_up_minutes} + {minutes} min…",
            file=sys.stderr,
        )
        result = asyncio.run(
            soak(cluster, people, minutes * 60, warm_up_seconds=warm_up_minutes * 60)
        )
    return report(result)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=PEOPLE, help=f"default {PEOPLE}")
    parser.add_argument("--minutes", type=float, default=MINUTES, help=f"default {MINUTES:g}")
    parser.add_argument(
        "--warm-up-minutes",
        type=float,
        default=WARM_UP_MINUTES,
        help=f"load before the timed part, to the steady state (default {WARM_UP_MINUTES:g})",
    )
    parser.add_argument("--replicas", type=int, choices=[1, 2], default=1, help="default 1")
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="print the full report as JSON (to PATH when given) instead of markdown",
    )
    args = parser.parse_args(argv)
    if args.people < 1 or args.minutes <= 0 or args.warm_up_minutes < 0:
        parser.error("--people must be at least 1, --minutes positive, --warm-up-minutes ≥ 0")
    result = run(args.people, args.minutes, args.replicas, args.warm_up_minutes)
    if args.json == "-":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        if args.json:
            Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
        print(markdown(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
