import pytest

from knowledge.validation import AnswerValidator

pytestmark = pytest.mark.unit

PASSAGES = [
    "La franchise dégâts des eaux est de 150 euros par sinistre. Le délai de déclaration est "
    "de cinq jours ouvrés à compter de la découverte du sinistre.",
]


class TestAnswerValidator:
    def test_faithful_answer_is_accepted(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise pour un dégât des eaux ?",
            "La franchise dégâts des eaux est de 150 euros par sinistre [1].",
            PASSAGES,
        )
        assert verdict.accepted, verdict

    def test_number_written_in_words_matches_digits(self):
        verdict = AnswerValidator().validate(
            "Délai de déclaration ?",
            "Vous avez 5 jours ouvrés pour déclarer le sinistre.",
            PASSAGES,
        )
        assert verdict.accepted, verdict

    def test_wrong_amount_is_rejected_with_the_figure(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise ?", "La franchise dégâts des eaux est de 300 euros.", PASSAGES
        )
        assert not verdict.accepted
        assert verdict.unsupported_numbers == ("300",)
        assert "300" in verdict.reason

    def test_facts_of_another_product_are_rejected(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise ?",
            "Les frais vétérinaires de votre chien sont remboursés après une carence.",
            PASSAGES,
        )
        assert not verdict.accepted

    def test_empty_answer_is_rejected(self):
        assert not AnswerValidator().validate("Quelle franchise ?", "", PASSAGES).accepted


def test_figure_present_with_another_unit_is_rejected():
    verdict = AnswerValidator().validate(
        "Quel délai de déclaration ?", "Vous avez 150 jours pour déclarer le sinistre.", PASSAGES
    )
    assert not verdict.accepted
    assert verdict.unsupported_numbers == ("150 jour",)
