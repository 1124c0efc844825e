"""Formal evaluation of RAG configurations (retriever × LLM × prompt), HELM-style dimensions.

For each configuration, over the same questions:
- accuracy: hit@4 and MRR@4 of its retriever; ROUGE-L and BERTScore of its answers against the
  reference answers (answerable questions);
- grounded-answer rate: share of its non-refusal answers that the validator accepts against the
  passages they cite;
- refusal: share of the questions the documents do not hold that it declines (and, the other
  way round, the share of answerable questions it wrongly declines);
- robustness: the same questions with typos, without accents, in lower case and reworded —
  hit@4 and ROUGE-L per variant;
- calibration: the validator's score as a confidence that the answer is correct (ROUGE-L of at
  least `correct_rouge` for an answerable question, a refusal for the others): ECE and Brier;
- efficiency: answer latency (median, p95) and the LLM's tokens per second.
"""

import logging
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from finetune.metrics import OfflineBertScore, RougeL, calibration, percentile, strip_attribution
from finetune.perturb import VARIANTS
from knowledge.answering import AnswerService
from knowledge.eval.retrieval import first_hit_rank, metrics_from_ranks
from knowledge.interfaces import Chunk, Generator, Retriever
from knowledge.validation import AnswerValidator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    answer: str | None  # None: the documents do not hold the answer
    document: str = ""
    page: int = 0
    variant: str = "original"
    origin: str = ""  # the original question of a variant

    @property
    def answerable(self) -> bool:
        return self.answer is not None


def question_set(
    answerable: Sequence[tuple[str, str, str, int]],
    unanswerable: Sequence[str],
    robustness: int,
) -> list[EvalQuestion]:
    """Originals, unanswerable questions, and the variants of the first `robustness` originals."""
    items = [EvalQuestion(q, a, d, p) for q, a, d, p in answerable]
    items += [EvalQuestion(q, None) for q in unanswerable]
    for q, a, d, p in answerable[:robustness]:
        for name, variant in VARIANTS.items():
            items.append(EvalQuestion(variant(q), a, d, p, variant=name, origin=q))
    return items


