"""`python -m finetune` in a subprocess: bad input gets one clear line and exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finetune", *args],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestCommandLine:
    def test_a_missing_corpus_says_how_to_build_it(self, tmp_path: Path) -> None:
        result = run("--work-dir", str(tmp_path), "contexts", "--corpus", str(tmp_path / "none"))
        assert result.returncode == 2
        assert "python -m knowledge.corpus build" in result.stderr
        assert "Traceback" not in result.stderr

    def test_a_step_without_its_input_names_the_step_to_run(self, tmp_path: Path) -> None:
        result = run("--work-dir", str(tmp_path), "split")
        assert result.returncode == 2
        assert "run `python -m finetune contexts` first" in result.stderr

    def test_a_bad_configuration_is_explained(self, tmp_path: Path) -> None:
        result = run("--work-dir", str(tmp_path), "evaluate", "--configuration", "base:gemma")
        assert result.returncode == 2
        assert "expected RETRIEVER:LLM:PROMPT" in result.stderr

    def test_contexts_then_review_export_from_markdown_documents(self, tmp_path: Path) -> None:
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "vg-auto-faq.md").write_text(
            "# FAQ auto\n\n## Bris de glace\n\n" + "Le pare-brise est réparé sans franchise. " * 20,
            encoding="utf-8",
        )
        work = tmp_path / "work"
        result = run("--work-dir", str(work), "contexts", "--corpus", str(corpus))
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["documents"] == 1
        assert summary["contexts"] >= 2
        lines = (work / "contexts.jsonl").read_text(encoding="utf-8").splitlines()
        first = json.loads(lines[0])
        assert first["product_code"] == "VG-AUTO"
        assert len(first["text"]) <= 450
