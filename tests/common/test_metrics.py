"""The metrics module (common/metrics.py): call-site helpers, series names, multiprocess files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from common import metrics

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestCallSites:
    def test_llm_fallbacks_are_told_apart_by_reason(self) -> None:
        error, rejected = (
            value("vergemont_llm_fallbacks_total", reason="error"),
            value("vergemont_llm_fallbacks_total", reason="rejected"),
        )
        metrics.record_llm_fallback(["llm_failed"])
        metrics.record_llm_fallback(["validation_rejected: low overlap"])
        metrics.record_llm_fallback([])  # nothing replaced: nothing counted
        assert value("vergemont_llm_fallbacks_total", reason="error") == error + 1
        assert value("vergemont_llm_fallbacks_total", reason="rejected") == rejected + 1

    def test_a_recommendation_counts_its_outcome_and_each_product(self) -> None:
        none = value("vergemont_recommendations_total", outcome="none")
        advisor = value("vergemont_recommendations_total", outcome="advisor")
        pet = value("vergemont_recommended_products_total", product="TEST-PET")
        metrics.record_recommendation([], advisor_required=True)
        metrics.record_recommendation(["TEST-PET", "TEST-HOME"], advisor_required=True)
        assert value("vergemont_recommendations_total", outcome="none") == none + 1
        assert value("vergemont_recommendations_total", outcome="advisor") == advisor + 1
        assert value("vergemont_recommended_products_total", product="TEST-PET") == pet + 1

    def test_handoffs_and_answers(self) -> None:
        failed = value("vergemont_handoffs_total", outcome="failed")
        refusals = value("vergemont_answers_total", mode="refusal")
        metrics.record_handoff(stored=False)
        metrics.record_answer("refusal")
        assert value("vergemont_handoffs_total", outcome="failed") == failed + 1
        assert value("vergemont_answers_total", mode="refusal") == refusals + 1


class TestNames:
    def test_every_series_name_carries_the_prefix(self) -> None:
        names = metrics.series_names()
        assert "vergemont_action_duration_seconds_bucket" in names
        assert "vergemont_turns_total" in names
        assert all(name.startswith(metrics.PREFIX) for name in names)

    def test_the_exposition_is_prometheus_text(self) -> None:
        metrics.record_answer("extractive")
        body, content_type = metrics.exposition()
        assert content_type.startswith("text/plain")
        assert b'vergemont_answers_total{mode="extractive"}' in body


class TestMultiprocess:
    def test_reset_empties_a_previous_runs_files(self, tmp_path: Path) -> None:
        (tmp_path / "counter_1.db").write_bytes(b"old")
        (tmp_path / "sub").mkdir()
        metrics.reset_multiprocess_dir(tmp_path)
        assert list(tmp_path.iterdir()) == []
        metrics.reset_multiprocess_dir(tmp_path / "new")
        assert (tmp_path / "new").is_dir()

    def test_two_processes_counts_add_up_in_one_exposition(self, tmp_path: Path) -> None:
        # Each process picks its value storage when prometheus_client is imported: fresh ones.
        script = textwrap.dedent(
            """
            import sys
            from common import metrics
            for _ in range(int(sys.argv[1])):
                metrics.record_handoff(stored=True)
            if sys.argv[2] == "print":
                sys.stdout.write(metrics.exposition()[0].decode())
            """
        )
        environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

        def run(count: int, mode: str) -> str:
            return subprocess.run(
                [sys.executable, "-c", script, str(count), mode],
                cwd=ROOT,
                env=environment,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout

        run(3, "quiet")
        text = run(2, "print")
        [line] = [
            line
            for line in text.splitlines()
            if line.startswith('vergemont_handoffs_total{outcome="stored"}')
        ]
        assert float(line.split()[-1]) == 5.0
