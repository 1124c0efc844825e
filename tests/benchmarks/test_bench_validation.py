"""The validation benchmark's case files and scoring: reading, checking kinds, the tables."""

from pathlib import Path

import pytest

from benchmarks.bench_validation import (
    DEV_CASES,
    HELDOUT_CASES,
    CaseFileError,
    load_cases,
    report,
    score,
)

pytestmark = pytest.mark.unit

TINY = """\
- id: flip
  topic: auto
  kind: negation_flip
  expected: reject
  question: Le vol est-il couvert ?
  passage: Le vol sans effraction n'est pas couvert.
  answer: Le vol sans effraction est couvert.
- id: faithful
  topic: auto
  kind: valid_negation
  expected: accept
  question: Le vol est-il couvert ?
  passage: Le vol sans effraction n'est pas couvert.
  answer: Non, le vol sans effraction n'est pas couvert.
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yml"
    path.write_text(text, encoding="utf-8")
    return path


class TestCaseFiles:
    def test_both_splits_load_and_do_not_share_a_case(self) -> None:
        dev, held_out = load_cases(DEV_CASES), load_cases(HELDOUT_CASES)
        assert len(dev) + len(held_out) >= 100
        assert not {case.id for case in dev} & {case.id for case in held_out}
        assert not {(c.answer, c.passage) for c in dev} & {(c.answer, c.passage) for c in held_out}

    def test_the_issue_minimums_are_met(self) -> None:
        cases = load_cases(DEV_CASES) + load_cases(HELDOUT_CASES)
        kinds = [case.kind for case in cases]
        assert kinds.count("negation_flip") >= 30
        assert kinds.count("promise") >= 20
        assert sum(kind.startswith("valid") for kind in kinds) >= 30

    def test_a_kind_whose_verdict_disagrees_is_refused(self, tmp_path: Path) -> None:
        path = _write(tmp_path, TINY.replace("expected: reject", "expected: accept"))
        with pytest.raises(CaseFileError, match="flip"):
            load_cases(path)

    def test_a_row_with_a_missing_field_is_refused(self, tmp_path: Path) -> None:
        path = _write(tmp_path, TINY.replace("  topic: auto\n", "", 1))
        with pytest.raises(CaseFileError, match="case 1"):
            load_cases(path)


class TestReport:
    def test_the_tables_count_verdicts_per_kind_and_per_check(self, tmp_path: Path) -> None:
        results = score(load_cases(_write(tmp_path, TINY)))
        assert [result.passed for result in results] == [True, True]
        assert results[0].checks == ("polarity",)
        text = report("tiny", results)
        assert "| all (default) | 2/2 (100.0 %) | 1.000 | 1.000 | 0/1 (0.0 %) |" in text
        assert "| negation_flip | 1 | 1/1 (100.0 %) | 1/1 (100.0 %) |" in text
        assert "| polarity | 1 | 1.000 |" in text
