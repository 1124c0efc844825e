"""The action server's Sanic app: rasa_sdk's webhook plus warm-up, readiness, metrics and request
ids.

Sanic serves from worker processes started with "spawn": the app factory must be importable (not
defined in `__main__`), and whatever is built in the primary process is not shared. Each worker
therefore configures its own logging (`serve_app`) and builds the adapters (catalogue engine,
knowledge base with its embedding model, lead store) in a `before_server_start` listener: ready
before the first call. Once serving, each worker flushes the handoff spool in a background task
(`flush_handoff_spool`).

Endpoints added to rasa_sdk's (`/webhook`, `/health`, `/actions`):
- `/ready`: the adapters' dependencies (`readiness_checks`), 200 or 503 with one entry per check;
  `/health` stays the cheap liveness answer.
- `/metrics`: Prometheus text (common/metrics.py), every worker's counts added up when
  PROMETHEUS_MULTIPROC_DIR is set.

Every request gets a request id in its log records: for `/webhook`, the id of the user turn that
led Rasa to call the action (`common.logging.turn_request_id`: the latest user message's id and a
hash of the conversation id, as the Rasa server's ops channel computes it), else a fresh one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import zlib
from functools import partial
from typing import TYPE_CHECKING, Any

from common import metrics
from common.logging import configure_logging, new_request_id, request_id_var, turn_request_id
from common.readiness import Check, NotReadyError, run_checks

if TYPE_CHECKING:
    from actions.adapters import Services
    from actions.settings import ActionServerSettings

SERVICE = "actions"
logger = logging.getLogger(__name__)

# rasa_sdk's answers to a webhook call, as the outcome label of vergemont_actions_total.
_ACTION_OUTCOMES = {200: "ok", 400: "rejected", 404: "not_found", 449: "missing_domain"}


def _warm_up(settings: ActionServerSettings, app: Any) -> None:
    from actions.adapters import warm_up

    limit_torch_threads(settings.torch_threads)
    warm_up(settings)


async def flush_handoff_spool(interval_s: float) -> None:
    """The background task of each worker: every `interval_s`, the handoffs the lead store could
    not take in their turn are handed to it again (actions/handoff_spool.py)."""
    from actions.adapters import get_services

    while True:
        await asyncio.sleep(interval_s)
        try:
            services = get_services()
            spool = services.spool
            if spool is not None and spool.pending():
                await asyncio.to_thread(spool.flush, services.advisor)
        except Exception:  # the task must outlive any failure; the next round tries again
            logger.exception("the handoff spool could not be flushed")


def _start_spool_flush(settings: ActionServerSettings, app: Any) -> None:
    app.add_task(flush_handoff_spool(settings.handoff_spool_interval_s))


def limit_torch_threads(threads: int) -> None:
    """Set torch's CPU threads in this worker (the embedding model runs on them)."""
    try:
        import torch
    except ImportError:  # a deployment without the knowledge base's model
        return
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ readiness


def _installed_services() -> Services:
    from actions.adapters import get_services

    try:
        return get_services()
    except RuntimeError as error:
        raise NotReadyError("the adapters are not built yet (warming up)") from error


def check_catalogue() -> None:
    if not _installed_services().catalogue.catalogue.products:
        raise NotReadyError("the catalogue holds no product")


def _retriever() -> Any:
    answerer = _installed_services().knowledge.answerer
    if answerer is None:
        raise NotReadyError("the knowledge base did not start (see the start-up log)")
    return getattr(answerer, "retriever", None)


def check_knowledge_store() -> None:
    """The document store answers and holds chunks (Weaviate: one aggregate request). Not
    required: when the shared store fails, every replica fails alike, and product questions get
    the polite refusal while the forms, recommendations and handoffs go on."""
    store = getattr(_retriever(), "store", None)
    if store is None:
        raise NotReadyError("the knowledge base has no document store")
    if store.count() == 0:
        raise NotReadyError("the knowledge base store is empty")


def check_embedding_model() -> None:
    """The knowledge base started in this process and its embedding model is loaded (`warm_up`
    returns at once when it is; it does not embed, so that a probe never waits behind the
    questions being answered). Required: a replica whose knowledge base failed to start refuses
    every product question until it is restarted, while the other replicas answer."""
    retriever = _retriever()
    if getattr(retriever, "mode", None) == "bm25":
        return  # keyword search only: no model
    embedder = getattr(retriever, "embedder", None)
    if embedder is None:
        raise NotReadyError("the knowledge base has no embedding model")
    embedder.warm_up()


def check_lead_database() -> None:
    """`SELECT 1` on the lead store's engine. Not required: without it a handoff tells the person
    to retry and keeps their data in the conversation, while everything else goes on."""
    advisor = _installed_services().advisor
    reason = getattr(advisor, "reason", None)
    if reason is not None:  # UnavailableHandoffService
        raise NotReadyError(str(reason))
    engine = getattr(advisor, "engine", None)
    if engine is None:
        return  # a handoff service without a database (tests' fakes)
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_llm() -> None:
    """A generator served over the network answers its ping; one loaded in this process is ready
    by construction (the knowledge base refuses to start when it cannot load it)."""
    answerer = _installed_services().knowledge.answerer
    generator = getattr(answerer, "generator", None)
    ping = getattr(generator, "ping", None)
    if callable(ping):
        ping()


