"""Readiness checks run together (common/readiness.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from common.readiness import Check, NotReadyError, run_checks, strict_from

pytestmark = pytest.mark.unit


def fine() -> None:
    return None


def refused() -> None:
    raise NotReadyError("the store is empty")


def leaky() -> None:
    raise ConnectionError("postgresql://admin:secret@db/leads refused")


def slow() -> None:
    time.sleep(1.0)


class TestRunChecks:
    def test_every_required_check_passing_is_ready(self) -> None:
        result = asyncio.run(run_checks("svc", [Check("a", fine), Check("b", fine)]))
        assert result.status_code == 200
        assert result.body["status"] == "ready"
        assert result.body["checks"]["a"]["ok"] is True

    def test_a_failed_required_check_is_503_with_its_reason(self) -> None:
        result = asyncio.run(run_checks("svc", [Check("a", fine), Check("store", refused)]))
        assert result.status_code == 503
        assert result.body["status"] == "not_ready"
        assert result.body["checks"]["store"]["reason"] == "the store is empty"

    def test_a_driver_message_is_reduced_to_its_type(self) -> None:
        result = asyncio.run(run_checks("svc", [Check("db", leaky)]))
        assert result.body["checks"]["db"]["reason"] == "ConnectionError"
        assert "secret" not in str(result.body)

    def test_an_optional_failure_is_degraded_but_ready(self) -> None:
        result = asyncio.run(run_checks("svc", [Check("a", fine), Check("llm", leaky, False)]))
        assert result.status_code == 200
        assert result.body["status"] == "degraded"
        assert result.body["checks"]["llm"]["required"] is False

    def test_strict_makes_every_check_required(self) -> None:
        checks = [Check("a", fine), Check("llm", leaky, False)]
        assert asyncio.run(run_checks("svc", checks, strict=True)).status_code == 503
        assert strict_from({"READINESS_STRICT": "True"}) is True
        assert strict_from({}) is False

    def test_checks_run_concurrently_and_time_out(self) -> None:
        started = time.perf_counter()
        checks = [Check("s1", slow, timeout_s=0.2), Check("s2", slow, timeout_s=0.2)]
        result = asyncio.run(run_checks("svc", checks))
        assert time.perf_counter() - started < 1.9
        assert result.body["checks"]["s1"]["reason"] == "timed out"
        assert result.status_code == 503
