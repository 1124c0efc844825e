"""The orchestration of the report's runs, on a tiny fake run set (no model)."""

import json
from pathlib import Path
from typing import Any

import pytest

from finetune.runs import (
    MissingInputError,
    RunResult,
    RunSpec,
    load_run,
    orchestrate,
)

pytestmark = pytest.mark.unit


class FakeRuns:
    """Two runs over a data file; the second reads the first's output. Counts what ran."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data.jsonl"
        self.data.write_text('{"q": 1}\n', encoding="utf-8")
        self.runs_dir = root / "runs"
        self.calls: list[str] = []
        self.fail: set[str] = set()

    def specs(self) -> list[RunSpec]:
        def first_inputs() -> tuple[dict[str, Path], dict[str, Any]]:
            return {"data": self.data}, {"k": 4}

        def first(directory: Path) -> RunResult:
            self.calls.append("first")
            if "first" in self.fail:
                raise RuntimeError("disk full")
            (directory / "model.bin").parent.mkdir(parents=True, exist_ok=True)
            (directory / "model.bin").write_bytes(b"weights")
            return RunResult(
                {"hit@4": 0.5}, [{"id": "q1", "hit@4": 1.0}, {"id": "q2", "hit@4": 0.0}]
            )

        def second_inputs() -> tuple[dict[str, Path], dict[str, Any]]:
            run = load_run(self.runs_dir / "first")
            if run is None:
                raise MissingInputError("the first run has not run")
            return {"model": run.directory / "model.bin"}, {}

        def second(directory: Path) -> RunResult:
            self.calls.append("second")
            return RunResult({"loss": 1.0}, status="failed", reason="the loss did not fall")

        return [
            RunSpec("first", "first run", "python -m x --rerun first", first_inputs, first),
            RunSpec("second", "second run", "python -m x --rerun second", second_inputs, second),
        ]


@pytest.fixture
def fake(tmp_path: Path) -> FakeRuns:
    return FakeRuns(tmp_path)


class TestOrchestration:
    def test_missing_runs_run_in_order_and_write_their_directory(self, fake: FakeRuns) -> None:
        states = orchestrate(fake.specs(), fake.runs_dir, invocation="python -m x --limit 3")
        assert fake.calls == ["first", "second"]
        assert [s.ran for s in states] == [True, True]
        record = json.loads((fake.runs_dir / "first" / "run.json").read_text(encoding="utf-8"))
        assert record["command"] == "python -m x --rerun first"
        assert record["invocation"] == "python -m x --limit 3"
        assert record["inputs"]["options"] == {"k": 4}
        assert len(record["inputs"]["files"]["data"]) == 64  # a SHA-256
        assert record["machine"]["cores"] >= 1
        lines = (fake.runs_dir / "first" / "predictions.jsonl").read_text().splitlines()
        assert [json.loads(line)["id"] for line in lines] == ["q1", "q2"]

    def test_up_to_date_runs_are_collected_not_run_again(self, fake: FakeRuns) -> None:
        orchestrate(fake.specs(), fake.runs_dir)
        fake.calls.clear()
        states = orchestrate(fake.specs(), fake.runs_dir)
        assert fake.calls == []
        assert [s.ran for s in states] == [False, False]
        assert states[0].run is not None
        assert states[0].run.metrics == {"hit@4": 0.5}

    def test_changed_data_reruns_the_run_that_reads_it(self, fake: FakeRuns) -> None:
        orchestrate(fake.specs(), fake.runs_dir)
        fake.calls.clear()
        fake.data.write_text('{"q": 2}\n', encoding="utf-8")
        orchestrate(fake.specs(), fake.runs_dir)
        # the second run's input (the first's model file) is byte-identical: collected
        assert fake.calls == ["first"]

    def test_collect_only_runs_nothing_and_flags_stale_runs(self, fake: FakeRuns) -> None:
        orchestrate(fake.specs(), fake.runs_dir)
        fake.calls.clear()
        fake.data.write_text('{"q": 3}\n', encoding="utf-8")
        states = orchestrate(fake.specs(), fake.runs_dir, collect_only=True)
        assert fake.calls == []
        assert states[0].stale
        assert not states[1].stale

    def test_a_forced_rerun_runs_again(self, fake: FakeRuns) -> None:
        orchestrate(fake.specs(), fake.runs_dir)
        fake.calls.clear()
        orchestrate(fake.specs(), fake.runs_dir, rerun=["second"])
        assert fake.calls == ["second"]

    def test_a_run_without_its_input_is_reported_not_run_with_the_reason(
        self, fake: FakeRuns
    ) -> None:
        states = orchestrate(fake.specs(), fake.runs_dir, only=["second"])
        assert fake.calls == []
        assert states[0].run is None
        assert states[0].reason == "no run directory yet"
        assert states[1].run is None
        assert states[1].reason == "the first run has not run"

    def test_a_run_that_raises_loses_nothing_else(self, fake: FakeRuns) -> None:
        fake.fail.add("first")
        states = orchestrate(fake.specs(), fake.runs_dir)
        assert states[0].run is None
        assert "disk full" in states[0].reason
        assert not (fake.runs_dir / "first" / "run.json").exists()
        assert states[1].reason == "the first run has not run"

    def test_a_failed_run_is_recorded_as_failed(self, fake: FakeRuns) -> None:
        states = orchestrate(fake.specs(), fake.runs_dir)
        assert states[1].run is not None
        assert states[1].run.status == "failed"
        assert states[1].run.record["reason"] == "the loss did not fall"

    def test_an_interrupted_run_without_its_record_runs_again(self, fake: FakeRuns) -> None:
        orchestrate(fake.specs(), fake.runs_dir)
        (fake.runs_dir / "first" / "run.json").unlink()
        fake.calls.clear()
        orchestrate(fake.specs(), fake.runs_dir)
        assert fake.calls[0] == "first"
