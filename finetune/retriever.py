"""Retriever fine-tuning: the bi-encoder (contrastive) and a cross-encoder reranker.

- Bi-encoder: sentence-transformers' `MultipleNegativesRankingLoss` on (question, passage,
  hard negative) triples. Every other passage of the batch is an in-batch negative; the hard
  negative is mined with BM25 over the whole corpus (the best-ranked passage from another page).
  Batches never hold two questions of the same passage (that would be a false negative). The
  word-embedding matrix (250k tokens × 384 for multilingual E5) is frozen by default: it is most
  of the parameters, barely moves on a few hundred pairs, and freezing it keeps the optimizer
  small on a CPU.
- Cross-encoder: the same encoder with a one-logit classification head, trained as the brief's
  binary classifier ("does this question come from this passage?") on the positive pairs and
  as many mined negatives; `CrossEncoderReranker` re-orders a retriever's candidates with it.

Evaluation indexes every corpus passage in an embedded store (the knowledge base's store and
retriever) and records, per held-out question, the rank of its first passage from the right
page (`question_ranks`); hit@4 and MRR@4 follow, with paired bootstrap intervals.

A training run whose loss does not fall (`loss_fell`: the mean of its last steps is not at
least 5 % under the mean of its first) is a failed run: its model is not evaluated nor adopted.

Adoption (`adoption_decision`): the fine-tuned model replaces the base one in the knowledge
base's defaults only when the 95 % interval of its hit@4 difference with the base model, on
the held-out questions, lies above 0 — and, on the team's own questions alone, does not lie
below 0 (a model proven worse on insurance questions is not adopted whatever PIAF says).
"""

import json
import logging
import math
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from finetune.bootstrap import DEFAULT, BootstrapSettings, Interval, paired_difference
from finetune.errors import TrainingError
from finetune.records import Triplet
from knowledge.chunking import searchable_text
from knowledge.eval.datasets import Question
from knowledge.eval.retrieval import (
    Metrics,
    embed_in_batches,
    evaluate_questions,
    first_hit_rank,
)
from knowledge.interfaces import (
    Chunk,
    DocumentStore,
    Embedder,
    RetrievalMode,
    Retriever,
    ScoredChunk,
    SearchFilters,
    StoredDocument,
)
from knowledge.qa.features import MIN_PASSAGE_TOKENS, PAIR_SPECIAL_TOKENS, question_tail

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BiEncoderSettings:
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 160
    freeze_embeddings: bool = True
    hard_negatives: bool = True
    seed: int = 0


@dataclass(frozen=True)
class CrossEncoderSettings:
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    max_length: int = 192
    freeze_embeddings: bool = True
    seed: int = 0


@dataclass(frozen=True)
class TrainingPair:
    question: str
    positive: str  # the passage's searchable text (title — section, then the passage)
    positive_key: str  # document#page, to keep it out of its own negatives
    negative: str | None = None


# ---------------------------------------------------------------- data


def page_key(document: str, page: int) -> str:
    return f"{document}#{page}"


def training_pairs(
    triplets: Sequence[Triplet], chunks: Sequence[Chunk], store: DocumentStore | None
) -> list[TrainingPair]:
    """(question, positive passage, BM25-mined hard negative) for each triplet.

    The positive is the chunk the triplet was generated from when it is in the corpus (its
    searchable text), else its context as written."""
    by_id = {chunk.chunk_id: chunk for chunk in chunks}
    pairs: list[TrainingPair] = []
    for triplet in triplets:
        p = triplet.provenance
        chunk = by_id.get(p.chunk_id)
        positive = searchable_text(chunk) if chunk is not None else triplet.context
        key = page_key(p.document, p.page)
        negative = None
        if store is not None:
            for found in store.lexical_search(triplet.question, 10):
                if page_key(found.chunk.document, found.chunk.page) != key:
                    negative = searchable_text(found.chunk)
                    break
        pairs.append(TrainingPair(triplet.question, positive, key, negative))
    return pairs


