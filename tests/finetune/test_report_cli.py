"""`python -m finetune report` on empty run directories: every row says it has not run."""

from pathlib import Path

import pytest

from finetune.__main__ import main
from finetune.eval_runs import EvalOptions
from knowledge.eval.splits import PIAF_FILE

pytestmark = pytest.mark.unit


def test_collecting_nothing_writes_a_report_of_runs_that_have_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "docs" / "finetune-report.md"
    status = main(
        [
            "report",
            "--collect-only",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--out",
            str(out),
            "--adapter",
            str(tmp_path / "no-adapter.gguf"),
        ]
    )
    assert status == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Fine-tuning and evaluation report")
    assert "%" not in text.split("## Runs")[0].replace("95 %", "")  # no figure without a run
    # The reason is the first input found missing: PIAF beside the checkout, then the built
    # corpus (a fresh clone has not built it), then the run directory itself.
    corpus = EvalOptions(runs_dir=tmp_path / "runs").corpus_dir
    if not PIAF_FILE.is_file():
        reason = "PIAF not found"
    elif not any(corpus.rglob("*.pdf")):
        reason = f"no corpus in {corpus}"
    else:
        reason = "no run directory yet"
    assert f"| retriever-base | not run: {reason}" in text
    assert f"not run: no fine-tuned adapter at {tmp_path / 'no-adapter.gguf'}" in text
    assert "**not adopted**" in text
    assert "**not decided**" in text
    assert "retriever-base" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "retriever-adoption").exists()
