"""The configuration evaluator over a fixed retriever and a scripted LLM (no model needed)."""

import pytest

from finetune.evaluation import Configuration, ConfigurationEvaluator, question_set
from knowledge.validation import AnswerValidator
from tests.knowledge.fakes import HashingEmbedder
from tests.knowledge.helpers import FixedRetriever, ScriptedGenerator, chunk

pytestmark = pytest.mark.unit

PASSAGE = chunk(
    "Le délai de renonciation est de quatorze jours à compter de la signature du contrat.",
    document="vg-hab-loc-conditions-generales.pdf",
    page=3,
)
OTHER = chunk("Les frais vétérinaires sont remboursés à 80 %.", document="vg-animaux.pdf", page=1)


def questions() -> list:
    return question_set(
        [
            (
                "Quel est le délai de renonciation ?",
                "Quatorze jours à compter de la signature.",
                "vg-hab-loc-conditions-generales.pdf",
                3,
            )
        ],
        ["Qui est le PDG de Vergemont Assurances ?"],
        robustness=1,
    )


class TestQuestionSet:
    def test_variants_follow_the_originals_and_keep_their_reference(self) -> None:
        items = questions()
        assert [i.variant for i in items] == [
            "original",
            "original",
            "typos",
            "no_accents",
            "lower_case",
            "reformulated",
        ]
        assert items[1].answerable is False
        assert all(i.answer == items[0].answer for i in items[2:])
        assert all(i.origin == items[0].question for i in items[2:])


class TestConfigurationEvaluator:
    def evaluator(self, reply: str) -> ConfigurationEvaluator:
        return ConfigurationEvaluator(
            {"fixed": FixedRetriever([PASSAGE, OTHER])},
            {"scripted": ScriptedGenerator(reply)},
            AnswerValidator(HashingEmbedder()),
        )

    def test_a_grounded_llm_answer_is_scored_on_every_dimension(self) -> None:
        reply = "Le délai de renonciation est de quatorze jours à compter de la signature [1]."
        result = self.evaluator(reply).evaluate(
            Configuration("fixed · scripted", "fixed", "scripted", "mistral_instruct"), questions()
        )
        m = result.metrics
        assert m["hit@4"] == 1.0
        assert m["mrr@4"] == 1.0
        assert m["rouge_l"] > 0.5
        assert m["grounded_rate"] == 1.0
        assert m["generative_share"] > 0
        assert m["llm_tokens_per_s"] > 0
        assert set(result.robustness) == {
            "original",
            "typos",
            "no_accents",
            "lower_case",
            "reformulated",
        }
        assert result.samples[0]["mode"] == "generative"

    def test_an_invented_figure_is_not_grounded_and_falls_back_to_the_extract(self) -> None:
        reply = "Le délai est de 30 jours [1]."
        result = self.evaluator(reply).evaluate(
            Configuration("c", "fixed", "scripted", "completion"), questions()
        )
        first = result.samples[0]
        assert first["mode"] == "extractive"
        assert any(note.startswith("validation_rejected") for note in first["notes"])
        assert result.metrics["generative_share"] == 0.0

    def test_unanswerable_questions_measure_refusals(self) -> None:
        result = self.evaluator("Je ne sais pas.").evaluate(
            Configuration("c", "fixed", "scripted", "completion"), questions()
        )
        assert result.metrics["refusal_rate_unanswerable"] == 1.0
        assert result.metrics["false_refusal_rate"] == 1.0
        assert result.metrics["rouge_l"] == 0.0

    def test_extractive_configurations_need_no_llm(self) -> None:
        result = self.evaluator("").evaluate(Configuration("c", "fixed", "extractive"), questions())
        assert "llm_tokens_per_s" not in result.metrics
        assert result.samples[0]["mode"] == "extractive"
        assert result.metrics["rouge_l"] > 0.3
