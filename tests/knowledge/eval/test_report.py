"""The markdown evaluation report and its PNG chart."""

from pathlib import Path

import pytest

from knowledge.eval.answers import AnswerMetrics
from knowledge.eval.report import RetrievalRun, write_report
from knowledge.eval.retrieval import metrics_from_ranks

pytestmark = pytest.mark.unit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def runs() -> list[RetrievalRun]:
    return [
        RetrievalRun(
            "all documents, written page",
            False,
            "page",
            {"bm25": metrics_from_ranks([1, None], 4), "hybrid": metrics_from_ranks([1, 2], 4)},
        ),
        RetrievalRun(
            "product filter, answering page",
            True,
            "answering_page",
            {"bm25": metrics_from_ranks([1, 3], 4), "hybrid": metrics_from_ranks([1, 1], 4)},
        ),
    ]


def test_writes_the_tables_and_a_chart_beside_the_page(tmp_path: Path) -> None:
    answers = AnswerMetrics(2, 0.42, 0.40, {"extractive": 2}, 1.0, 0.05, 0.08)

    markdown, chart = write_report(
        tmp_path / "docs" / "eval.md", runs(), answers, {"data": "q.jsonl", "alpha": 0.5}
    )

    text = markdown.read_text(encoding="utf-8")
    assert chart == tmp_path / "docs" / "eval.png"
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert "![hit@4 and MRR@4 per retriever and setting](eval.png)" in text
    assert "| all documents, written page | bm25 | 0.500 | 0.500 | 0.500 |" in text
    assert "| product filter, answering page | hybrid | 1.000 | 1.000 | 1.000 |" in text
    assert "| 2 | 0.420 | 0.400 | extractive 2 | 1.000 | 0.050 / 0.080 |" in text


def test_without_answers_there_is_no_answer_section(tmp_path: Path) -> None:
    markdown, _ = write_report(tmp_path / "eval.md", runs(), None, {})

    assert "## Answers" not in markdown.read_text(encoding="utf-8")


def test_refuses_an_empty_report(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing"):
        write_report(tmp_path / "eval.md", [], None, {})


def test_names_the_judgments_file_in_the_hit_rules_when_used(tmp_path: Path) -> None:
    judged, _ = write_report(
        tmp_path / "a.md", runs(), None, {"judgments": "tests/knowledge/judgments/x.jsonl"}
    )
    plain, _ = write_report(tmp_path / "b.md", runs(), None, {})

    assert "people judged to answer it (`tests/knowledge/judgments/x.jsonl`)" in judged.read_text()
    assert "judged" not in plain.read_text()
