"""Whether a page, or one passage of it, prints the key facts of a reference answer."""

import pytest

from knowledge.corpus.answer_check import (
    answering_pages,
    contains_number,
    page_answers,
    passage_answers,
)

pytestmark = pytest.mark.unit

ANSWER = "Les frais de relogement sont pris en charge pendant 12 mois, 2 500 € par mois au plus."
PAGE = (
    "Article 4 — Relogement. Après un sinistre garanti, les frais de relogement sont pris en "
    "charge pendant 12 mois au plus, dans la limite de 2 500 € par mois."
)


class TestNumbers:
    @pytest.mark.parametrize(
        ("page", "number", "found"),
        [
            ("jusqu'à 2 500 € par mois", "2 500", True),
            ("jusqu'à 12 500 € par mois", "2 500", False),
            ("pendant 120 jours", "12", False),
            ("taux de 1,5 %", "1", False),
            ("appelez le 01 23 45 67 89", "01 23 45 67 89", True),
        ],
    )
    def test_a_number_must_stand_alone(self, page: str, number: str, found: bool) -> None:
        assert contains_number(page, number) is found


class TestPageAnswers:
    def test_a_page_with_every_number_and_most_words_answers(self) -> None:
        assert page_answers(PAGE, ANSWER)

    def test_a_missing_or_changed_figure_does_not_answer(self) -> None:
        assert not page_answers(PAGE.replace("12 mois", "6 mois"), ANSWER)

    def test_an_answer_too_short_to_tell_pages_apart_answers_nowhere(self) -> None:
        assert page_answers(PAGE, "Oui.")
        assert not page_answers(PAGE, "Oui.", min_words=3)


class TestPassageAnswers:
    def test_the_facts_must_be_printed_together(self) -> None:
        scattered = (
            "Les frais de relogement sont pris en charge selon l'article 9. "
            + "Texte sans rapport. " * 60
            + "Plafond annuel : 2 500 €, appliqué pendant 12 mois au mobilier."
        )

        assert page_answers(scattered, ANSWER)
        assert not passage_answers(scattered, ANSWER)
        assert passage_answers("Introduction. " * 40 + PAGE, ANSWER)

    def test_lists_the_answering_pages_only(self) -> None:
        pages = [("cg.pdf", 1, "Sommaire et définitions."), ("faq.pdf", 2, PAGE)]

        assert answering_pages(pages, ANSWER) == [("faq.pdf", 2)]
