import math

import pytest

from finetune.metrics import FrenchTokenizer, RougeL, calibration, percentile, strip_attribution

pytestmark = pytest.mark.unit


class TestRouge:
    def test_accented_words_are_whole_words(self) -> None:
        assert FrenchTokenizer().tokenize("La résiliation, c'est après l'échéance.") == [
            "la",
            "resiliation",
            "c",
            "est",
            "apres",
            "l",
            "echeance",
        ]

    def test_rouge_l_rewards_the_reference_words_in_order(self) -> None:
        rouge = RougeL()
        reference = "Le délai de renonciation est de quatorze jours."
        assert rouge.score(reference, reference) == pytest.approx(1.0)
        assert rouge.score(reference, "Quatorze jours de délai.") < rouge.score(
            reference, "Le délai est de quatorze jours."
        )
        assert rouge.score(reference, "Aucun rapport.") == 0.0


class TestCalibration:
    def test_a_confident_and_right_scorer_is_well_calibrated(self) -> None:
        result = calibration([0.95, 0.9, 0.1, 0.05], [True, True, False, False])
        assert result.ece == pytest.approx(0.075)
        assert result.brier < 0.01

    def test_overconfidence_shows_as_a_large_error(self) -> None:
        result = calibration([0.9, 0.9, 0.9, 0.9], [False, False, False, True])
        assert result.ece == pytest.approx(0.65)
        assert result.bins == [(0.8, 0.9, 0.25, 4)]

    def test_no_data_gives_nan(self) -> None:
        assert math.isnan(calibration([], []).ece)


def test_extractive_attribution_is_not_scored() -> None:
    answer = "D'après « vg-auto-faq.pdf » (page 2) : Le bris de glace est couvert."
    assert strip_attribution(answer) == "Le bris de glace est couvert."


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 0.95) == 100.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
