from pathlib import Path

import pytest

from finetune.cleaning import CleaningSettings, TripletCleaner, is_french
from finetune.records import REFUSAL_ANSWER, Provenance, Triplet
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
        again = triplet("QUELLE franchise en cas de  remplacement?", "90 €", chunk="auto.pdf#p3-2")
        kept, report = TripletCleaner().clean([first, again])
        assert kept == [first] or kept[0].question == first.question
        assert report.rejected["duplicate_question"] == 1

    @pytest.mark.parametrize(
        "question",
        [
            "Quelle franchise en cas de remplacement",  # no question mark
            "quelle franchise en cas de remplacement ?",  # no capital
            "Que signifie « franchise dans le contrat ?",  # unbalanced quotes
            "Quel est le montant de le remplacement ?",  # "de le"
            "Que prévoit le contrat en matière de assurance ?",  # "de assurance"
            "Quelle franchise pour {topic} ?",  # a frame not filled
            "Quelle franchise franchise en cas de remplacement ?",  # a word twice
            "Quelle franchise ? Et pour le pare-brise ?",  # two questions
        ],
    )
    def test_a_malformed_question_is_rejected(self, question: str) -> None:
        _, report = TripletCleaner().clean([triplet(question, "Une franchise de 90 €.")])
        assert dict(report.rejected) == {"question_malformed": 1}

    def test_a_question_that_holds_a_short_answer_is_rejected(self) -> None:
        _, report = TripletCleaner().clean(
            [triplet("La franchise de 90 € en cas de remplacement, c'est bien ça ?", "90 €.")]
        )
        assert dict(report.rejected) == {"question_gives_answer_away": 1}

    def test_a_long_answer_may_repeat_the_figure_the_question_asks_about(self) -> None:
        kept, _ = TripletCleaner().clean(
            [
                triplet(
                    "Le remplacement du pare-brise avec une franchise de 90 €, c'est couvert ?",
                    "En cas de remplacement, une franchise de 90 € reste à la charge de "
                    "l'assuré ; le pare-brise réparé est couvert sans franchise.",
                )
            ]
        )
        assert len(kept) == 1

    def test_the_product_name_and_the_section_ground_a_question(self) -> None:
        grounded = Triplet(
            "Pour Vergemont Auto, que prévoit le contrat en matière de bris de glace ?",
            "Sans franchise lorsque le pare-brise est réparé.",
            "Sans franchise lorsque le pare-brise est réparé.",
            Provenance(
                "auto.pdf",
                3,
                "auto.pdf#p3-1",
                section="Article 3.4 — Bris de glace",
                product="Vergemont Auto",
            ),
        )
        bare = Triplet(
            grounded.question,
            grounded.context,
            grounded.answer,
            Provenance("auto.pdf", 3, "auto.pdf#p3-1"),
        )
        assert len(TripletCleaner().clean([grounded])[0]) == 1
        assert dict(TripletCleaner().clean([bare])[1].rejected) == {"question_not_grounded": 1}

    def test_a_near_duplicate_question_of_the_same_page_is_dropped(self) -> None:
        kept, report = TripletCleaner().clean(
            [
                triplet("Quelle franchise en cas de remplacement du pare-brise ?", "90 €."),
                triplet(
                    "Quelle est la franchise, en cas de remplacement du pare-brise ?",
                    "Une franchise de 90 € reste à la charge de l'assuré.",
                    chunk="auto.pdf#p3-2",
                ),
            ]
        )
        assert len(kept) == 1
        assert dict(report.rejected) == {"near_duplicate_question": 1}

    def test_the_same_answer_is_kept_once_per_page_and_a_few_times_in_all(self) -> None:
        answer = "Une franchise de 90 € reste à la charge de l'assuré."
        same_page = [
            triplet("Quelle franchise en cas de remplacement du pare-brise ?", answer),
            triplet("Combien reste à la charge de l'assuré pour un pare-brise ?", answer),
        ]
        other_pages = [
            Triplet(
                f"Quelle franchise pour le pare-brise, contrat numéro {n} ?",
                CONTEXT,
                answer,
                Provenance(f"doc{n}.pdf", 1, f"doc{n}.pdf#p1-0"),
            )
            for n in range(1, 5)
        ]
        kept, report = TripletCleaner(settings=CleaningSettings(max_same_answer=3)).clean(
            same_page + other_pages
        )
        assert report.rejected["duplicate_answer_on_page"] == 1
        assert report.rejected["answer_repeated_across_documents"] == 2
        assert len(kept) == 3

    def test_a_refusal_is_checked_on_its_question_only(self) -> None:
        refusal = triplet("Quel est le plafond du rapatriement en avion ?", REFUSAL_ANSWER)
        broken = triplet("quel plafond", REFUSAL_ANSWER, chunk="auto.pdf#p3-2")
        kept, report = TripletCleaner().clean([refusal, broken])
        assert kept == [refusal] or kept[0].question == refusal.question
        assert dict(report.rejected) == {"question_malformed": 1}

    def test_a_refusal_and_the_answered_question_are_not_duplicates(self) -> None:
        answered = triplet(
            "Quelle franchise en cas de remplacement du pare-brise ?", "Une franchise de 90 €."
        )
        refused = Triplet(
            answered.question,
            "Les animaux de compagnie sont assurés dès trois mois.",
            REFUSAL_ANSWER,
            Provenance("animaux.pdf", 1, "animaux.pdf#p1-0", source="templates:unanswerable"),
        )
        kept, _ = TripletCleaner(HashingEmbedder()).clean([answered, refused])
        assert {t.answer for t in kept} >= {REFUSAL_ANSWER}

    def test_a_confident_reader_answering_elsewhere_vetoes_when_asked(self) -> None:
        read = Triplet(
            "Quelle franchise en cas de remplacement du pare-brise ?",
            CONTEXT,
            "Une franchise de 90 €.",
            Provenance("auto.pdf", 3, "auto.pdf#p3-1"),
            scores={"reader_confidence": 0.9, "reader_agrees": 0.0},
        )
        assert len(TripletCleaner().clean([read])[0]) == 1  # a score only by default
        vetoed = TripletCleaner(settings=CleaningSettings(reader_veto=0.5)).clean([read])[1]
        assert dict(vetoed.rejected) == {"reader_answers_elsewhere": 1}

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
            "Est-ce que mes lunettes de soleil sont remboursées ?",
            "Une franchise de 90 € reste à la charge de l'assuré.",
        )
        kept, report = cleaner.clean([near, far])
        assert [t.question for t in kept] == [near.question]
        assert report.rejected["question_far_from_context"] == 1
        assert "question_similarity" in kept[0].scores

    def test_near_duplicates_of_one_context_are_dropped(self) -> None:
        settings = CleaningSettings(
            question_similarity=0.0,
            answer_similarity=0.0,
            duplicate_similarity=0.9,
            near_duplicate_jaccard=1.01,  # the lexical check off: the embeddings decide
        )
        cleaner = TripletCleaner(HashingEmbedder(), settings)
        kept, report = cleaner.clean(
            [
                triplet("Quelle franchise en cas de remplacement du pare-brise ?", "90 €."),
                triplet(
                    "Quelle franchise en cas de remplacement du pare-brise svp ?",
                    "Une franchise de 90 €.",
                ),
            ]
        )
        assert len(kept) == 1
        assert report.rejected["near_duplicate_question"] == 1


