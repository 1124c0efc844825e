"""The chat-answer benchmark's held-out files: read with their kinds, refusals counted by kind."""

import json
from pathlib import Path

import pytest

from benchmarks.bench_chat_answer import abstention_by_kind, held_out_set, main

pytestmark = pytest.mark.unit


def _write(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items))
    return path


def test_a_held_out_pair_is_read_with_the_kind_of_each_unanswerable_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answerable = _write(
        tmp_path / "fresh.jsonl",
        [
            {
                "question": "franchise vol ?",
                "document": "vg-auto-conditions-generales.pdf",
                "page": 4,
                "answer": "300 €.",
                "product_code": "VG-AUTO",
            }
        ],
    )
    unanswerable = _write(
        tmp_path / "fresh-unanswerable.jsonl",
        [
            {"question": "Assurez-vous les yachts ?", "kind": "not-sold"},
            {"question": "Quel temps demain ?", "kind": "off-topic"},
        ],
    )

    label, questions, asked, kinds = held_out_set(answerable, unanswerable)

    assert label == "fresh"
    assert [q.product_code for q in questions] == ["VG-AUTO"]
    assert asked == ["Assurez-vous les yachts ?", "Quel temps demain ?"]
    assert kinds == [
        ("Assurez-vous les yachts ?", "not-sold"),
        ("Quel temps demain ?", "off-topic"),
    ]
    assert "pages by split" in capsys.readouterr().out


def test_refusals_are_counted_within_each_kind() -> None:
    kinds = [("a", "near-miss"), ("b", "near-miss"), ("c", "off-topic"), ("d", "")]

    assert abstention_by_kind([True, False, True, False], kinds) == {
        "near-miss": "1/2",
        "off-topic": "1/1",
        "unknown": "0/1",
    }


def test_a_held_out_file_needs_its_unanswerable_pair(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--questions", str(tmp_path / "fresh.jsonl")])
