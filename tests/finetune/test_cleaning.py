from pathlib import Path

import pytest

from finetune.cleaning import CleaningSettings, TripletCleaner, is_french
from finetune.records import Provenance, Triplet
from tests.knowledge.fakes import HashingEmbedder

pytestmark = pytest.mark.unit

CONTEXT = (
    "Le bris de glace est couvert sans franchise lorsque le pare-brise est réparé. "
    "En cas de remplacement, une franchise de 90 € reste à la charge de l'assuré."
)


def triplet(
    question: str, answer: str, chunk: str = "auto.pdf#p3-1", context: str = CONTEXT
) -> Triplet:
    return Triplet(question, context, answer, Provenance("auto.pdf", 3, chunk))


class TestRules:
    def test_a_grounded_french_triplet_is_kept_with_its_scores(self) -> None:
        kept, report = TripletCleaner().clean(
            [
                triplet(
                    "Quelle franchise en cas de remplacement du pare-brise ?",
                    "Une franchise de 90 €.",
                )
            ]
        )
        assert report.kept == 1
        assert kept[0].scores["answer_support"] == 1.0

    @pytest.mark.parametrize(
        ("question", "answer", "reason"),
        [
            (
                "Quelle franchise pour le pare-brise ?",
                "Une franchise de 150 €.",
                "answer_figure_not_in_context",
            ),
            (
                "Quelle franchise pour le pare-brise ?",
                "Le chien du voisin mange des croquettes.",
                "answer_not_grounded",
            ),
            (
                "Quel temps fera-t-il demain à Brest ?",
                "Une franchise de 90 €.",
                "question_not_grounded",
            ),
            (
                "What is the deductible for the windscreen?",
                "It is 90 € for a replacement.",
                "not_french",
            ),
            ("Glace ?", "Oui.", "question_length"),
            (
                "Le bris de glace est couvert ?",
                "Le bris de glace est couvert",
                "answer_repeats_question",
            ),
        ],
    )
    def test_a_bad_triplet_is_rejected_with_its_reason(
        self, question: str, answer: str, reason: str, tmp_path: Path
    ) -> None:
        rejected_path = tmp_path / "rejected.jsonl"
        kept, report = TripletCleaner().clean(
            [triplet(question, answer)], rejected_path=rejected_path
        )
        assert kept == []
        assert dict(report.rejected) == {reason: 1}
        assert reason in rejected_path.read_text(encoding="utf-8")

    def test_the_same_question_twice_is_kept_once(self) -> None:
        first = triplet("Quelle franchise en cas de remplacement ?", "Une franchise de 90 €.")
        again = triplet("quelle franchise en cas de  remplacement", "90 €", chunk="auto.pdf#p3-2")
        kept, report = TripletCleaner().clean([first, again])
        assert kept == [first] or kept[0].question == first.question
        assert report.rejected["duplicate_question"] == 1

    def test_french_detection(self) -> None:
        assert is_french("Quel est le délai de carence ?", required=True)
        assert not is_french("What is the waiting period?", required=True)
        assert is_french("90 €", required=False)


class TestEmbeddingChecks:
    def test_a_question_far_from_its_context_is_rejected(self) -> None:
        settings = CleaningSettings(
            question_support=0.0, question_similarity=0.3, answer_similarity=0.0
        )
        cleaner = TripletCleaner(HashingEmbedder(), settings)
        near = triplet(
            "Quelle franchise pour le remplacement du pare-brise ?", "Une franchise de 90 €."
        )
        far = triplet(
            "Est-ce que mes lunettes de soleil sont remboursées ?", "Une franchise de 90 €."
        )
        kept, report = cleaner.clean([near, far])
        assert [t.question for t in kept] == [near.question]
        assert report.rejected["question_far_from_context"] == 1
        assert "question_similarity" in kept[0].scores

    def test_near_duplicates_of_one_context_are_dropped(self) -> None:
        settings = CleaningSettings(
            question_similarity=0.0, answer_similarity=0.0, duplicate_similarity=0.9
        )
        cleaner = TripletCleaner(HashingEmbedder(), settings)
        kept, report = cleaner.clean(
            [
                triplet("Quelle franchise en cas de remplacement du pare-brise ?", "90 €."),
                triplet("Quelle franchise en cas de remplacement du pare-brise svp ?", "90 €."),
            ]
        )
        assert len(kept) == 1
        assert report.rejected["near_duplicate_question"] == 1