class TestTemplatedTriplets:
    """Templated questions get their own measured floor and no cosine deduplication."""

    def pair(self, source: str) -> list[Triplet]:
        return [
            Triplet(
                question,
                CONTEXT,
                answer,
                Provenance("auto.pdf", 3, "auto.pdf#p3-1", source=source),
            )
            for question, answer in (
                (
                    "Quelle franchise en cas de remplacement du pare-brise ?",
                    "Une franchise de 90 €.",
                ),
                (
                    "Le bris de glace est-il couvert quand le pare-brise est réparé ?",
                    "Le bris de glace est couvert sans franchise lorsque le pare-brise est réparé.",
                ),
            )
        ]

    def cleaner(self) -> TripletCleaner:
        settings = CleaningSettings(
            question_similarity=1.01,  # no free-form question passes
            templated_question_similarity=0.0,
            answer_similarity=0.0,
            duplicate_similarity=-1.0,  # every two free-form questions are "duplicates"
        )
        return TripletCleaner(HashingEmbedder(), settings)

    def test_a_templated_question_is_held_to_its_own_floor(self) -> None:
        kept, _ = self.cleaner().clean(self.pair("templates:amount"))
        assert len(kept) == 2

    def test_a_free_form_question_is_held_to_the_general_floor(self) -> None:
        kept, report = self.cleaner().clean(self.pair("llm:gemma"))
        assert kept == []
        assert report.rejected["question_far_from_context"] == 2

    def test_templated_questions_are_not_deduplicated_by_cosine(self) -> None:
        settings = CleaningSettings(
            question_similarity=0.0,
            templated_question_similarity=0.0,
            answer_similarity=0.0,
            duplicate_similarity=-1.0,
        )
        cleaner = TripletCleaner(HashingEmbedder(), settings)
        assert len(cleaner.clean(self.pair("templates:amount"))[0]) == 2
        free_form, report = cleaner.clean(self.pair("llm:gemma"))
        assert len(free_form) == 1
        assert report.rejected["near_duplicate_question"] == 1
