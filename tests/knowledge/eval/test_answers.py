"""Answer evaluation: ROUGE-L and the scores of a service's answers."""

import pytest

from knowledge.errors import DatasetError
from knowledge.eval.answers import chat_answers, evaluate_answers, rouge_l
from knowledge.eval.datasets import Question
from knowledge.interfaces import Answer

pytestmark = pytest.mark.unit


class TestRougeL:
    def test_identical_texts_score_one_and_disjoint_texts_zero(self) -> None:
        assert rouge_l("Le délai est de 14 jours.", "le délai est de 14 jours") == 1.0
        assert rouge_l("Oui.", "Non.") == 0.0
        assert rouge_l("", "texte") == 0.0

    def test_is_the_f1_of_the_longest_common_subsequence(self) -> None:
        # common subsequence "délai 14 jours": 3 of 4 candidate words, 3 of 6 reference words
        score = rouge_l("délai de 14 jours", "le délai est bien 14 jours")
        # "de" is not in the reference: the LCS is "délai 14 jours", 3 of 4 and 3 of 6 words
        precision, recall = 3 / 4, 3 / 6
        assert score == pytest.approx(2 * precision * recall / (precision + recall))

    def test_keeps_french_accents_as_letters(self) -> None:
        # an ASCII-only tokenizer would split "été" and make these two texts share nothing
        assert rouge_l("été", "été") == 1.0
        assert rouge_l("été", "ete") == 0.0


class ScriptedService:
    """Answers from a table; counts the product it was asked about."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.products: list[str | None] = []

    def answer(self, question: str, product: str | None = None) -> Answer:
        self.products.append(product)
        return self.answers[question]


class TestEvaluateAnswers:
    def test_scores_each_answer_against_its_reference(self) -> None:
        service = ScriptedService(
            {
                "Délai ?": Answer("Le délai est de 14 jours.", (), "extractive", True),
                "Prix ?": Answer("Je ne sais pas.", (), "refusal", True),
            }
        )
        questions = [
            Question("Délai ?", "cg.pdf", 1, answer="Le délai est de 14 jours.", product_code="A"),
            Question("Prix ?", "cg.pdf", 2, answer="Vingt euros par mois.", product_code="B"),
            Question("Sans référence ?", "cg.pdf", 3),
        ]

        metrics = evaluate_answers(service, questions, product_filter=True)

        assert metrics.questions == 2
        assert metrics.rouge_l_mean == pytest.approx(0.5)
        assert metrics.modes == {"extractive": 1, "refusal": 1}
        assert metrics.validated_rate == 1.0
        assert service.products == ["A", "B"]

    def test_refuses_questions_without_reference_answers(self) -> None:
        with pytest.raises(DatasetError, match="reference answer"):
            evaluate_answers(ScriptedService({}), [Question("q", "cg.pdf", 1)])


class TestChatAnswers:
    def test_each_unanswerable_question_keeps_its_own_refusal(self) -> None:
        service = ScriptedService(
            {
                "Délai ?": Answer("Le délai est de 14 jours.", (), "extractive", True),
                "Météo ?": Answer("Je ne trouve pas de réponse sûre.", (), "refusal", True),
                "Yacht ?": Answer("Le vol est couvert.", (), "extractive", True),
            }
        )
        questions = [Question("Délai ?", "cg.pdf", 1, answer="Le délai est de 14 jours.")]

        answered = chat_answers(service, questions, ["Météo ?", "Yacht ?"])

        assert answered.refused == [True, False]
        assert answered.abstention == 0.5
        assert answered.false_abstention == 0.0
        assert answered.rouge_l == [1.0]
