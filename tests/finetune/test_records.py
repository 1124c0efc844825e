from pathlib import Path

import pytest

from finetune.errors import DataFileError
from finetune.records import REFUSAL_ANSWER, Provenance, Triplet, read_triplets, write_triplets
from knowledge.prompts import INSTRUCTIONS

pytestmark = pytest.mark.unit


def triplet(question: str = "Quel est le délai ?") -> Triplet:
    return Triplet(
        question=question,
        context="Le délai est de 5 jours.",
        answer="5 jours.",
        provenance=Provenance("doc.pdf", 2, "doc.pdf#p2-0", source="handwritten"),
    )


class TestTripletFiles:
    def test_triplets_round_trip_with_their_provenance(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        assert write_triplets(path, [triplet(), triplet("Qui ?")]) == 2
        read, report = read_triplets(path)
        assert read == [triplet(), triplet("Qui ?")]
        assert report.skipped == []

    def test_a_truncated_line_is_skipped_and_named(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        write_triplets(path, [triplet(), triplet("Qui ?")])
        text = path.read_text(encoding="utf-8")
        path.write_text(text[: len(text) - 30], encoding="utf-8")
        read, report = read_triplets(path)
        assert read == [triplet()]
        assert [number for number, _ in report.skipped] == [2]
        assert "1 read, 1 invalid" in report.summary()

    def test_a_line_without_a_field_is_skipped_with_the_reason(self, tmp_path: Path) -> None:
        path = tmp_path / "t.jsonl"
        path.write_text('{"question": "Q ?", "context": "C", "answer": ""}\n', encoding="utf-8")
        read, report = read_triplets(path)
        assert read == []
        assert report.skipped == [(1, "'answer' must be a non-empty string")]

    def test_a_missing_file_is_a_clear_error(self, tmp_path: Path) -> None:
        with pytest.raises(DataFileError, match="cannot read the file"):
            read_triplets(tmp_path / "absent.jsonl")

    def test_the_identifier_ignores_case_and_spacing(self) -> None:
        assert triplet("Quel est le délai ?").triplet_id == triplet("quel  est le délai").triplet_id


class TestProvenanceAndRefusals:
    def test_the_template_product_and_origin_round_trip(self, tmp_path: Path) -> None:
        refusal = Triplet(
            "Quel est le plafond du rapatriement ?",
            "Les animaux sont assurés dès trois mois.",
            REFUSAL_ANSWER,
            Provenance(
                "animaux.pdf",
                1,
                "animaux.pdf#p1-0",
                source="templates:unanswerable",
                template="other_product",
                product="Alizé Animaux",
                origin="auto.pdf#4",
            ),
        )
        path = tmp_path / "t.jsonl"
        write_triplets(path, [refusal, triplet()])
        read, _ = read_triplets(path)
        assert read == [refusal, triplet()]
        assert [t.is_refusal for t in read] == [True, False]

    def test_the_refusal_is_the_one_the_prompt_asks_for(self) -> None:
        assert f"« {REFUSAL_ANSWER} »" in INSTRUCTIONS
