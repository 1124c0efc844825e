"""Operations endpoints of the Rasa server, as an input channel that takes no message.

Rasa mounts each channel of credentials.yml under /webhooks/<name>/, and its HTTP API stays off
(`rasa run` without --enable-api). Listed there as `channels.ops.OpsInput:`, this one adds:

- `GET /webhooks/ops/ready`: the model loaded, the tracker store answering (`SELECT 1` on an SQL
  store) and the lock store answering (`PING` on Redis, reported but not required); 200 or 503
  with one entry per check (common/readiness.py). `GET /` stays the cheap liveness answer (Rasa's
  own).
- `GET /webhooks/ops/metrics`: Prometheus text (common/metrics.py): turns per channel and outcome,
  turn durations.
- Every user message handled by the server gets the turn's request id in its log records
  (`common.logging.turn_request_id`, which the action server computes alike from the tracker), and
  with LOG_FORMAT=json the server logs one JSON object per line from its start on.

`/ready` and `/metrics` answer 404 to a request that came through a reverse proxy (it carries
X-Forwarded-For): the orchestrator and Prometheus call the pod directly, and /webhooks/ is public.
"""

from __future__ import annotations

import logging
import os
import time
from asyncio import AbstractEventLoop
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common import metrics
from common.logging import configure_logging, log_format_from, request_context, turn_request_id
from common.readiness import Check, NotReadyError, run_checks

SERVICE = "rasa"
logger = logging.getLogger(__name__)
_INSTRUMENTED = "_vergemont_ops_instrumented"


def _agent(app: Any) -> Any:
    agent = getattr(app.ctx, "agent", None)
    if agent is None:
        raise NotReadyError("no agent yet (the model is loading)")
    return agent


def _innermost(store: Any) -> Any:
    """Rasa wraps the configured tracker store (AwaitableTrackerStore, FailSafeTrackerStore)."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store = store._tracker_store
        seen += 1
    return store


def readiness_checks(app: Any) -> list[Check]:
    def model() -> None:
        if not _agent(app).is_ready():
            raise NotReadyError("no model loaded")

    def tracker_store() -> None:
        store = _innermost(_agent(app).tracker_store)
        engine = getattr(store, "engine", None)
        if engine is None:
            return  # an in-memory store: nothing to reach
        import sqlalchemy as sa

        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def lock_store() -> None:
        redis_client = getattr(_agent(app).lock_store, "red", None)
        if redis_client is None:
            return  # Rasa's in-memory lock store (one server only)
        if not redis_client.ping():
            raise NotReadyError("Redis did not answer PING")

    return [
        Check("model", model),
        Check("tracker_store", tracker_store),
        # Not required: the lock store of endpoints.yml (bot/lock_store.py) locks conversations in
        # the process while Redis is away, so the server still answers (`degraded`).
        Check("lock_store", lock_store, required=False),
    ]


def instrument(agent: Any) -> None:
    """Count and time every user message the agent handles, with the turn's request id in the
    log records meanwhile. Rasa's channel handler looks `agent.handle_message` up at each message,
    so the instance attribute set here is what every channel calls."""
    if getattr(agent, _INSTRUMENTED, False):
        return
    handle = agent.handle_message

    async def handle_message(message: UserMessage) -> Any:
        channel = str(message.input_channel or "unknown")
        started = time.perf_counter()
        outcome = "error"
        try:
            with request_context(turn_request_id(message.sender_id, message.message_id)):
                result = await handle(message)
            outcome = "ok"
            return result
        finally:
            metrics.TURNS.labels(channel, outcome).inc()
            metrics.TURN_DURATION.labels(channel).observe(time.perf_counter() - started)

    agent.handle_message = handle_message
    setattr(agent, _INSTRUMENTED, True)


def _forwarded(request: Request) -> bool:
    return "x-forwarded-for" in request.headers


class OpsInput(InputChannel):
    """Readiness and metrics of the Rasa server; it receives no user message."""

    @classmethod
    def name(cls) -> str:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        ops = Blueprint("ops_webhook", __name__)

        @ops.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @ops.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            if _forwarded(request):
                return response.json({"error": "not found"}, status=404)
            result = await run_checks(SERVICE, readiness_checks(request.app))
            return response.json(result.body, status=result.status_code)

        @ops.route("/metrics", methods=["GET"])
        async def metrics_endpoint(request: Request) -> HTTPResponse:
            if _forwarded(request):
                return response.json({"error": "not found"}, status=404)
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        @ops.listener("before_server_start")
        async def json_logs(app: Any, _: AbstractEventLoop) -> None:
            # Before Rasa's own listener loads the model: its logs are JSON too.
            if log_format_from() == "json":
                configure_logging(SERVICE, os.environ.get("LOG_LEVEL", "INFO"), "json")

        @ops.listener("after_server_start")
        async def count_turns(app: Any, _: AbstractEventLoop) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is None:
                logger.warning("no agent after start-up: turns are not counted")
                return
            instrument(agent)

        return ops