def readiness_checks(settings: ActionServerSettings) -> list[Check]:
    """What the actions need: the catalogue and the knowledge base of this process (required),
    the shared knowledge base store, the lead store and, when one is configured, the LLM
    (reported, not required: without them the forms go on, product questions get the polite
    refusal, handoffs say to retry; see common/readiness.py for the rule)."""
    checks = [
        Check("catalogue", check_catalogue),
        Check("embedding_model", check_embedding_model),
        Check("knowledge_store", check_knowledge_store, required=False),
        Check("lead_database", check_lead_database, required=False),
    ]
    if settings.knowledge.llm_model.strip() or settings.knowledge.llm_base_url:
        checks.append(Check("llm", check_llm, required=False))
    return checks


# ------------------------------------------------------------------ request ids and metrics


def _action_call(request: Any) -> dict[str, Any] | None:
    """The webhook's JSON body (rasa_sdk parses it again; `request.json` is cached)."""
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            body = json.loads(zlib.decompress(request.body))
        else:
            body = request.json
    except (ValueError, zlib.error):
        return None
    return body if isinstance(body, dict) else None


def webhook_request_id(action_call: dict[str, Any] | None) -> str:
    """The turn's id from the tracker Rasa sent (see common.logging.turn_request_id)."""
    if not action_call:
        return new_request_id()
    tracker = action_call.get("tracker") or {}
    latest = tracker.get("latest_message") or {}
    sender = tracker.get("sender_id")
    message_id = latest.get("message_id")
    return turn_request_id(str(sender) if sender else None, str(message_id) if message_id else None)


def _route(request: Any) -> str:
    route = getattr(request, "route", None)
    if route is None:
        return "unmatched"
    return "/" + str(route.path).lstrip("/")


def install_observability(app: Any, known_actions: Any) -> None:
    """Request ids in the logs, request and action metrics, on every request of `app`.
    `known_actions`: the executor's action names (a label never takes an unknown name)."""

    async def start(request: Any) -> None:
        request.ctx.started = time.perf_counter()
        request.ctx.action = None
        if request.path == "/webhook" and request.method == "POST":
            action_call = _action_call(request)
            name = (action_call or {}).get("next_action")
            request.ctx.action = name if name in known_actions else "unknown"
            request.ctx.request_id = webhook_request_id(action_call)
        else:
            request.ctx.request_id = new_request_id()
        # The handler runs in this task (and its threads get a copy of the context).
        request_id_var.set(request.ctx.request_id)

    async def finish(request: Any, response: Any) -> None:
        started = getattr(request.ctx, "started", None)
        if started is None:  # refused before the request middleware ran
            return
        elapsed = time.perf_counter() - started
        endpoint = _route(request)
        metrics.HTTP_REQUESTS.labels(SERVICE, request.method, endpoint, str(response.status)).inc()
        metrics.HTTP_REQUEST_DURATION.labels(SERVICE, request.method, endpoint).observe(elapsed)
        action = request.ctx.action
        if action is not None:
            outcome = _ACTION_OUTCOMES.get(response.status, "error")
            metrics.ACTIONS.labels(action, outcome).inc()
            metrics.ACTION_DURATION.labels(action).observe(elapsed)
        response.headers["X-Request-ID"] = request.ctx.request_id

    app.register_middleware(start, "request")
    app.register_middleware(finish, "response")


def create_app(executor: Any, settings: ActionServerSettings) -> Any:
    """rasa_sdk's app (webhook, health, tracing) plus the warm-up listener, `/ready`,
    `/metrics`, request ids and metrics."""
    from rasa_sdk.endpoint import create_app_for_serve
    from sanic import response

    app = create_app_for_serve(executor, cors_origins=[], endpoints="endpoints.yml")
    app.register_listener(partial(_warm_up, settings), "before_server_start")
    app.register_listener(partial(_start_spool_flush, settings), "after_server_start")
    checks = readiness_checks(settings)

    async def ready(_: Any) -> Any:
        result = await run_checks(SERVICE, checks, strict=settings.readiness_strict)
        return response.json(result.body, status=result.status_code)

    async def metrics_endpoint(_: Any) -> Any:
        body, content_type = metrics.exposition()
        return response.raw(body, content_type=content_type)

    async def forget_worker(_: Any) -> None:
        metrics.mark_worker_stopped(os.getpid())

    app.add_route(ready, "/ready", methods=["GET"])
    app.add_route(metrics_endpoint, "/metrics", methods=["GET"], name="metrics")
    app.register_listener(forget_worker, "after_server_stop")

    install_observability(app, frozenset(executor.actions))
    return app


def serve_app(executor: Any, settings: ActionServerSettings) -> Any:
    """The factory each Sanic worker runs: its logging (a spawned worker inherits none), then the
    app."""
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    return create_app(executor, settings)
