"""The configuration evaluator over a fixed retriever and a scripted LLM (no model needed)."""

import json
import time
from pathlib import Path

import pytest

from finetune.evaluation import (
    Configuration,
    ConfigurationEvaluator,
    EvalItem,
    GeneratorAnswerer,
    Passage,
    ServiceAnswerer,
    evaluate_answers,
    item_id,
    question_set,
    read_items,
    write_items,
)
from knowledge.errors import GenerationError
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


# ---------------------------------------------------------------- the report's generator runs


def item(question: str, answer: str | None, *passages: str, source: str = "own") -> EvalItem:
    return EvalItem(
        id=item_id(source, question),
        question=question,
        answer=answer,
        source=source,
        document="vg-hab-loc-conditions-generales.pdf" if answer else "",
        page=3 if answer else 0,
        passages=tuple(
            Passage("vg-hab-loc-conditions-generales.pdf", 3 + i, text)
            for i, text in enumerate(passages)
        ),
    )


DELAY = item(
    "Quel est le délai de renonciation ?",
    "Quatorze jours à compter de la signature.",
    PASSAGE.text,
    OTHER.text,
)
CEO = item("Qui est le PDG de Vergemont Assurances ?", None, OTHER.text, source="unanswerable")


class SlowGenerator(ScriptedGenerator):
    def generate(self, prompt: str, deadline_s: float) -> str:
        time.sleep(0.01)
        return super().generate(prompt, deadline_s)


class FlakyGenerator(ScriptedGenerator):
    def generate(self, prompt: str, deadline_s: float) -> str:
        if "PDG" in prompt:
            raise GenerationError("model crashed")
        return super().generate(prompt, deadline_s)


class TestGeneratorRuns:
    def run(self, answerer: object, items: list[EvalItem]) -> tuple[list[dict], dict]:
        return evaluate_answers(items, answerer, AnswerValidator(HashingEmbedder()))  # type: ignore[arg-type]

    def test_every_strategy_reads_the_items_own_passages(self) -> None:
        generator = ScriptedGenerator("Quatorze jours à compter de la signature [1].")
        rows, _ = self.run(GeneratorAnswerer("g", generator), [DELAY])
        assert PASSAGE.text in generator.prompts[0]
        assert OTHER.text in generator.prompts[0]
        assert rows[0]["answer_page"] == ["vg-hab-loc-conditions-generales.pdf", 3]
        assert rows[0]["answer_on_answering_page"] is True

    def test_a_grounded_generated_answer_scores_and_counts_its_tokens(self) -> None:
        reply = "Le délai de renonciation est de quatorze jours à compter de la signature [1]."
        rows, metrics = self.run(GeneratorAnswerer("g", SlowGenerator(reply)), [DELAY, CEO])
        assert rows[0]["grounded"] is True
        assert rows[0]["rouge_l"] > 0.5
        assert rows[0]["tokens"] == len(reply.split())
        assert rows[1]["grounded"] is False  # the same answer to the CEO, from the vet passage
        assert metrics["grounded_rate"] == 0.5
        assert metrics["refusal_rate_unanswerable"] == 0.0
        assert 0 < metrics["tokens_per_s"] < len(reply.split()) / 0.01

    def test_an_invented_figure_is_not_grounded_and_nothing_falls_back(self) -> None:
        rows, metrics = self.run(
            GeneratorAnswerer("g", ScriptedGenerator("Le délai est de 30 jours [1].")), [DELAY]
        )
        assert rows[0]["mode"] == "generative"
        assert rows[0]["grounded"] is False
        assert metrics["grounded_rate"] == 0.0

    def test_refusals_score_zero_and_count_as_refusals(self) -> None:
        rows, metrics = self.run(
            GeneratorAnswerer("g", ScriptedGenerator("Je ne sais pas.")), [DELAY, CEO]
        )
        assert [r["refused"] for r in rows] == [True, True]
        assert rows[0]["rouge_l"] == 0.0
        assert rows[0]["grounded"] is None
        assert metrics["false_refusal_rate"] == 1.0
        assert metrics["refusal_rate_unanswerable"] == 1.0

    def test_a_crash_is_a_refusal_with_its_error_kept(self) -> None:
        rows, metrics = self.run(
            GeneratorAnswerer("g", FlakyGenerator("Quatorze jours [1].")), [DELAY, CEO]
        )
        assert rows[1]["refused"] is True
        assert rows[1]["error"] == "model crashed"
        assert metrics["errors"] == 1

    def test_the_extractive_service_quotes_a_passage_and_refuses_without_overlap(self) -> None:
        rows, metrics = self.run(
            ServiceAnswerer("extractive", AnswerValidator(HashingEmbedder())), [DELAY, CEO]
        )
        assert rows[0]["mode"] == "extractive"
        assert rows[0]["grounded"] is True
        assert "quatorze jours" in rows[0]["answer"]
        assert rows[1]["refused"] is True  # no passage word in common with the CEO question
        assert metrics["false_refusal_rate"] == 0.0

    def test_the_extractive_service_shows_the_sentence_selectors_choice(self) -> None:
        """As the chat answers by default: the selector's sentence, not the word-overlap one."""
        from knowledge.rerank.reranker import SentenceSelector

        class PrefersVets:
            titled = False
            precision = "float32"

            def warm_up(self) -> None: ...

            def scores(self, question: str, passages: list[str]) -> list[float]:
                return [float("vétérinaires" in passage) for passage in passages]

        selector = SentenceSelector(PrefersVets())  # type: ignore[arg-type]
        answerer = ServiceAnswerer(
            "extractive", AnswerValidator(HashingEmbedder()), sentence_selector=selector
        )
        rows, _ = self.run(answerer, [DELAY])
        assert rows[0]["answer"] == OTHER.text

    def test_the_generative_path_shows_an_accepted_answer_and_falls_back_on_a_rejected_one(
        self,
    ) -> None:
        """As the chat with its LLM on: the generator's answer when the validator accepts it,
        the extractive sentence when it does not (here: a figure the passages do not hold)."""
        accepted = "Le délai de renonciation est de quatorze jours à compter de la signature [1]."
        rows, _ = self.run(
            ServiceAnswerer(
                "chat", AnswerValidator(HashingEmbedder()), generator=ScriptedGenerator(accepted)
            ),
            [DELAY],
        )
        assert (rows[0]["mode"], rows[0]["answer"]) == ("generative", accepted)

        invented = "Le délai de renonciation est de 45 jours [1]."
        rows, _ = self.run(
            ServiceAnswerer(
                "chat", AnswerValidator(HashingEmbedder()), generator=ScriptedGenerator(invented)
            ),
            [DELAY],
        )
        assert rows[0]["mode"] == "extractive"
        assert "quatorze jours" in rows[0]["answer"]

    def test_items_survive_their_jsonl_file(self, tmp_path: Path) -> None:
        write_items(tmp_path / "items.jsonl", [DELAY, CEO])
        assert read_items(tmp_path / "items.jsonl") == [DELAY, CEO]

    def test_a_calibration_line_without_a_page_reads_as_unanswerable(self, tmp_path: Path) -> None:
        line = {
            "id": "u-1",
            "source": "unanswerable",
            "question": "Q ?",
            "answer": None,
            "document": None,
            "page": None,
        }
        (tmp_path / "c.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
        (read,) = read_items(tmp_path / "c.jsonl")
        assert read.answerable is False
        assert (read.document, read.page) == ("", 0)
