"""Evaluation of answers: the report's generator runs, and the demo's RAG configurations.

Generator runs (`evaluate_answers`, one answering strategy over held-out items): every strategy
reads the same passages for the same question (`EvalItem.passages`, fixed once for all of
them), so a difference between two rows is the answering component's, never retrieval's.

- `ServiceAnswerer`: the knowledge base's `AnswerService` over those passages, as the chat
  runs it — sentence extraction (today's default), the span reader, or the generative path (the
  LLM's answer when the validator accepts it, the extractive one when it does not) — with its
  refusal when no passage shares enough words with the question and, for the reader, its
  abstention under the calibrated threshold;
- `GeneratorAnswerer`: a GGUF model through llama.cpp (the base Gemma 3 270M, or the same with
  a LoRA adapter) prompted with the knowledge base's prompt, read as written: its own refusals
  ("Je ne sais pas", "les documents ne contiennent pas …"), no fallback, no gate, so the row
  measures the model.

Per item: ROUGE-L and BERTScore F1 against the reference (answerable items; a refusal scores
0), grounded (the validator accepts the answer against the passages; answered items), refused,
latency (seconds of the answering component alone), generated tokens. Per run: their means,
refusal on unanswerable items, false refusal on answerable ones, latency p50/p95, tokens/s.

The demo's `ConfigurationEvaluator` (retriever × LLM × prompt through `AnswerService`, with
the HELM-style dimensions) is kept below for `python -m finetune evaluate` and `demo`.
"""

import hashlib
import json
import logging
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from finetune.metrics import (
    OfflineBertScore,
    RougeL,
    calibration,
    is_refusal,
    percentile,
    strip_attribution,
)
from finetune.perturb import VARIANTS
from knowledge.answering import AnswerService
from knowledge.errors import GenerationError
from knowledge.eval.retrieval import first_hit_rank, metrics_from_ranks
from knowledge.interfaces import Chunk, Generator, Retriever, ScoredChunk, SearchFilters
from knowledge.prompts import build_prompt
from knowledge.validation import AnswerValidator

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- held-out items


@dataclass(frozen=True)
class Passage:
    document: str
    page: int
    text: str
    product_code: str = ""


