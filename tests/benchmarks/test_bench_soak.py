"""The soak benchmark's arithmetic (benchmarks/bench_soak.py): percentiles, memory growth against
the 10 % bar, leads expected against the lead store, and the verdict."""

from __future__ import annotations

import dataclasses
import os

import pytest

from benchmarks.bench_soak import (
    MIB,
    Journey,
    SoakRun,
    lead_check,
    markdown,
    memory_growth,
    per_minute,
    percentile,
    process_tree_rss,
    report,
    technical_problem_text,
)

pytestmark = pytest.mark.unit


def soak_run(**overrides: object) -> SoakRun:
    """Four journeys: two finished with an advisor, one finished without, one cut short."""
    values: dict[str, object] = {
        "people": 2,
        "replicas": 1,
        "seconds": 60.0,
        "drain_seconds": 20.0,
        "journeys": [
            Journey("rest:a", asked_for_advisor=True, finished=True, turns=20),
            Journey("rest:b", asked_for_advisor=True, finished=True, turns=20),
            Journey("rest:c", asked_for_advisor=False, finished=True, turns=16),
            Journey("rest:d", asked_for_advisor=True, finished=False, error="JourneyError: x"),
        ],
        "latencies_s": [0.1, 0.2, 0.3, 0.4],
        "empty_replies": 0,
        "apologies": 0,
        "transport_failures": 0,
        "leads": {"rest:a": ["VG-A"], "rest:b": ["VG-B"], "rest:warm-up": ["VG-W"]},
        "memory_start": {"A: Rasa server": 400 * MIB, "A: action server": 200 * MIB},
        "memory_end": {"A: Rasa server": 420 * MIB, "A: action server": 210 * MIB},
        "memory_peak": {"A: Rasa server": 430 * MIB, "A: action server": 190 * MIB},
        "memory_first": {"A: Rasa server": 350 * MIB, "A: action server": 200 * MIB},
    }
    values.update(overrides)
    return SoakRun(**values)  # type: ignore[arg-type]


class TestArithmetic:
    def test_the_percentile_is_the_nearest_rank(self) -> None:
        values = [float(n) for n in range(1, 21)]
        assert percentile(values, 0.95) == 19.0
        assert percentile(values, 0.5) == 10.0
        assert percentile([3.0, 1.0, 2.0], 1.0) == 3.0
        assert percentile([], 0.95) == 0.0

    def test_memory_growth_is_relative_to_the_start(self) -> None:
        growth = memory_growth({"rasa": 400, "actions": 200, "gone": 0}, {"rasa": 440})
        assert growth == {"rasa": pytest.approx(0.10), "actions": -1.0}

    def test_one_memory_sample_per_minute_and_the_last(self) -> None:
        series = [(float(t), {"rasa": t}) for t in range(0, 200, 15)]
        kept = per_minute(series)
        assert [seconds for seconds, _ in kept] == [0.0, 60.0, 120.0, 180.0, 195.0]
        assert kept[-1][1] == {"rasa": 195}
        assert per_minute([]) == []

    def test_each_finished_advisor_journey_needs_exactly_one_lead(self) -> None:
        journeys = soak_run().journeys
        assert lead_check(journeys, {"rest:a": ["VG-A"], "rest:b": ["VG-B"]}) == (2, 2, [])
        expected, found, wrong = lead_check(
            journeys, {"rest:a": ["VG-A", "VG-A2"], "rest:c": ["VG-C"], "rest:d": ["VG-D"]}
        )
        assert (expected, found) == (2, 2)  # the right total, from the wrong journeys
        assert wrong == [
            "rest:a: 2 leads, 1 expected",
            "rest:b: 0 leads, 1 expected",
            "rest:c: 1 leads, none expected",
        ]


class TestReport:
    def test_a_clean_run_passes_and_counts_what_happened(self) -> None:
        result = report(soak_run(journeys=soak_run().journeys[:3]))
        assert result["passed"] is True
        assert result["turns"] == 4
        assert result["turns_per_second"] == 0.05  # 4 turns in 60 + 20 s
        assert result["latency_ms"] == {"median": 250.0, "p95": 400.0, "max": 400.0}
        assert (result["journeys_started"], result["journeys_finished"]) == (3, 3)
        assert (result["leads_expected"], result["leads_found"]) == (2, 2)
        assert result["leads_in_database"] == 3
        assert result["memory"]["A: Rasa server"] == {
            "start_mib": 400.0,
            "end_mib": 420.0,
            "peak_mib": 430.0,
            "growth": 0.05,
            "first_mib": 350.0,
            "growth_from_first": 0.2,
        }
        assert result["memory"]["A: action server"]["peak_mib"] == 200.0  # never below start

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({}, "a journey failed"),
            ({"empty_replies": 1}, "an empty reply"),
            ({"apologies": 1}, "an apology"),
            ({"memory_end": {"A: Rasa server": 441 * MIB, "A: action server": 200 * MIB}}, "10 %"),
            ({"leads": {"rest:a": ["VG-A"]}}, "a lead missing"),
        ],
    )
    def test_any_loss_or_growth_fails_the_run(self, change: dict[str, object], reason: str) -> None:
        journeys = soak_run().journeys if reason == "a journey failed" else soak_run().journeys[:3]
        result = report(dataclasses.replace(soak_run(journeys=journeys), **change))
        assert result["passed"] is False, reason

    def test_the_markdown_shows_the_verdict_and_every_server(self) -> None:
        text = markdown(report(soak_run()))
        assert "**FAILED**" in text
        assert "| A: Rasa server | 350.0 | 400.0 | 420.0 | 430.0 | +5.0% | +20.0% |" in text
        assert "- error: JourneyError: x" in text

    def test_the_markdown_lists_memory_minute_by_minute(self) -> None:
        series = [(0.0, {"A: Rasa server": 350 * MIB}), (61.0, {"A: Rasa server": 400 * MIB})]
        text = markdown(report(soak_run(memory_series=series)))
        assert "| 1.0 | 400.0 |" in text


class TestMeasures:
    def test_the_memory_of_a_process_tree_includes_this_process(self) -> None:
        assert process_tree_rss(os.getpid()) > 10 * MIB

    def test_the_apology_is_read_from_the_channels(self) -> None:
        assert technical_problem_text().startswith("Je rencontre un problème technique")