class TimedGenerator:
    """Wraps a generator to measure its calls (seconds, tokens written)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.n_ctx = inner.n_ctx
        self.seconds = 0.0
        self.tokens = 0
        self.calls = 0

    def warm_up(self) -> None:
        self.inner.warm_up()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def generate(self, prompt: str, deadline_s: float) -> str:
        started = time.perf_counter()
        try:
            text = self.inner.generate(prompt, deadline_s)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
        self.tokens += self.inner.count_tokens(text) if text else 0
        return text


@dataclass(frozen=True)
class Configuration:
    name: str
    retriever: str  # a key of the retrievers given to `evaluate`
    llm: str  # a key of the generators, or "extractive"
    prompt: str = "completion"


@dataclass
class ConfigurationResult:
    name: str
    retriever: str
    llm: str
    prompt: str
    metrics: dict[str, float] = field(default_factory=dict)
    robustness: dict[str, dict[str, float]] = field(default_factory=dict)
    calibration_bins: list[tuple[float, float, float, int]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "retriever": self.retriever,
            "llm": self.llm,
            "prompt": self.prompt,
            "metrics": self.metrics,
            "robustness": self.robustness,
            "calibration_bins": self.calibration_bins,
            "samples": self.samples,
        }


def _is_gold(item: EvalQuestion) -> Callable[[Chunk], bool]:
    return lambda chunk: chunk.document == item.document and chunk.page == item.page


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


class ConfigurationEvaluator:
    def __init__(
        self,
        retrievers: dict[str, Retriever],
        generators: dict[str, Generator],
        validator: AnswerValidator,
        *,
        bert_score: OfflineBertScore | None = None,
        correct_rouge: float = 0.3,
        timeout_s: float = 30.0,
        max_answer_tokens: int = 80,
        on_answer: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.retrievers = retrievers
        self.generators = generators
        self.validator = validator
        self.bert_score = bert_score
        self.correct_rouge = correct_rouge
        self.timeout_s = timeout_s
        self.max_answer_tokens = max_answer_tokens
        self.on_answer = on_answer
        self.rouge = RougeL()

    def evaluate(
        self, configuration: Configuration, questions: Sequence[EvalQuestion], k: int = 4
    ) -> ConfigurationResult:
        retriever = self.retrievers[configuration.retriever]
        generator: TimedGenerator | None = None
        if configuration.llm != "extractive":
            generator = TimedGenerator(self.generators[configuration.llm])
        service = AnswerService(
            retriever,
            self.validator,
            generator=generator,
            prompt_format=configuration.prompt,
            top_k=k,
            timeout_s=self.timeout_s,
            max_answer_tokens=self.max_answer_tokens,
        )
        result = ConfigurationResult(
            configuration.name, configuration.retriever, configuration.llm, configuration.prompt
        )
        rows: list[dict[str, Any]] = []
        for position, item in enumerate(questions, start=1):
            rank = None
            if item.answerable:
                found = retriever.retrieve(item.question, top_k=k)
                rank = first_hit_rank(found, _is_gold(item))
            started = time.perf_counter()
            answer = service.answer(item.question)
            latency = time.perf_counter() - started
            text = strip_attribution(answer.text)
            refused = answer.mode == "refusal"
            verdict = None
            if not refused:
                # the extractive "D'après « doc » (page n) :" opening is attribution, not content
                verdict = self.validator.validate(
                    item.question, text, [s.passage for s in answer.sources]
                )
            rows.append(
                {
                    "question": item.question,
                    "variant": item.variant,
                    "origin": item.origin,
                    "answerable": item.answerable,
                    "reference": item.answer,
                    "answer": answer.text,
                    "mode": answer.mode,
                    "notes": list(answer.notes),
                    "rank": rank,
                    "latency_s": round(latency, 3),
                    "refused": refused,
                    "grounded": bool(verdict and verdict.accepted),
                    "validator_score": verdict.score if verdict else None,
                    "rouge_l": self._rouge(item, text, refused),
                }
            )
            if self.on_answer is not None:
                self.on_answer(configuration.name, position, len(questions))
        if self.bert_score is not None:
            # refused (or empty) answers score 0 without the model (bert-score cannot embed "")
            scored = [
                r
                for r in rows
                if r["answerable"] and not r["refused"] and strip_attribution(r["answer"]).strip()
            ]
            f1 = self.bert_score.f1(
                [r["reference"] for r in scored], [strip_attribution(r["answer"]) for r in scored]
            )
            for row in rows:
                if row["answerable"]:
                    row["bertscore_f1"] = 0.0
            for row, value in zip(scored, f1, strict=True):
                row["bertscore_f1"] = round(value, 4)
        result.samples = rows
        self._summarise(result, rows, k, generator)
        return result

    def _rouge(self, item: EvalQuestion, text: str, refused: bool) -> float | None:
        """ROUGE-L against the reference; 0 for a refused answerable question; None otherwise."""
        if item.answer is None:
            return None
        return 0.0 if refused else self.rouge.score(item.answer, text)

    def _summarise(
        self,
        result: ConfigurationResult,
        rows: list[dict[str, Any]],
        k: int,
        generator: TimedGenerator | None,
    ) -> None:
        originals = [r for r in rows if r["variant"] == "original" and r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        answered = [r for r in rows if not r["refused"]]
        retrieval = metrics_from_ranks([r["rank"] for r in originals], k)
        m: dict[str, float] = {
            "questions": len(originals),
            "hit@4": retrieval.hit_at_k,
            "mrr@4": retrieval.mrr_at_k,
            "rouge_l": _mean([r["rouge_l"] for r in originals]),
            "grounded_rate": _mean([1.0 if r["grounded"] else 0.0 for r in answered]),
            "refusal_rate_unanswerable": _mean(
                [1.0 if r["refused"] else 0.0 for r in unanswerable]
            ),
            "false_refusal_rate": _mean([1.0 if r["refused"] else 0.0 for r in originals]),
        }
        if any("bertscore_f1" in r for r in originals):
            m["bertscore_f1"] = _mean([r["bertscore_f1"] for r in originals])
        confidences: list[float] = []
        correct: list[bool] = []
        for r in rows:
            if r["variant"] != "original":
                continue
            confidence = 1.0 if r["refused"] else float(r["validator_score"] or 0.0)
            ok = (
                r["refused"] if not r["answerable"] else (r["rouge_l"] or 0.0) >= self.correct_rouge
            )
            confidences.append(min(1.0, max(0.0, confidence)))
            correct.append(bool(ok))
        calib = calibration(confidences, correct)
        m["calibration_ece"] = calib.ece
        m["brier"] = calib.brier
        result.calibration_bins = calib.bins
        latencies = [r["latency_s"] for r in rows]
        m["latency_median_s"] = statistics.median(latencies) if latencies else math.nan
        m["latency_p95_s"] = percentile(latencies, 0.95)
        if generator is not None and generator.seconds > 0:
            m["llm_tokens_per_s"] = generator.tokens / generator.seconds
            m["generative_share"] = _mean([1.0 if r["mode"] == "generative" else 0.0 for r in rows])
        for name in VARIANTS:
            variant_rows = [r for r in rows if r["variant"] == name]
            if not variant_rows:
                continue
            ranks = metrics_from_ranks([r["rank"] for r in variant_rows], k)
            result.robustness[name] = {
                "questions": len(variant_rows),
                "hit@4": ranks.hit_at_k,
                "rouge_l": _mean([r["rouge_l"] for r in variant_rows]),
            }
        origins = {r["origin"] for r in rows if r["variant"] != "original"}
        base = [r for r in originals if r["question"] in origins]
        if base:
            ranks = metrics_from_ranks([r["rank"] for r in base], k)
            result.robustness = {
                "original": {
                    "questions": len(base),
                    "hit@4": ranks.hit_at_k,
                    "rouge_l": _mean([r["rouge_l"] for r in base]),
                },
                **result.robustness,
            }
        result.metrics = {
            key: (round(value, 4) if isinstance(value, float) else value)
            for key, value in m.items()
        }
