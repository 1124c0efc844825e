"""Reader data helpers: answer normalisation and scores, locating a hand-written answer in a
passage, window labels."""

import pytest

from knowledge.qa.data import closest_span
from knowledge.qa.features import _label
from knowledge.qa.metrics import exact_match, f1, normalize
from knowledge.qa.reader import Calibration, sentence_around

pytestmark = pytest.mark.unit


class TestMetrics:
    def test_articles_punctuation_and_case_do_not_count(self) -> None:
        assert normalize("L'assurance, les Chiens !") == "assurance chiens"
        assert exact_match("le délai de 45 jours", ["délai 45 jours"]) == 1.0

    def test_f1_rewards_overlap_and_takes_the_best_reference(self) -> None:
        assert f1("45 jours", ["3 jours", "45 jours"]) == 1.0
        assert f1("45 jours pour une maladie", ["45 jours"]) == pytest.approx(2 / 3)
        assert f1("", ["45 jours"]) == 0.0


class TestClosestSpan:
    def test_finds_the_words_of_a_paraphrased_answer(self) -> None:
        passage = (
            "Le contrat démarre le lendemain. Des délais de carence s'appliquent : 3 jours pour "
            "un accident, 45 jours pour une maladie. Le forfait prévention n'en a pas."
        )
        start, end, score = closest_span(passage, "3 jours (accident) et 45 jours (maladie)")
        assert passage[start:end] == "3 jours pour un accident, 45 jours pour une maladie"
        assert score > 0.6

    def test_nothing_shared_scores_zero(self) -> None:
        assert closest_span("Rien à voir.", "45 jours")[2] == 0.0


class TestLabels:
    def test_answer_inside_the_window_gets_its_tokens_else_the_first(self) -> None:
        offsets = [None, None, (0, 3), (3, 9), (9, 15), None]
        assert _label(offsets, (3, 9)) == (3, 3)
        assert _label(offsets, (4, 15)) == (3, 4)
        assert _label(offsets, (10, 30)) == (0, 0)  # runs past the window


class TestShownSentence:
    def test_the_sentence_holding_the_span(self) -> None:
        text = "Première phrase. Les délais sont de 3 jours. Dernière phrase."
        start = text.index("3 jours")
        low, high = sentence_around(text, start, start + 7)
        assert text[low:high] == "Les délais sont de 3 jours."


def test_calibration_is_monotone_and_identity_by_default() -> None:
    assert Calibration().apply(0.7) == pytest.approx(0.7)
    calibrated = Calibration(slope=0.8, intercept=-0.5)
    values = [calibrated.apply(raw / 10) for raw in range(1, 10)]
    assert values == sorted(values)
