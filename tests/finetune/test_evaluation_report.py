"""docs/finetune-report.md from a tiny fake run set: every figure from its run, nothing invented."""

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finetune.bootstrap import BootstrapSettings
from finetune.report import evaluation_report
from finetune.runs import RunResult, RunSpec, RunState, write_run

pytestmark = pytest.mark.unit

SETTINGS = BootstrapSettings(resamples=1000, seed=0)


def _spec(name: str) -> RunSpec:
    def nothing() -> Any:
        raise AssertionError("the report never runs anything")

    return RunSpec(name, name, f"python -m finetune report --rerun {name}", nothing, nothing)


class FakeRunSet:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs_dir = root / ".run" / "finetune" / "eval"
        self.states: list[RunState] = []

    def add(
        self, name: str, metrics: dict[str, Any], rows: list[dict[str, Any]], **kw: Any
    ) -> None:
        spec = _spec(name)
        result = RunResult(metrics, rows, **kw)
        prints = {"files": {"data": "ab" * 32}, "options": {"limit": None}}
        run = write_run(self.runs_dir / name, spec, result, prints, started=0.0, seconds=1.0)
        self.states.append(RunState(spec, run))

    def missing(self, name: str, reason: str) -> None:
        self.states.append(RunState(_spec(name), None, reason=reason))

    def report(self) -> tuple[str, dict[str, Any]]:
        out = self.root / "docs" / "finetune-report.md"
        result = evaluation_report(
            self.states,
            out,
            settings=SETTINGS,
            repository=self.root,
            command="make finetune-report",
        )
        return out.read_text(encoding="utf-8"), result


def retrieval_rows(hits: list[int], sources: list[str]) -> list[dict[str, Any]]:
    return [
        {"id": f"q{i}", "source": s, "rank": 1 if h else None, "hit@4": float(h), "rr@4": float(h)}
        for i, (h, s) in enumerate(zip(hits, sources, strict=True))
    ]


def generation_rows(rouge: list[float], refused_unanswerable: list[bool]) -> list[dict[str, Any]]:
    rows = [
        {
            "id": f"a{i}",
            "source": "own" if i % 2 else "piaf",
            "answerable": True,
            "refused": False,
            "grounded": True,
            "rouge_l": value,
            "bertscore_f1": 0.6 + value / 4,
        }
        for i, value in enumerate(rouge)
    ]
    rows += [
        {
            "id": f"u{i}",
            "source": "unanswerable",
            "answerable": False,
            "refused": refused,
            "grounded": None if refused else True,
            "rouge_l": None,
        }
        for i, refused in enumerate(refused_unanswerable)
    ]
    return rows


@pytest.fixture
def runs(tmp_path: Path) -> FakeRunSet:
    rng = np.random.default_rng(0)
    fake = FakeRunSet(tmp_path)
    sources = ["piaf"] * 240 + ["own"] * 80
    base_hits = (rng.random(320) < 0.6).astype(int).tolist()
    tuned_hits = [1 if (h or rng.random() < 0.5) else 0 for h in base_hits]  # clearly better
    fake.add("retriever-base", {"all": {"hit@4": 0.6}}, retrieval_rows(base_hits, sources))
    fake.add(
        "bi-encoder-training",
        {"pairs": 3000, "steps": 180, "loss_first_window": 1.2, "loss_last_window": 0.4},
        [{"id": "step-1", "loss": 1.2}],
    )
    fake.add("retriever-finetuned", {}, retrieval_rows(tuned_hits, sources))
    fake.missing("cross-encoder", "not available: no artifact")
    items = [{"id": f"a{i}", "source": "own" if i % 2 else "piaf"} for i in range(120)]
    items += [{"id": f"u{i}", "source": "unanswerable"} for i in range(40)]
    fake.add(
        "generation-inputs",
        {"by_source": {"own": 60, "piaf": 60, "unanswerable": 40}, "passages_per_item": 2},
        items,
    )
    extractive = rng.uniform(0.1, 0.4, 120).tolist()
    fake.add(
        "generator-extractive",
        {"latency_p50_s": 0.01, "latency_p95_s": 0.02},
        generation_rows(extractive, [True] * 10 + [False] * 30),
    )
    fake.add(
        "generator-gemma-base",
        {"latency_p50_s": 2.0, "latency_p95_s": 6.5, "tokens_per_s": 14.2},
        generation_rows([v * 0.5 for v in extractive], [True] * 30 + [False] * 10),
    )
    fake.missing("generator-gemma-lora", "no fine-tuned adapter at knowledge/artifacts/x.gguf")
    return fake


