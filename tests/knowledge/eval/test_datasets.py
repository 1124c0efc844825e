"""The evaluation data files: questions, other answering pages, judgments, SQuAD."""

import json
from pathlib import Path

import pytest

from knowledge.errors import DatasetError
from knowledge.eval.datasets import (
    Question,
    load_judgments,
    load_questions,
    load_squad,
    with_judgments,
)
from knowledge.interfaces import Chunk

pytestmark = pytest.mark.unit


class TestQuestionsFile:
    def test_reads_questions_with_an_optional_answer(self, tmp_path: Path) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text(
            '{"question": "Le vol est-il couvert ?", "document": "cg.pdf", "page": 2}\n\n'
            '{"question": "Franchise ?", "document": "docs/cg.pdf", "page": 3,'
            ' "answer": "150 €"}\n',
            encoding="utf-8",
        )

        assert load_questions(path) == [
            Question("Le vol est-il couvert ?", "cg.pdf", 2),
            Question("Franchise ?", "cg.pdf", 3, "150 €"),
        ]

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            ("pas du json", "not JSON"),
            ('{"question": "", "document": "a.pdf", "page": 1}', "question"),
            ('{"question": "q", "page": 1}', "document"),
            ('{"question": "q", "document": "a.pdf", "page": 0}', "page"),
            ('{"question": "q", "document": "a.pdf", "page": "2"}', "page"),
        ],
    )
    def test_names_the_line_of_a_bad_entry(self, tmp_path: Path, line: str, reason: str) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text('{"question": "q", "document": "a.pdf", "page": 1}\n' + line + "\n")

        with pytest.raises(DatasetError, match=f"q.jsonl:2: .*{reason}"):
            load_questions(path)


SQUAD = {
    "version": "1.0",
    "data": [
        {
            "title": "Sport",
            "paragraphs": [
                {
                    "context": "Le football se joue à onze joueurs sur un terrain de gazon.",
                    "qas": [{"question": "Combien de joueurs au football ?", "id": "1"}],
                },
                {
                    "context": "Le tennis se joue avec une raquette et une balle jaune.",
                    "qas": [{"question": "Avec quoi joue-t-on au tennis ?", "id": "2"}],
                },
            ],
        },
        {
            "title": "Cuisine",
            "paragraphs": [
                {
                    "context": "La ratatouille mêle courgettes, aubergines et tomates.",
                    "qas": [{"question": "Quels légumes dans la ratatouille ?", "id": "3"}],
                }
            ],
        },
    ],
}


class TestSquad:
    def test_every_paragraph_is_one_passage_and_every_question_points_to_it(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "squad.json"
        path.write_text(json.dumps(SQUAD), encoding="utf-8")

        data = load_squad(path)

        assert [p.chunk_id for p in data.passages] == ["0-0", "0-1", "1-0"]
        assert data.gold == ["0-0", "0-1", "1-0"]

    def test_refuses_a_file_that_is_not_squad(self, tmp_path: Path) -> None:
        path = tmp_path / "squad.json"
        path.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")

        with pytest.raises(DatasetError, match="not SQuAD format"):
            load_squad(path)


class TestOtherAnsweringPages:
    def test_are_read_from_also_answered_on(self, tmp_path: Path) -> None:
        path = tmp_path / "q.jsonl"
        entry = {
            "question": "Délai ?",
            "document": "cg.pdf",
            "page": 2,
            "also_answered_on": [{"document": "faq.pdf", "page": 1}],
        }
        path.write_text(json.dumps(entry) + "\n", encoding="utf-8")

        (question,) = load_questions(path)

        assert question.other_pages == (("faq.pdf", 1),)
        assert question.is_answering_hit(Chunk("c", "faq.pdf", 1, "texte"))
        assert not question.is_hit(Chunk("c", "faq.pdf", 1, "texte"))

    @pytest.mark.parametrize(
        "value",
        ['"faq.pdf"', '[{"document": "faq.pdf"}]', '[{"document": "", "page": 1}]', "[[1]]"],
    )
    def test_a_malformed_list_names_the_line(self, tmp_path: Path, value: str) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text(
            '{"question": "Délai ?", "document": "cg.pdf", "page": 2, '
            f'"also_answered_on": {value}}}\n',
            encoding="utf-8",
        )

        with pytest.raises(DatasetError, match=r"q.jsonl.*1.*also_answered_on"):
            load_questions(path)


class TestJudgments:
    def write(self, tmp_path: Path, *entries: dict[str, object]) -> Path:
        path = tmp_path / "judged.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        return path

    def test_only_pages_judged_to_answer_become_hits(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            {
                "question": "Délai ?",
                "document": "faq.pdf",
                "page": 1,
                "verdict": "answers",
                "evidence": "Le délai est de 14 jours.",
            },
            {
                "question": "Délai ?",
                "document": "ipid.pdf",
                "page": 2,
                "verdict": "partial",
                "evidence": "Un délai s'applique.",
            },
            {"question": "Délai ?", "document": "cg.pdf", "page": 9, "verdict": "no"},
        )
        question = Question("Délai ?", "cg.pdf", 2, other_pages=(("cg.pdf", 3),))

        (judged,) = with_judgments([question], load_judgments(path))

        assert judged.other_pages == (("cg.pdf", 3), ("faq.pdf", 1))
        assert judged.is_answering_hit(Chunk("c", "faq.pdf", 1, "texte"))
        assert not judged.is_answering_hit(Chunk("c", "ipid.pdf", 2, "texte"))
        assert not judged.is_hit(Chunk("c", "faq.pdf", 1, "texte"))

    def test_a_judgment_of_an_unknown_question_is_an_error(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path, {"question": "Autre ?", "document": "f.pdf", "page": 1, "verdict": "no"}
        )
        with pytest.raises(DatasetError, match="judged question not in the questions"):
            with_judgments([Question("Délai ?", "cg.pdf", 2)], load_judgments(path))

    @pytest.mark.parametrize(
        ("entry", "reason"),
        [
            ({"document": "f.pdf", "page": 1, "verdict": "no"}, "question"),
            ({"question": "Q ?", "document": "f.pdf", "page": 0, "verdict": "no"}, "page"),
            ({"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "yes"}, "verdict"),
            ({"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "answers"}, "evidence"),
        ],
    )
    def test_a_bad_line_is_named(
        self, tmp_path: Path, entry: dict[str, object], reason: str
    ) -> None:
        path = self.write(
            tmp_path, {"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "no"}, entry
        )
        with pytest.raises(DatasetError, match=rf"judged.jsonl.*2.*{reason}"):
            load_judgments(path)
