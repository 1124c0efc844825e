"""Run directories and the orchestration that fills them: where every figure of the report
comes from.

One run measures (or trains) one thing, once, into its own directory:

    .run/finetune/eval/<name>/
        run.json           what ran: command, status ("ok" or "failed") and why, the SHA-256 of
                           every input (data files, model files) and the options, machine, date,
                           seconds
        metrics.json       its figures
        predictions.jsonl  one line per question (an "id" and what the run recorded)
        …                  anything else it keeps (a trained model, a chart)

`orchestrate` walks a list of `RunSpec`s in order (a run that needs another's output comes after
it): a run whose directory is missing, or whose inputs changed since (another SHA-256), or that
is asked for, is run again when its inputs exist; otherwise the directory is collected as it is.
A run whose inputs do not exist (an adapter not trained yet) is reported as not run, with the
reason; a run that raises is reported as not run with the error, and the others go on.
"""

import hashlib
import json
import logging
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.jsonl"

_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered by (path, size, modification time) within the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def tree_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a directory's files (relative names and contents, sorted)."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(item.relative_to(path)).encode() + b"\0")
        digest.update(file_sha256(item).encode())
    return digest.hexdigest()


def fingerprint(paths: Mapping[str, Path], options: Mapping[str, Any]) -> dict[str, Any]:
    """What a run depends on: each input's SHA-256 (by a stable label) and its options."""
    return {
        "files": {label: tree_sha256(path) for label, path in sorted(paths.items())},
        "options": dict(options),
    }


def machine() -> dict[str, Any]:
    """The CPU (model name, core count, whether it has AMX), the Python that ran, and the load
    of the machine when it was asked."""
    cpu, amx = platform.processor() or "unknown", False
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        names = [
            line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
        amx = "amx_bf16" in text
    except OSError:
        pass
    try:
        load = round(os.getloadavg()[0], 1)
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "amx_bf16": amx,
        "python": platform.python_version(),
        "load_1min": load,  # other work on the machine slows a run's latencies down
    }


def git_commit(repository: Path) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "-C", str(repository), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


@dataclass
class RunResult:
    """What a run returns to be written in its directory."""

    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ok"  # "failed": it ran to the end but did not do its job (a loss that stays)
    reason: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunSpec:
    """One run the report needs.

    `inputs()` returns the files it reads and its options (hashed into its fingerprint), or
    raises `MissingInputError` saying what is missing; `run(directory)` does the work."""

    name: str
    title: str
    command: str  # how to rerun this one alone
    inputs: Callable[[], tuple[Mapping[str, Path], Mapping[str, Any]]]
    run: Callable[[Path], RunResult]


class MissingInputError(FinetuneError):
    """A run's input does not exist (yet): the run is reported as not run, with this reason."""


@dataclass
class Run:
    """A run directory as written: its record, figures and predictions."""

    name: str
    directory: Path
    record: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.record.get("status", "ok"))

    @property
    def command(self) -> str:
        return str(self.record.get("command", ""))

    def predictions(self) -> list[dict[str, Any]]:
        path = self.directory / PREDICTIONS_FILE
        if not path.is_file():
            return []
        return [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]


@dataclass
class RunState:
    """What the report gets for one spec: the run, or why there is none."""

    spec: RunSpec
    run: Run | None
    reason: str = ""  # why there is no run
    stale: bool = False  # collected although its inputs changed since (collect-only)
    ran: bool = False  # run in this invocation


def load_run(directory: Path) -> Run | None:
    record_path, metrics_path = directory / RUN_FILE, directory / METRICS_FILE
    if not record_path.is_file() or not metrics_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("unreadable run directory %s: %s", directory, exc)
        return None
    return Run(directory.name, directory, record, metrics)


def write_run(
    directory: Path,
    spec: RunSpec,
    result: RunResult,
    prints: Mapping[str, Any],
    *,
    started: float,
    seconds: float,
    repository: Path | None = None,
    invocation: str | None = None,
) -> Run:
    """Writes metrics and predictions first and `run.json` last (a directory without it is an
    interrupted run, run again next time)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / METRICS_FILE).write_text(
        json.dumps(result.metrics, indent=1, ensure_ascii=False, default=_json_default) + "\n",
        encoding="utf-8",
    )
    with (directory / PREDICTIONS_FILE).open("w", encoding="utf-8") as file:
        for row in result.predictions:
            file.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
    record = {
        "name": spec.name,
        "title": spec.title,
        "command": spec.command,
        "invocation": invocation or spec.command,  # the command line that ran it, options included
        "status": result.status,
        "reason": result.reason,
        "notes": result.notes,
        "inputs": prints,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(seconds, 1),
        "machine": machine(),
        "commit": git_commit(repository) if repository else None,
        "predictions": len(result.predictions),
    }
    (directory / RUN_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return Run(spec.name, directory, record, result.metrics)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def orchestrate(
    specs: Sequence[RunSpec],
    runs_dir: Path,
    *,
    rerun: Iterable[str] = (),
    collect_only: bool = False,
    only: Iterable[str] | None = None,
    repository: Path | None = None,
    invocation: str | None = None,
    progress: Callable[[str], None] = logger.info,
) -> list[RunState]:
    """Runs or collects each spec, in order; returns one state per spec.

    `rerun`: names to run again whatever their state ("all": every one). `collect_only`: run
    nothing, report what the directories hold (flagging those whose inputs changed). `only`:
    run (when needed) only these names; the others are collected."""
    forced = set(rerun)
    selected = set(only) if only is not None else None
    states: list[RunState] = []
    for spec in specs:
        directory = runs_dir / spec.name
        existing = load_run(directory)
        try:
            paths, options = spec.inputs()
            prints = fingerprint(paths, options)
        except MissingInputError as missing:
            states.append(RunState(spec, None, reason=str(missing)))
            continue
        fresh = existing is not None and existing.record.get("inputs") == prints
        may_run = not collect_only and (selected is None or spec.name in selected)
        wanted = spec.name in forced or "all" in forced or not fresh
        if not may_run or not wanted:
            if existing is None:
                states.append(RunState(spec, None, reason="no run directory yet"))
            else:
                states.append(RunState(spec, existing, stale=not fresh))
            continue
        progress(f"running {spec.name}: {spec.title}")
        started, clock = time.time(), time.perf_counter()
        try:
            result = spec.run(directory)
        except MissingInputError as missing:
            states.append(RunState(spec, None, reason=str(missing)))
            continue
        except Exception as error:  # one failing run must not lose the others' figures
            logger.exception("run %s failed", spec.name)
            states.append(RunState(spec, None, reason=f"the run raised {error!r}"))
            continue
        run = write_run(
            directory,
            spec,
            result,
            prints,
            started=started,
            seconds=time.perf_counter() - clock,
            repository=repository,
            invocation=invocation,
        )
        progress(f"{spec.name}: {result.status} in {run.record['seconds']} s")
        states.append(RunState(spec, run, ran=True))
    return states