class TestEvaluationReport:
    def test_each_retriever_has_its_own_row_and_a_missing_one_says_why(
        self, runs: FakeRunSet
    ) -> None:
        text, _ = runs.report()
        rows = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| ")}
        assert "| multilingual-e5-small (base bi-encoder)" in rows
        assert "| fine-tuned bi-encoder" in rows
        cross_encoder = rows["| base hybrid top 12 + cross-encoder reranker"]
        assert "| not available: no artifact |" in cross_encoder
        assert "%" not in cross_encoder
        assert "Improvement" not in text
        assert "better of" not in text

    def test_a_clear_gain_is_adopted_with_its_interval(self, runs: FakeRunSet) -> None:
        text, result = runs.report()
        decision = result["decision"]
        assert decision["adopt"] is True
        assert decision["difference"]["hit@4"]["low"] > 0
        assert "**meets the adoption rule**" in text
        # The line says which model the committed settings embed with (the fine-tuned one).
        assert "default embedder is `finetuned/multilingual-e5-small`" in text
        # the difference's interval is printed in bold: it excludes 0
        assert re.search(r"\| fine-tuned − base \| \*\*\+\d+\.\d pts \[\+\d", text)

    def test_every_figure_names_its_run_directory(self, runs: FakeRunSet) -> None:
        text, _ = runs.report()
        assert (
            "[`.run/finetune/eval/retriever-base/`](../.run/finetune/eval/retriever-base/)" in text
        )
        assert "`python -m finetune report --rerun generator-gemma-base`" in text

    def test_a_model_that_has_not_run_gets_no_figure(self, runs: FakeRunSet) -> None:
        text, _ = runs.report()
        row = next(line for line in text.splitlines() if line.startswith("| Gemma 3 270M + fine"))
        assert "not run: no fine-tuned adapter" in row
        assert "%" not in row
        difference = next(
            line for line in text.splitlines() if line.startswith("| fine-tuned Gemma − base")
        )
        assert "%" not in difference
        assert "pts" not in difference
        assert "**not decided**" in text

    def test_generator_rows_and_paired_differences(self, runs: FakeRunSet) -> None:
        text, _ = runs.report()
        base = next(line for line in text.splitlines() if line.startswith("| Gemma 3 270M, base"))
        assert "2.00 / 6.50" in base
        assert "14.2" in base
        # base Gemma halves the extractive ROUGE-L on every item: a difference shown in bold
        diff = next(
            line for line in text.splitlines() if line.startswith("| base Gemma − extractive")
        )
        assert re.search(r"\| \*\*-\d+\.\d pts \[-\d+\.\d, -\d+\.\d\]\*\* \|", diff)

    @pytest.mark.parametrize(
        ("reader_scale", "verdict"),
        [(0.5, "**met**"), (1.5, "**not met**")],
    )
    def test_the_target_needs_the_tuned_generator_above_every_other_answer(
        self, tmp_path: Path, reader_scale: float, verdict: str
    ) -> None:
        """Above the base Gemma and the sentence extraction is not enough: the span reader too."""
        rng = np.random.default_rng(1)
        fake = FakeRunSet(tmp_path)
        items = [{"id": f"a{i}", "source": "own" if i % 2 else "piaf"} for i in range(120)]
        items += [{"id": f"u{i}", "source": "unanswerable"} for i in range(40)]
        fake.add("generation-inputs", {"by_source": {}, "passages_per_item": 2}, items)
        tuned = rng.uniform(0.3, 0.6, 120).tolist()
        refusals = [True] * 30 + [False] * 10
        fake.add("generator-gemma-lora", {}, generation_rows(tuned, refusals))
        fake.add("generator-gemma-base", {}, generation_rows([v / 3 for v in tuned], refusals))
        fake.add("generator-extractive", {}, generation_rows([v / 2 for v in tuned], refusals))
        reader = [min(1.0, v * reader_scale) for v in tuned]
        fake.add("generator-reader", {}, generation_rows(reader, refusals))
        text, _ = fake.report()
        line = next(line for line in text.splitlines() if line.startswith("Target:"))
        assert line.startswith(f"Target: {verdict}")
        assert "better than the span reader: " + ("yes" if verdict == "**met**" else "no") in line

    def test_a_smoke_run_is_said_to_be_one(self, runs: FakeRunSet, tmp_path: Path) -> None:
        spec = _spec("retriever-base")
        prints = {"files": {}, "options": {"limit": 20}}
        run = write_run(
            tmp_path / "smoke" / "retriever-base",
            spec,
            RunResult({}, []),
            prints,
            started=0.0,
            seconds=1.0,
        )
        runs.states[0] = RunState(spec, run)
        text, _ = runs.report()
        assert "Smoke run: the question sets themselves are cut (`--limit`: retriever-base 20)" in (
            text
        )

    def test_a_run_on_a_subset_says_its_size_and_is_not_a_smoke_run(
        self, runs: FakeRunSet, tmp_path: Path
    ) -> None:
        spec = _spec("generator-gemma-base")
        prints = {"files": {}, "options": {"limit": 60}}
        rows = generation_rows([0.2] * 40, [True] * 20)
        run = write_run(
            tmp_path / "subset" / "generator-gemma-base",
            spec,
            RunResult({}, rows),
            prints,
            started=0.0,
            seconds=1.0,
        )
        runs.states = [s if s.spec.name != spec.name else RunState(spec, run) for s in runs.states]
        text, _ = runs.report()
        assert "Smoke run" not in text
        assert "generator-gemma-base (60)" in text
        row = next(line for line in text.splitlines() if line.startswith("| Gemma 3 270M, base"))
        assert "| 40 / 20 |" in row

    def test_calibration_writes_a_reliability_diagram(self, runs: FakeRunSet) -> None:
        rng = np.random.default_rng(1)
        confidence = rng.random(220)
        rows = [
            {
                "id": f"c{i}",
                "source": "own",
                "answerable": True,
                "confidence": float(c),
                "correct": bool(rng.random() < c),
            }
            for i, c in enumerate(confidence)
        ]
        runs.add("calibration-reader", {"correct": "right page"}, rows)
        text, _ = runs.report()
        assert "220 answers of the reader" in text
        match = re.search(
            r"expected calibration error \(10 equal-width bins\): \*\*(0\.\d+)\*\*", text
        )
        assert match
        assert float(match.group(1)) < 0.15
        png = runs.root / "docs" / "finetune-report-reliability.png"
        assert png.read_bytes().startswith(b"\x89PNG")

    def test_robustness_drops_are_paired_with_their_originals(self, runs: FakeRunSet) -> None:
        rows = []
        for i in range(120):
            rows.append(
                {
                    "id": f"o{i}:original",
                    "origin": f"o{i}",
                    "variant": "original",
                    "source": "own",
                    "hit@4": 1.0,
                }
            )
            rows.append(
                {
                    "id": f"o{i}:typos",
                    "origin": f"o{i}",
                    "variant": "typos",
                    "source": "own",
                    "hit@4": float(i % 2),
                }
            )
        runs.add("robustness-base", {}, rows)
        text, _ = runs.report()
        typos = next(line for line in text.splitlines() if line.startswith("| typos"))
        assert "**-50.0 pts" in typos

    def test_a_failed_training_run_is_reported_as_failed(self, runs: FakeRunSet) -> None:
        runs.states = [s for s in runs.states if s.spec.name != "bi-encoder-training"]
        runs.add(
            "bi-encoder-training",
            {"loss_first_window": 0.69, "loss_last_window": 0.69},
            [],
            status="failed",
            reason="the training loss did not fall (0.693 → 0.693)",
        )
        text, _ = runs.report()
        assert "**failed run**" in text
        record = json.loads(
            (runs.runs_dir / "bi-encoder-training" / "run.json").read_text(encoding="utf-8")
        )
        assert record["status"] == "failed"