@dataclass(frozen=True)
class EvalItem:
    """One held-out question with the passages every answering strategy reads.

    JSONL, one object per line: `id`, `question`, `answer` (the reference; null when the
    documents do not answer), `source` ("own", "piaf", "unanswerable", …), `document` and
    `page` (where the answer is), `product_code`, `other_pages` ([[document, page], …]: other
    pages that answer), `passages` ([{document, page, text, product_code}], best first)."""

    id: str
    question: str
    answer: str | None
    source: str
    document: str = ""
    page: int = 0
    product_code: str | None = None
    other_pages: tuple[tuple[str, int], ...] = ()
    passages: tuple[Passage, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.answer is not None

    def answers_on(self, document: str, page: int) -> bool:
        """The page is the one the answer is on, or another page that answers."""
        return (document, page) == (self.document, self.page) or (
            document,
            page,
        ) in self.other_pages

    def chunks(self) -> list[ScoredChunk]:
        return [
            ScoredChunk(
                Chunk(
                    chunk_id=f"{self.id}#{position}",
                    document=p.document,
                    page=p.page,
                    text=p.text,
                    product_code=p.product_code,
                ),
                1.0 - 0.01 * position,
            )
            for position, p in enumerate(self.passages)
        ]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["other_pages"] = [list(pair) for pair in self.other_pages]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EvalItem":
        return cls(
            id=str(data["id"]),
            question=str(data["question"]),
            answer=data.get("answer"),
            source=str(data.get("source", "")),
            document=str(data.get("document") or ""),
            page=int(data.get("page") or 0),
            product_code=data.get("product_code") or None,
            other_pages=tuple((str(d), int(p)) for d, p in data.get("other_pages", [])),
            passages=tuple(
                Passage(
                    str(p["document"]), int(p["page"]), str(p["text"]), p.get("product_code", "")
                )
                for p in data.get("passages", [])
            ),
        )


def item_id(source: str, question: str) -> str:
    return f"{source}-{hashlib.sha1(question.encode(), usedforsecurity=False).hexdigest()[:10]}"


def write_items(path: Path, items: Iterable[EvalItem]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        for item in items:
            file.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")


def read_items(path: Path) -> list[EvalItem]:
    return [
        EvalItem.from_json(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def with_passages(
    items: Sequence[EvalItem],
    retrieve: Callable[[EvalItem], Sequence[ScoredChunk]],
) -> list[EvalItem]:
    """The items with the passages `retrieve` finds for them (fixed from then on)."""
    result = []
    for item in items:
        found = retrieve(item)
        passages = tuple(
            Passage(f.chunk.document, f.chunk.page, f.chunk.text, f.chunk.product_code)
            for f in found
        )
        result.append(EvalItem(**{**item.__dict__, "passages": passages}))
    return result


# ---------------------------------------------------------------- answering strategies


@dataclass(frozen=True)
class Output:
    """What an answering strategy said, and what it cost."""

    text: str
    refused: bool
    mode: str  # "extractive", "reader", "generative", "refusal"
    source: tuple[str, int] | None = None  # the passage the answer comes from
    confidence: float | None = None  # the reader's calibrated confidence
    tokens: int = 0  # generated tokens (LLMs)
    generation_s: float = 0.0
    error: str = ""


class Answerer(Protocol):
    name: str

    def warm_up(self) -> None: ...

    def answer(self, item: EvalItem) -> Output: ...


class _ItemPassages:
    """A `Retriever` that returns one item's passages, whatever the query."""

    def __init__(self) -> None:
        self.chunks: list[ScoredChunk] = []

    def retrieve(
        self, query: str, top_k: int = 4, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        return self.chunks[:top_k]

    def retrieve_in_context(self, query: str, product: str, top_k: int = 4) -> list[ScoredChunk]:
        return self.chunks[:top_k]


def _confidence(notes: Sequence[str]) -> float | None:
    for note in notes:
        if note.startswith("confidence="):
            return float(note.split("=", 1)[1])
    return None


class ServiceAnswerer:
    """`AnswerService` over the item's passages, as the chat answers: sentence extraction (by the
    sentence selector when one is given), the span reader when one is given, or, with a
    generator, the generative path (the LLM's answer when the validator accepts it, else the
    extractive one)."""

    def __init__(
        self,
        name: str,
        validator: AnswerValidator,
        reader: Any | None = None,
        sentence_selector: Any | None = None,
        generator: Generator | None = None,
        prompt_format: str = "completion",
        max_answer_tokens: int = 80,
        timeout_s: float = 60.0,
    ) -> None:
        self.name = name
        self._passages = _ItemPassages()
        self.service = AnswerService(
            self._passages,
            validator,
            generator=generator,
            prompt_format=prompt_format,
            max_answer_tokens=max_answer_tokens,
            timeout_s=timeout_s,
            reader=reader,
            sentence_selector=sentence_selector,
            top_k=100,
        )

    def warm_up(self) -> None:
        self.service.warm_up()

    def answer(self, item: EvalItem) -> Output:
        self._passages.chunks = item.chunks()
        answer = self.service.answer(item.question)
        refused = answer.mode == "refusal"
        top = answer.sources[0] if answer.sources and not refused else None
        reader = "reader" in answer.notes
        return Output(
            text=answer.text,
            refused=refused,
            mode="refusal" if refused else ("reader" if reader else answer.mode),
            source=(top.document, top.page) if top and top.page is not None else None,
            confidence=_confidence(answer.notes),
        )


class GeneratorAnswerer:
    """A generator prompted with the knowledge base's prompt over the item's passages."""

    def __init__(
        self,
        name: str,
        generator: Generator,
        *,
        prompt_format: str = "completion",
        max_answer_tokens: int = 80,
        timeout_s: float = 60.0,
    ) -> None:
        self.name = name
        self.generator = generator
        self.prompt_format = prompt_format
        self.max_answer_tokens = max_answer_tokens
        self.timeout_s = timeout_s

    def warm_up(self) -> None:
        self.generator.warm_up()

    def answer(self, item: EvalItem) -> Output:
        budget = self.generator.n_ctx - self.max_answer_tokens
        prompt, used = build_prompt(
            item.question,
            item.chunks(),
            self.prompt_format,
            self.generator.count_tokens,
            budget,
        )
        started = time.perf_counter()
        try:
            text = self.generator.generate(prompt, deadline_s=self.timeout_s)
        except GenerationError as error:
            # a time-out or a crash answers nothing: counted as a refusal, the error kept
            seconds = time.perf_counter() - started
            return Output("", True, "refusal", generation_s=seconds, error=str(error))
        seconds = time.perf_counter() - started
        tokens = self.generator.count_tokens(text) if text else 0
        refused = is_refusal(text)
        top = used[0].chunk if used and not refused else None
        return Output(
            text=text,
            refused=refused,
            mode="refusal" if refused else "generative",
            source=(top.document, top.page) if top else None,
            tokens=tokens,
            generation_s=seconds,
        )


# ---------------------------------------------------------------- one run over the items


def evaluate_answers(
    items: Sequence[EvalItem],
    answerer: Answerer,
    validator: AnswerValidator,
    *,
    bert_score: OfflineBertScore | None = None,
    on_item: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one prediction per item, the run's figures)."""
    rouge = RougeL()
    answerer.warm_up()
    rows: list[dict[str, Any]] = []
    for position, item in enumerate(items, start=1):
        started = time.perf_counter()
        output = answerer.answer(item)
        latency = time.perf_counter() - started
        content = strip_attribution(output.text)
        grounded = None
        if not output.refused:
            verdict = validator.validate(item.question, content, [p.text for p in item.passages])
            grounded = verdict.accepted
        row: dict[str, Any] = {
            "id": item.id,
            "source": item.source,
            "question": item.question,
            "reference": item.answer,
            "answerable": item.answerable,
            "answer": output.text,
            "mode": output.mode,
            "refused": output.refused,
            "grounded": grounded,
            "rouge_l": None
            if item.answer is None
            else (0.0 if output.refused else round(rouge.score(item.answer, content), 4)),
            "confidence": output.confidence,
            "answer_page": list(output.source) if output.source else None,
            "answer_on_answering_page": bool(
                output.source and item.answerable and item.answers_on(*output.source)
            ),
            "latency_s": round(latency, 4),
            "tokens": output.tokens,
            "generation_s": round(output.generation_s, 6),
        }
        if output.error:
            row["error"] = output.error
        rows.append(row)
        if on_item is not None:
            on_item(position, len(items))
    if bert_score is not None:
        _add_bert_scores(rows, bert_score)
    return rows, summarise_answers(rows)


def _add_bert_scores(rows: list[dict[str, Any]], scorer: OfflineBertScore) -> None:
    """BERTScore F1 of each answered answerable item; 0 for a refusal (as ROUGE-L)."""
    scored = [
        r for r in rows if r["answerable"] and not r["refused"] and strip_attribution(r["answer"])
    ]
    values = scorer.f1(
        [str(r["reference"]) for r in scored], [strip_attribution(r["answer"]) for r in scored]
    )
    for row in rows:
        if row["answerable"]:
            row["bertscore_f1"] = 0.0
    for row, value in zip(scored, values, strict=True):
        row["bertscore_f1"] = round(value, 4)


def _rate(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise_answers(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["refused"]]
    latencies = [float(r["latency_s"]) for r in rows]
    tokens = sum(int(r.get("tokens") or 0) for r in rows)
    generation = sum(float(r.get("generation_s") or 0.0) for r in rows)
    metrics: dict[str, Any] = {
        "items": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "rouge_l": _mean_or_none([float(r["rouge_l"]) for r in answerable]),
        "grounded_rate": _rate([bool(r["grounded"]) for r in answered]),
        "refusal_rate_unanswerable": _rate([bool(r["refused"]) for r in unanswerable]),
        "false_refusal_rate": _rate([bool(r["refused"]) for r in answerable]),
        "latency_p50_s": round(statistics.median(latencies), 4) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 0.95), 4) if latencies else None,
        "tokens_per_s": round(tokens / generation, 2) if tokens and generation > 0 else None,
        "errors": sum(1 for r in rows if r.get("error")),
    }
    if any("bertscore_f1" in r for r in answerable):
        metrics["bertscore_f1"] = _mean_or_none([float(r["bertscore_f1"]) for r in answerable])
    for source in sorted({str(r["source"]) for r in answerable}):
        metrics[f"rouge_l[{source}]"] = _mean_or_none(
            [float(r["rouge_l"]) for r in answerable if r["source"] == source]
        )
    return metrics


def _mean_or_none(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


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
