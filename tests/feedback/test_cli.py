import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from feedback.__main__ import main
from feedback.store import FeedbackStore
from tests.feedback.conftest import alembic, make_feedback

pytestmark = pytest.mark.unit


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    alembic(url, "upgrade", "head")
    return url


@pytest.fixture
def filled(url: str) -> str:
    from common.db import engine_from_url

    engine: Engine = engine_from_url(url)
    store = FeedbackStore(engine)
    store.record(make_feedback(message_id="a", rating=5))
    store.record(
        make_feedback(
            message_id="b",
            rating=1,
            question='Et si je mets "des guillemets", ; et\nune ligne ?',
            mode=None,
            validated=None,
            sources=[],
        )
    )
    engine.dispose()
    return url


class TestExport:
    def test_jsonl_has_one_rating_per_line_with_everything_needed(
        self, filled: str, tmp_path: Path
    ) -> None:
        out = tmp_path / "feedback.jsonl"
        assert (
            main(["--database-url", filled, "export", "--format", "jsonl", "--output", str(out)])
            == 0
        )
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["rating"] for r in records] == [5, 1]
        assert records[0]["sources"][0]["page"] == 3
        assert records[0]["mode"] == "generated"
        assert records[1]["question"].endswith("une ligne ?")
        assert set(records[0]) >= {"question", "answer", "sources", "mode", "validated", "rating"}

    def test_csv_round_trips_quotes_separators_and_newlines(
        self, filled: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["--database-url", filled, "export", "--format", "csv"]) == 0
        captured = capsys.readouterr()
        rows = list(csv.DictReader(io.StringIO(captured.out)))
        assert len(rows) == 2
        assert rows[1]["question"] == 'Et si je mets "des guillemets", ; et\nune ligne ?'
        assert json.loads(rows[0]["sources"])[0]["document"].endswith(".pdf")
        assert rows[1]["validated"] == ""
        assert "2 rating(s) exported" in captured.err

    def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
        self, url: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from common.db import engine_from_url

        formulas = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd"]
        engine: Engine = engine_from_url(url)
        store = FeedbackStore(engine)
        for number, formula in enumerate(formulas):
            store.record(
                make_feedback(
                    conversation_id="=cmd|' /C calc'!A0",
                    message_id=f"m{number}",
                    question=formula,
                    answer="Réponse ordinaire, - avec un tiret au milieu.",
                )
            )
        engine.dispose()
        assert main(["--database-url", url, "export", "--format", "csv"]) == 0
        rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert [row["question"] for row in rows] == ["'" + formula for formula in formulas]
        assert {row["conversation_id"] for row in rows} == {"'=cmd|' /C calc'!A0"}
        assert rows[0]["answer"] == "Réponse ordinaire, - avec un tiret au milieu."

    def test_jsonl_keeps_the_texts_exactly(self, url: str, tmp_path: Path) -> None:
        from common.db import engine_from_url

        engine: Engine = engine_from_url(url)
        FeedbackStore(engine).record(make_feedback(question="=1+1"))
        engine.dispose()
        out = tmp_path / "feedback.jsonl"
        assert (
            main(["--database-url", url, "export", "--format", "jsonl", "--output", str(out)]) == 0
        )
        assert json.loads(out.read_text(encoding="utf-8"))["question"] == "=1+1"

    def test_since_filters_by_date(self, filled: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert (
            main(["--database-url", filled, "export", "--format", "jsonl", "--since", "2999-01-01"])
            == 0
        )
        assert capsys.readouterr().out == ""

    def test_bad_date_is_a_clear_error(
        self, filled: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit):
            main(["--database-url", filled, "export", "--format", "csv", "--since", "hier"])
        assert "invalid date 'hier'" in capsys.readouterr().err

    def test_missing_folder_is_a_clear_error_and_writes_nothing(
        self, filled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        target = tmp_path / "nope" / "out.csv"
        assert (
            main(["--database-url", filled, "export", "--format", "csv", "--output", str(target)])
            == 1
        )
        assert "does not exist" in capsys.readouterr().err
        assert not target.parent.exists()

    def test_unmigrated_database_is_a_clear_error_and_leaves_no_partial_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        target = tmp_path / "out.jsonl"
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        assert (
            main(["--database-url", url, "export", "--format", "jsonl", "--output", str(target)])
            == 1
        )
        assert "alembic upgrade head" in capsys.readouterr().err
        assert list(tmp_path.glob("*out.jsonl*")) == []


def test_summary_prints_each_level(filled: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", filled, "summary"]) == 0
    out = capsys.readouterr().out
    assert "ratings: 2, average: 3.0" in out
    assert "1 ☹️ Pas du tout utile: 1" in out
    assert main(["--database-url", filled, "summary", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 2
