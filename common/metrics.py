"""The Prometheus metrics of the assistant, in one place: the objects, and one-line helpers for
the call sites in the actions and the knowledge base.

Every server exposes what its own process recorded on `/metrics` (`exposition`): the action
server its webhook calls, actions, answers, handoffs and recommendations; the web app its HTTP
requests; the Rasa server (channels/ops.py) its turns. The Grafana dashboard
(deploy/grafana/assistant-dashboard.json) reads these names, and a test checks that each name it
uses is defined here.

Several worker processes behind one port (the action server's Sanic workers) each count their
own calls: set PROMETHEUS_MULTIPROC_DIR to an empty directory, the same for every worker, before
they start (`python -m actions` does it when it runs several workers), and `/metrics` then adds
up the files every worker writes there (prometheus_client's multiprocess mode). No gauge is
defined here, so the sums need no per-metric mode.

Label values are closed sets (action names the executor knows, answer modes, outcomes, product
codes of the catalogue): never a conversation id, a question or anything a user typed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "vergemont_"

# Seconds: from a few milliseconds (a form slot) to the LLM's time limit (20 s by default).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)

HTTP_REQUESTS = Counter(
    f"{PREFIX}http_requests_total",
    "HTTP requests served, by server, method, route and status code.",
    ["service", "method", "endpoint", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    f"{PREFIX}http_request_duration_seconds",
    "Time to answer an HTTP request, by server, method and route.",
    ["service", "method", "endpoint"],
    buckets=LATENCY_BUCKETS,
)
TURNS = Counter(
    f"{PREFIX}turns_total",
    "User messages handled by the Rasa server, by input channel and outcome (ok, error).",
    ["channel", "outcome"],
)
TURN_DURATION = Histogram(
    f"{PREFIX}turn_duration_seconds",
    "Time the Rasa server takes to handle a user message (NLU, policies, actions), by channel.",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
ACTIONS = Counter(
    f"{PREFIX}actions_total",
    "Custom action calls, by action and outcome (ok, rejected, not_found, missing_domain, error).",
    ["action", "outcome"],
)
ACTION_DURATION = Histogram(
    f"{PREFIX}action_duration_seconds",
    "Time the action server takes to run one custom action call, by action.",
    ["action"],
    buckets=LATENCY_BUCKETS,
)
ANSWERS = Counter(
    f"{PREFIX}answers_total",
    "Answers to product questions, by mode (generative, extractive, refusal, unavailable).",
    ["mode"],
)
LLM_FALLBACKS = Counter(
    f"{PREFIX}llm_fallbacks_total",
    "LLM answers replaced by the extractive answer, by reason (error: the model failed or "
    "timed out; rejected: validation refused its answer).",
    ["reason"],
)
HANDOFFS = Counter(
    f"{PREFIX}handoffs_total",
    "Handoffs to an advisor, by outcome (stored: the lead is in the store; failed).",
    ["outcome"],
)
RECOMMENDATIONS = Counter(
    f"{PREFIX}recommendations_total",
    "Recommendations shown, by outcome (products, advisor: products and an advisor is "
    "required, none: no product fits).",
    ["outcome"],
)
RECOMMENDED_PRODUCTS = Counter(
    f"{PREFIX}recommended_products_total",
    "Products shown in recommendations, by product code.",
    ["product"],
)

# Every metric of this module (the dashboard test reads the names from here).
ALL_METRICS = (
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
    TURNS,
    TURN_DURATION,
    ACTIONS,
    ACTION_DURATION,
    ANSWERS,
    LLM_FALLBACKS,
    HANDOFFS,
    RECOMMENDATIONS,
    RECOMMENDED_PRODUCTS,
)


def series_names() -> frozenset[str]:
    """Every time-series name Prometheus stores for these metrics (a histogram's `_bucket`,
    `_sum` and `_count`, a counter's `_total`, and `_created`)."""
    names: set[str] = set()
    for metric in ALL_METRICS:
        for family in metric.describe():
            for sample_suffix in ("", "_total", "_bucket", "_sum", "_count", "_created"):
                names.add(family.name + sample_suffix)
    return frozenset(names)


# ------------------------------------------------------------------ the call sites' one-liners


def record_answer(mode: str) -> None:
    """An answer given to a product question (actions/answer.py)."""
    ANSWERS.labels(mode=mode).inc()


def record_llm_fallback(notes: Iterable[str]) -> None:
    """The LLM's answer was not used (knowledge/answering.py): `notes` are the answer's notes,
    `llm_failed` or `validation_rejected: …`."""
    for note in notes:
        if note == "llm_failed":
            LLM_FALLBACKS.labels(reason="error").inc()
        elif note.startswith("validation_rejected"):
            LLM_FALLBACKS.labels(reason="rejected").inc()


def record_handoff(stored: bool) -> None:
    """A handoff attempt (actions/handoff.py): the lead stored, or the store failed."""
    HANDOFFS.labels(outcome="stored" if stored else "failed").inc()


def record_recommendation(product_codes: Iterable[str], advisor_required: bool) -> None:
    """A recommendation shown (actions/recommend.py), with the products it lists."""
    codes = list(product_codes)
    outcome = "none" if not codes else "advisor" if advisor_required else "products"
    RECOMMENDATIONS.labels(outcome=outcome).inc()
    for code in codes:
        RECOMMENDED_PRODUCTS.labels(product=code).inc()


# ------------------------------------------------------------------ exposition


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def exposition() -> tuple[bytes, str]:
    """The text `/metrics` answers, and its content type: this process's metrics, or every
    worker's added up when PROMETHEUS_MULTIPROC_DIR is set."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def reset_multiprocess_dir(directory: Path) -> None:
    """Empty (or create) the directory the workers will write to: counts of a previous run
    must not be added to this one's. Called once, by the process that starts the workers,
    before any of them starts."""
    if directory.exists():
        for entry in directory.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)


def mark_worker_stopped(pid: int) -> None:
    """A worker stopped: prometheus_client's clean-up of its live files (none today, no gauge;
    kept so that adding a live gauge needs no change in the servers)."""
    if multiprocess_dir() is not None:
        _multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
