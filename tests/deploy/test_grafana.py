"""The Grafana dashboard (deploy/grafana/assistant-dashboard.json) reads only metrics that exist."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from common import metrics
from tests.deploy.helpers import DEPLOY

pytestmark = pytest.mark.unit

DASHBOARD = DEPLOY / "grafana" / "assistant-dashboard.json"
METRIC_NAME = re.compile(r"\bvergemont_[a-z0-9_]+\b")
# PromQL words that may stand before "(" or inside `by (…)`: not metric names.
PROMQL_WORDS = {
    "sum", "rate", "increase", "histogram_quantile", "topk", "clamp_min", "by", "le",
}  # fmt: skip


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def expressions() -> list[str]:
    return [
        target["expr"] for panel in dashboard()["panels"] for target in panel.get("targets", [])
    ]


def test_every_metric_the_dashboard_reads_is_defined() -> None:
    used = {name for expr in expressions() for name in METRIC_NAME.findall(expr)}
    assert used, "the dashboard reads no vergemont_ metric"
    assert used <= metrics.series_names(), sorted(used - metrics.series_names())


def test_every_expression_reads_only_our_metrics() -> None:
    # Any other identifier followed by `[` or `{` or standing alone would be a metric from
    # elsewhere, which this repository cannot promise.
    for expr in expressions():
        stripped = re.sub(r'"[^"]*"', '""', expr)  # label values
        stripped = re.sub(r"\{[^}]*\}", "{}", stripped)  # label matchers
        stripped = re.sub(r"\[[^\]]*\]", "[]", stripped)  # ranges
        stripped = re.sub(r"by \([^)]*\)", "by ()", stripped)  # grouping labels
        stripped = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "0", stripped)  # numbers (1e-9)
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", stripped))
        foreign = words - PROMQL_WORDS - set(METRIC_NAME.findall(stripped))
        assert not foreign, (expr, foreign)


def test_the_issues_views_are_there() -> None:
    text = " ".join(expressions())
    for view in (
        "vergemont_turns_total",  # turn rate
        "vergemont_action_duration_seconds_bucket",  # action latency
        "vergemont_answers_total",  # answer modes
        "vergemont_handoffs_total",  # handoffs
        'status=~"5..',  # errors
        'vergemont_http_request_duration_seconds_bucket{service="webapp"}',  # web app latency
    ):
        assert view in text, view
    p95_per_action = "histogram_quantile(0.95, sum by (le, action) (rate(vergemont_action_duration"
    assert p95_per_action in text


def test_panels_use_the_datasource_variable_and_have_unique_ids() -> None:
    board = dashboard()
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
