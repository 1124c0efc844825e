"""Readiness: a server's checks of what it needs, run together, answered as one JSON body.

Each server lists its checks (`Check`: a name, a blocking function that raises when the thing is
not usable, whether it is required) and answers `/ready` with `run_checks`: HTTP 200 when every
required check passed, 503 otherwise; the body names each check with `ok`, its duration and, on
failure, a one-line reason (an exception's type and message, never a URL with a password: the
functions raise `NotReadyError` with their own words where a driver's message could hold one).

Which checks are required follows one rule: a check is required when the server cannot do its
work without it (its own model or catalogue not loaded; Rasa without its stores). A shared
dependency without which the server still serves most of its work (the action server without the
lead store or the knowledge base's store, the web app without its database: the public pages
still answer) is reported without being required: it turns the status to `degraded`, and the
server stays in its load balancer, because a 503 on every replica at once would stop what still
works. READINESS_STRICT=true makes every check required, for the teams that prefer it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A check that takes longer counts as failed (a probe's own timeout is a few seconds).
DEFAULT_TIMEOUT_S = 2.5


class NotReadyError(RuntimeError):
    """A check's reason, meant for the operator reading /ready."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], None]
    required: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Readiness:
    status_code: int
    body: dict[str, Any]


def _reason(error: BaseException) -> str:
    if isinstance(error, NotReadyError):
        return str(error)
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):  # distinct types before 3.11
        return "timed out"
    # The type only: a driver's message may quote a connection URL.
    return type(error).__name__


async def _run(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.to_thread(check.run), timeout=check.timeout_s)
    except Exception as error:  # any failure of the dependency is a failed check
        result: dict[str, Any] = {"ok": False, "reason": _reason(error)}
    else:
        result = {"ok": True}
    result["required"] = check.required
    result["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def strict_from(environ: Mapping[str, str] = os.environ) -> bool:
    """READINESS_STRICT: every check required (`true`, `1`, `yes`)."""
    return environ.get("READINESS_STRICT", "").strip().lower() in ("1", "true", "yes")


async def run_checks(service: str, checks: Sequence[Check], strict: bool = False) -> Readiness:
    """Every check at once (each in a thread, with its time limit); `strict`: all required."""
    if strict:
        checks = [Check(c.name, c.run, True, c.timeout_s) for c in checks]
    results = await asyncio.gather(*(_run(check) for check in checks))
    named = {check.name: result for check, result in zip(checks, results, strict=True)}
    required_ok = all(result["ok"] for result in results if result["required"])
    everything_ok = all(result["ok"] for result in results)
    status = "ready" if everything_ok else "degraded" if required_ok else "not_ready"
    return Readiness(
        status_code=200 if required_ok else 503,
        body={"service": service, "status": status, "checks": named},
    )