def question_pairs(
    items: Sequence[tuple[str, Chunk]], store: DocumentStore | None
) -> list[TrainingPair]:
    """(question, its passage, BM25-mined hard negative from another page) for each
    (question, passage) — PIAF questions with their paragraph, the team's with their page's
    passage."""
    pairs: list[TrainingPair] = []
    for question, chunk in items:
        key = page_key(chunk.document, chunk.page)
        negative = None
        if store is not None:
            for found in store.lexical_search(question, 10):
                if page_key(found.chunk.document, found.chunk.page) != key:
                    negative = searchable_text(found.chunk)
                    break
        pairs.append(TrainingPair(question, searchable_text(chunk), key, negative))
    return pairs


def loss_fell(
    losses: Sequence[float], min_drop: float = 0.05, window: int | None = None
) -> tuple[bool, float, float]:
    """(fell, mean of the first steps, mean of the last steps): the loss fell when the last
    window's mean is at least `min_drop` (relative) under the first's. The window is a tenth
    of the steps, at least 5 (at most half of them)."""
    if len(losses) < 2:
        return False, math.nan, math.nan
    size = window or max(5, len(losses) // 10)
    size = max(1, min(size, len(losses) // 2))
    first = sum(losses[:size]) / size
    last = sum(losses[-size:]) / size
    return last <= first * (1.0 - min_drop), first, last


def batches_without_collisions(
    pairs: Sequence[TrainingPair], batch_size: int, seed: int
) -> list[list[TrainingPair]]:
    """Shuffled batches in which no two pairs share a page (no false in-batch negatives)."""
    order = list(pairs)
    random.Random(seed).shuffle(order)  # noqa: S311 - reproducible shuffling, not security
    batches: list[list[TrainingPair]] = []
    open_batches: list[tuple[list[TrainingPair], set[str]]] = []
    for pair in order:
        for batch, keys in open_batches:
            if len(batch) < batch_size and pair.positive_key not in keys:
                batch.append(pair)
                keys.add(pair.positive_key)
                break
        else:
            open_batches.append(([pair], {pair.positive_key}))
    batches = [batch for batch, _ in open_batches if len(batch) > 1]
    return batches


# ---------------------------------------------------------------- bi-encoder


def _freeze_word_embeddings(module: torch.nn.Module) -> int:
    frozen = 0
    for name, parameter in module.named_parameters():
        if "word_embeddings" in name:
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen


def _linear_warmup(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> Any:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class TrainingLog:
    steps: int = 0
    seconds: float = 0.0
    losses: list[tuple[int, float]] = field(default_factory=list)
    pairs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _losses_module() -> Any:
    """sentence-transformers' losses (moved to `sentence_transformer.losses` in version 6)."""
    import importlib

    try:
        return importlib.import_module("sentence_transformers.sentence_transformer.losses")
    except ImportError:
        return importlib.import_module("sentence_transformers.losses")


def train_bi_encoder(
    base_model: Path,
    pairs: Sequence[TrainingPair],
    out_dir: Path,
    settings: BiEncoderSettings | None = None,
    *,
    query_prefix: str = "query: ",
    passage_prefix: str = "passage: ",
    on_step: Callable[[int, int, float], None] | None = None,
) -> TrainingLog:
    """Fine-tunes a sentence-transformers model with MultipleNegativesRankingLoss; saves it in
    `out_dir` with its query/passage prompts."""
    from sentence_transformers import SentenceTransformer

    losses = _losses_module()

    s = settings or BiEncoderSettings()
    if len(pairs) < 2:
        raise TrainingError("at least 2 training pairs are needed for in-batch negatives")
    torch.manual_seed(s.seed)
    model = SentenceTransformer(str(base_model), device="cpu")
    model.max_seq_length = s.max_seq_length
    if s.freeze_embeddings:
        _freeze_word_embeddings(model)
    loss_fn = losses.MultipleNegativesRankingLoss(model)
    batches = [
        batch
        for epoch in range(s.epochs)
        for batch in batches_without_collisions(pairs, s.batch_size, s.seed + epoch)
    ]
    if not batches:
        raise TrainingError("no batch of two pairs from different pages")
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=s.learning_rate)
    scheduler = _linear_warmup(optimizer, math.ceil(s.warmup_ratio * len(batches)), len(batches))
    log = TrainingLog(losses=[], pairs=len(pairs))
    started = time.perf_counter()
    model.train()
    for step, batch in enumerate(batches, start=1):
        columns = [
            [query_prefix + pair.question for pair in batch],
            [passage_prefix + pair.positive for pair in batch],
        ]
        if s.hard_negatives and all(pair.negative for pair in batch):
            columns.append([passage_prefix + str(pair.negative) for pair in batch])
        features = [
            {
                key: value.to(model.device) if isinstance(value, torch.Tensor) else value
                for key, value in model.tokenize(column).items()
            }
            for column in columns
        ]
        loss = loss_fn(features, torch.zeros(len(batch), device=model.device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        log.losses.append((step, round(value, 5)))
        if on_step is not None:
            on_step(step, len(batches), value)
    log.steps = len(batches)
    log.seconds = time.perf_counter() - started
    model.eval()
    model.prompts = {"query": query_prefix, "passage": passage_prefix}
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    (out_dir / "finetune.json").write_text(
        json.dumps({"base_model": str(base_model), "settings": asdict(s), **log.as_dict()}),
        encoding="utf-8",
    )
    return log


# ---------------------------------------------------------------- cross-encoder


class CrossEncoderScorer:
    """P(question comes from passage) from a sequence-classification model with one logit."""

    def __init__(self, model_dir: Path, *, max_length: int = 192, batch_size: int = 32) -> None:
        self.model_dir = model_dir
        self.max_length = max_length
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        self._model = AutoModelForSequenceClassification.from_pretrained(str(self.model_dir))
        self._model.eval()

    def score(self, questions: Sequence[str], passages: Sequence[str]) -> np.ndarray[Any, Any]:
        self.warm_up()
        scores: list[float] = []
        with torch.no_grad():
            for start in range(0, len(questions), self.batch_size):
                encoded = _encode_pairs(
                    self._tokenizer,
                    questions[start : start + self.batch_size],
                    passages[start : start + self.batch_size],
                    self.max_length,
                )
                logits = self._model(**encoded).logits.reshape(-1)
                scores.extend(torch.sigmoid(logits).tolist())
        return np.asarray(scores, dtype=np.float32)


def _encode_pairs(
    tokenizer: Any, questions: Sequence[str], passages: Sequence[str], max_length: int
) -> Any:
    """Each question paired with its passage, the passage cut to fit `max_length` tokens; a
    question too long to leave the passage MIN_PASSAGE_TOKENS keeps its end (the tokenizer can
    only cut the passage, and refuses the pair otherwise)."""
    prefix = len(tokenizer("query: ", add_special_tokens=False)["input_ids"])
    limit = max_length - PAIR_SPECIAL_TOKENS - MIN_PASSAGE_TOKENS - prefix
    tails = {q: question_tail(tokenizer, q, limit) for q in set(questions)}
    return tokenizer(
        [f"query: {tails[q]}" for q in questions],
        [f"passage: {p}" for p in passages],
        padding=True,
        truncation="only_second",
        max_length=max_length,
        return_tensors="pt",
    )


def train_cross_encoder(
    base_model: Path,
    pairs: Sequence[TrainingPair],
    out_dir: Path,
    settings: CrossEncoderSettings | None = None,
    *,
    on_step: Callable[[int, int, float], None] | None = None,
) -> TrainingLog:
    """Binary classifier: label 1 for (question, its passage), 0 for (question, hard negative)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    s = settings or CrossEncoderSettings()
    examples = [(p.question, p.positive, 1.0) for p in pairs]
    examples += [(p.question, p.negative, 0.0) for p in pairs if p.negative]
    if not any(label == 0.0 for *_, label in examples):
        raise TrainingError("the cross-encoder needs negatives (mined from a store)")
    torch.manual_seed(s.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model))
    model = AutoModelForSequenceClassification.from_pretrained(str(base_model), num_labels=1)
    if s.freeze_embeddings:
        _freeze_word_embeddings(model)
    order = [examples[i] for i in np.random.default_rng(s.seed).permutation(len(examples))]
    batches = [
        order[i : i + s.batch_size]
        for _ in range(s.epochs)
        for i in range(0, len(order), s.batch_size)
    ]
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=s.learning_rate)
    scheduler = _linear_warmup(optimizer, max(1, len(batches) // 10), len(batches))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    log = TrainingLog(losses=[], pairs=len(examples))
    started = time.perf_counter()
    model.train()
    for step, batch in enumerate(batches, start=1):
        encoded = _encode_pairs(
            tokenizer, [b[0] for b in batch], [str(b[1]) for b in batch], s.max_length
        )
        logits = model(**encoded).logits.reshape(-1)
        loss = loss_fn(logits, torch.tensor([b[2] for b in batch]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        log.losses.append((step, round(value, 5)))
        if on_step is not None:
            on_step(step, len(batches), value)
    log.steps = len(batches)
    log.seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return log


class PairScorer(Protocol):
    """Scores how likely each question comes from its passage (higher: more likely)."""

    def score(self, questions: Sequence[str], passages: Sequence[str]) -> Sequence[float] | Any: ...


class CrossEncoderReranker:
    """A `Retriever` that re-orders the `candidates` best passages of another retriever by the
    cross-encoder's probability that the question comes from the passage."""

    def __init__(self, retriever: Retriever, scorer: PairScorer, candidates: int = 20) -> None:
        self.retriever = retriever
        self.scorer = scorer
        self.candidates = candidates

    def retrieve(
        self, query: str, top_k: int = 4, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        found = self.retriever.retrieve(query, top_k=max(top_k, self.candidates), filters=filters)
        return self._rerank(query, found, top_k)

    def retrieve_in_context(self, query: str, product: str, top_k: int = 4) -> list[ScoredChunk]:
        found = self.retriever.retrieve_in_context(query, product, max(top_k, self.candidates))
        return self._rerank(query, found, top_k)

    def _rerank(self, query: str, found: list[ScoredChunk], top_k: int) -> list[ScoredChunk]:
        if not found:
            return []
        scores = np.asarray(
            self.scorer.score([query] * len(found), [searchable_text(f.chunk) for f in found]),
            dtype=np.float32,
        )
        order = np.argsort(-scores, kind="stable")[:top_k]
        return [ScoredChunk(found[i].chunk, float(scores[i])) for i in order]


# ---------------------------------------------------------------- evaluation


class CorpusIndex:
    """Every corpus passage in a temporary embedded store, embedded by one model."""

    def __init__(
        self, chunks: Sequence[Chunk], embedder: Embedder | None, directory: Path | None = None
    ) -> None:
        """`directory`: keep the index there (reused when it already holds these chunks);
        None: a temporary directory removed by `close()`."""
        from knowledge.stores.embedded import EmbeddedStore

        self._directory = (
            tempfile.TemporaryDirectory(prefix="finetune-index-") if directory is None else None
        )
        location = (
            Path(self._directory.name) if self._directory is not None else Path(str(directory))
        )
        self.embedder = embedder
        self.store = EmbeddedStore(
            location, embedding_model=embedder.model_name if embedder else None
        )
        if directory is not None and self.store.count() == len(chunks):
            return
        texts = [searchable_text(chunk) for chunk in chunks]
        if embedder is not None:
            vectors = np.concatenate(
                [embedder.embed_passages(texts[i : i + 32]) for i in range(0, len(texts), 32)]
            )
        else:
            vectors = np.zeros((len(chunks), 1), dtype=np.float32)
        by_document: dict[str, list[int]] = {}
        for position, chunk in enumerate(chunks):
            by_document.setdefault(chunk.document, []).append(position)
        for document, positions in by_document.items():
            self.store.replace_document(
                StoredDocument(document=document, content_hash="", chunk_count=len(positions)),
                [chunks[p] for p in positions],
                vectors[positions].astype(np.float32),
            )
        self.store.refresh()

    def evaluate(
        self, questions: Sequence[Question], modes: Sequence[RetrievalMode], k: int = 4
    ) -> dict[str, Metrics]:
        return evaluate_questions(self.store, self.embedder, questions, modes=modes, k=k)

    def close(self) -> None:
        self.store.close()
        if self._directory is not None:
            self._directory.cleanup()


def rerank_metrics(
    retriever: Retriever, reranker: Retriever, questions: Sequence[Question], k: int = 4
) -> dict[str, Metrics]:
    """hit@k / MRR@k of a retriever alone and with the reranker, on the same questions."""
    from knowledge.eval.retrieval import first_hit_rank, metrics_from_ranks

    plain = [first_hit_rank(retriever.retrieve(q.question, top_k=k), q.is_hit) for q in questions]
    reranked = [first_hit_rank(reranker.retrieve(q.question, top_k=k), q.is_hit) for q in questions]
    return {"retriever": metrics_from_ranks(plain, k), "reranked": metrics_from_ranks(reranked, k)}


def question_ranks(
    store: DocumentStore,
    embedder: Embedder | None,
    questions: Sequence[Question],
    *,
    k: int = 4,
    mode: RetrievalMode = "hybrid",
) -> list[int | None]:
    """Per question, the rank (from 1, at most k) of the first passage from its page; None
    when none of the k is. Queries are embedded in batches."""
    from knowledge.retrieval import StoreRetriever

    if not questions:
        return []
    queries = [q.question for q in questions]
    retriever = StoreRetriever(store, embedder, mode=mode, top_k=k)
    vectors = None
    if embedder is not None and mode != "bm25":
        vectors = embed_in_batches(queries, embedder.embed_queries)
    found = retriever.retrieve_batch(queries, vectors=vectors)
    return [first_hit_rank(f, q.is_hit) for f, q in zip(found, questions, strict=True)]


def hit(rank: int | None, k: int = 4) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = 4) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


ADOPTION_RULE = (
    "adopt the fine-tuned bi-encoder when the 95 % interval of its hit@4 difference with the "
    "base model on the held-out questions (paired bootstrap over questions, resampled within "
    "each source) lies above 0, and its interval on the team's own questions does not lie "
    "below 0"
)


def adoption_decision(
    base: dict[str, tuple[str, int | None]],
    tuned: dict[str, tuple[str, int | None]],
    settings: BootstrapSettings = DEFAULT,
    own_source: str = "own",
    k: int = 4,
) -> dict[str, Any]:
    """The adoption decision from per-question (source, rank) of both models, paired by
    question id; every interval it rests on is in the result."""
    ids = sorted(set(base) & set(tuned))
    if not ids:
        return {"adopt": False, "rule": ADOPTION_RULE, "reason": "no shared question"}
    strata = [base[i][0] for i in ids]
    intervals: dict[str, Interval] = {}
    for metric, value in (("hit@4", hit), ("mrr@4", reciprocal_rank)):
        intervals[metric] = paired_difference(
            [value(tuned[i][1], k) for i in ids],
            [value(base[i][1], k) for i in ids],
            settings,
            strata,
        )
    own = [i for i in ids if base[i][0] == own_source]
    own_interval = paired_difference(
        [hit(tuned[i][1], k) for i in own], [hit(base[i][1], k) for i in own], settings
    )
    better = intervals["hit@4"].favours_first()
    worse_on_own = bool(own) and own_interval.high < 0.0
    adopt = better and not worse_on_own
    if adopt:
        reason = "the hit@4 interval lies above 0"
    elif worse_on_own:
        reason = "worse on the team's own questions (their hit@4 interval lies below 0)"
    elif intervals["hit@4"].high < 0.0:
        reason = "worse: the hit@4 interval lies below 0"
    else:
        reason = "no difference shown: the hit@4 interval includes 0"
    return {
        "adopt": adopt,
        "reason": reason,
        "rule": ADOPTION_RULE,
        "questions": len(ids),
        "own_questions": len(own),
        "difference": {name: interval.as_dict() for name, interval in intervals.items()},
        "difference_own_hit@4": own_interval.as_dict(),
        "bootstrap": {"resamples": settings.resamples, "seed": settings.seed},
    }


def write_decision(
    out_dir: Path,
    *,
    model_dir: Path,
    base_model: str,
    mode: str,
    decision: dict[str, Any],
    store_dir: Path,
) -> dict[str, Any]:
    """`decision.json` (always) and `retriever.env` (the settings to adopt, only on adoption)."""
    adopt = bool(decision["adopt"])
    decision = {
        **decision,
        "model": str(model_dir.resolve()),
        "base_model": base_model,
        "mode": mode,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "decision.json").write_text(json.dumps(decision, indent=2), encoding="utf-8")
    env = out_dir / "retriever.env"
    if adopt:
        env.write_text(
            "# Written by python -m finetune: the fine-tuned retriever is better on held-out\n"
            "# questions (the interval of the difference lies above 0).\n"
            f"KNOWLEDGE_EMBEDDING_MODEL={model_dir.resolve()}\n"
            f"KNOWLEDGE_STORE_DIR={store_dir}\n",
            encoding="utf-8",
        )
    elif env.exists():
        env.unlink()
    return decision
