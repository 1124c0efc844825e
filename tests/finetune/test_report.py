from pathlib import Path

import pytest

from finetune.report import retriever_table, write_report

pytestmark = pytest.mark.unit

RETRIEVER = {
    "base_name": "multilingual-e5-small",
    "mode": "hybrid",
    "before": {"questions": 40, "hit@4": 0.80, "mrr@4": 0.65},
    "after": {"questions": 40, "hit@4": 0.85, "mrr@4": 0.70},
    "reranked": {"questions": 40, "hit@4": 0.875, "mrr@4": 0.75},
    "adopt": True,
    "rule": "adopt when hit@4 is higher",
}
RESULT = {
    "name": "finetuned · extractive · completion",
    "metrics": {
        "rouge_l": 0.41,
        "bertscore_f1": 0.83,
        "hit@4": 0.85,
        "mrr@4": 0.7,
        "grounded_rate": 1.0,
        "refusal_rate_unanswerable": 0.5,
        "false_refusal_rate": 0.1,
        "calibration_ece": 0.2,
        "latency_median_s": 0.1,
        "latency_p95_s": 0.3,
    },
    "robustness": {
        "original": {"hit@4": 1.0, "rouge_l": 0.5},
        "typos": {"hit@4": 0.5, "rouge_l": 0.4},
    },
    "calibration_bins": [(0.6, 0.7, 0.5, 4)],
}


class TestReport:
    def test_the_retriever_table_is_laid_out_like_the_brief(self) -> None:
        rows = retriever_table(RETRIEVER)
        assert rows[0][0] == "Metric"
        assert "Improvement" not in rows[0]  # each model against the base, not the best of two
        assert rows[1] == ["Hit rate (hit@4)", "80.0 %", "85.0 %", "+5.0 pts", "87.5 %", "+7.5 pts"]
        assert rows[2][0] == "Mean reciprocal rank (MRR@4)"

    def test_markdown_html_and_charts_are_written(self, tmp_path: Path) -> None:
        md, html = write_report(
            tmp_path / "report",
            title="Rapport",
            context={"questions": 10},
            retriever=RETRIEVER,
            results=[RESULT],
            extra_sections=[("notes", "<b>x</b>")],
        )
        text = md.read_text(encoding="utf-8")
        assert "| finetuned · extractive · completion | 41.0 % | 83.0 % |" in text
        assert "![" in text
        page = html.read_text(encoding="utf-8")
        assert "<table>" in page
        assert "&lt;b&gt;x&lt;/b&gt;" in page
        pngs = sorted(p.name for p in tmp_path.glob("*.png"))
        assert pngs == ["report-calibration.png", "report-metrics.png", "report-robustness.png"]
        assert all(p.read_bytes().startswith(b"\x89PNG") for p in tmp_path.glob("*.png"))
