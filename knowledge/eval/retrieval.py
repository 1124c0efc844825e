"""Retrieval evaluation: hit@1, hit@k and MRR@k for BM25, dense and hybrid retrieval.

A question is hit at rank r when the r-th retrieved chunk comes from the page it was written
from (`hit="page"`, the default) or, with `hit="answering_page"`, from any page that answers it
(`knowledge.eval.datasets`). Hand-written questions run against a store that holds the ingested
documents, optionally each searching only its product's documents; a SQuAD-format file is
indexed, one passage per paragraph, in a temporary embedded store. Queries are embedded once
and shared by the dense and hybrid runs.
"""

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the environment

from knowledge.eval.datasets import Question, load_squad
from knowledge.interfaces import (
    Chunk,
    DocumentStore,
    Embedder,
    Fusion,
    RetrievalMode,
    ScoredChunk,
    SearchFilters,
    StoredDocument,
    Vector,
)
from knowledge.retrieval import StoreRetriever

MODES: tuple[RetrievalMode, ...] = ("bm25", "dense", "hybrid")
HitRule = Literal["page", "answering_page"]


@dataclass(frozen=True)
class Metrics:
    questions: int
    k: int
    hit_at_1: float
    hit_at_k: float
    mrr_at_k: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "questions": self.questions,
            "hit@1": round(self.hit_at_1, 4),
            f"hit@{self.k}": round(self.hit_at_k, 4),
            f"mrr@{self.k}": round(self.mrr_at_k, 4),
        }


def first_hit_rank(results: Sequence[ScoredChunk], is_hit: Callable[[Chunk], bool]) -> int | None:
    """1-based rank of the first relevant result, None when none is."""
    for rank, result in enumerate(results, start=1):
        if is_hit(result.chunk):
            return rank
    return None


def metrics_from_ranks(ranks: Sequence[int | None], k: int) -> Metrics:
    """hit@1, hit@k and MRR@k (reciprocal rank, 0 beyond k) over first-hit ranks."""
    if not ranks:
        return Metrics(questions=0, k=k, hit_at_1=math.nan, hit_at_k=math.nan, mrr_at_k=math.nan)
    count = len(ranks)
    return Metrics(
        questions=count,
        k=k,
        hit_at_1=sum(1 for rank in ranks if rank == 1) / count,
        hit_at_k=sum(1 for rank in ranks if rank is not None and rank <= k) / count,
        mrr_at_k=sum(1.0 / rank for rank in ranks if rank is not None and rank <= k) / count,
    )


def embed_in_batches(
    texts: Sequence[str],
    embed: Callable[[Sequence[str]], Vector],
    *,
    batch_size: int = 64,
    progress: bool = False,
    label: str = "embed",
) -> Vector:
    batches = [
        np.asarray(embed(texts[start : start + batch_size]), dtype=np.float32)
        for start in tqdm(
            range(0, len(texts), batch_size), desc=label, unit="batch", disable=not progress
        )
    ]
    return np.concatenate(batches) if batches else np.zeros((0, 0), dtype=np.float32)


def evaluate_store(
    store: DocumentStore,
    embedder: Embedder | None,
    queries: Sequence[str],
    golds: Sequence[Callable[[Chunk], bool]],
    *,
    k: int = 4,
    modes: Sequence[RetrievalMode] = MODES,
    alpha: float = 0.5,
    fusion: Fusion = "relative_score",
    progress: bool = False,
    filters: Sequence[SearchFilters | None] | None = None,
    distinct_pages: bool = True,
) -> dict[str, Metrics]:
    """Metrics per retrieval mode; dense and hybrid share one embedding of the queries.

    `filters`, when given, holds one metadata filter per query (None: no filter)."""
    per_query = list(filters) if filters is not None else [None] * len(queries)
    groups: dict[SearchFilters | None, list[int]] = {}
    for position, query_filter in enumerate(per_query):
        groups.setdefault(query_filter, []).append(position)
    vectors = None
    if embedder is not None and any(mode != "bm25" for mode in modes):
        vectors = embed_in_batches(
            queries, embedder.embed_queries, progress=progress, label="queries"
        )
    results: dict[str, Metrics] = {}
    for mode in modes:
        if mode != "bm25" and vectors is None:
            continue
        retriever = StoreRetriever(
            store,
            embedder,
            mode=mode,
            alpha=alpha,
            fusion=fusion,
            top_k=k,
            distinct_pages=distinct_pages,
        )
        ranked: list[list[ScoredChunk]] = [[] for _ in queries]
        for query_filter, positions in groups.items():
            found = retriever.retrieve_batch(
                [queries[p] for p in positions],
                filters=query_filter,
                vectors=vectors[positions] if vectors is not None else None,
            )
            for position, passages in zip(positions, found, strict=True):
                ranked[position] = passages
        ranks = [first_hit_rank(found, gold) for found, gold in zip(ranked, golds, strict=True)]
        results[mode] = metrics_from_ranks(ranks, k)
    return results


def evaluate_questions(
    store: DocumentStore,
    embedder: Embedder | None,
    questions: Sequence[Question],
    *,
    product_filter: bool = False,
    hit: HitRule = "page",
    **options: Any,
) -> dict[str, Metrics]:
    """`product_filter`: search only the question's product, when the question names one (as
    the assistant does once the conversation is about a product). `hit`: "page" counts only
    the page the question was written from; "answering_page" also the other pages of the
    product that print its answer."""
    filters = (
        [SearchFilters(product_code=q.product_code) if q.product_code else None for q in questions]
        if product_filter
        else None
    )
    return evaluate_store(
        store,
        embedder,
        [question.question for question in questions],
        [q.is_hit if hit == "page" else q.is_answering_hit for q in questions],
        filters=filters,
        **options,
    )


def index_passages(
    store: DocumentStore,
    embedder: Embedder | None,
    passages: Sequence[Chunk],
    *,
    dimension: int = 0,
    progress: bool = False,
) -> None:
    """Stores passages grouped by document (one atomic write each), embedded when possible."""
    if embedder is not None:
        vectors = embed_in_batches(
            [passage.text for passage in passages],
            embedder.embed_passages,
            batch_size=32,
            progress=progress,
            label="passages",
        )
    else:
        vectors = np.zeros((len(passages), max(dimension, 1)), dtype=np.float32)
    by_document: dict[str, list[int]] = {}
    for position, passage in enumerate(passages):
        by_document.setdefault(passage.document, []).append(position)
    for document, positions in by_document.items():
        store.replace_document(
            StoredDocument(document=document, content_hash="", chunk_count=len(positions)),
            [passages[position] for position in positions],
            vectors[positions],
        )
    store.refresh()


def evaluate_squad(
    path: Path,
    embedder: Embedder | None,
    *,
    k: int = 4,
    modes: Sequence[RetrievalMode] = MODES,
    alpha: float = 0.5,
    fusion: Fusion = "relative_score",
    progress: bool = False,
    limit: int | None = None,
    distinct_pages: bool = True,
) -> dict[str, Metrics]:
    """Indexes every paragraph in a temporary embedded store and evaluates the questions."""
    from knowledge.stores.embedded import EmbeddedStore

    data = load_squad(path)
    questions, gold = data.questions[:limit], data.gold[:limit]
    with tempfile.TemporaryDirectory(prefix="squad-") as directory:
        store = EmbeddedStore(Path(directory))
        try:
            index_passages(store, embedder, data.passages, progress=progress)
            return evaluate_store(
                store,
                embedder,
                questions,
                [_is_chunk(identifier) for identifier in gold],
                k=k,
                modes=modes,
                alpha=alpha,
                fusion=fusion,
                progress=progress,
                distinct_pages=distinct_pages,
            )
        finally:
            store.close()


def _is_chunk(identifier: str) -> Callable[[Chunk], bool]:
    return lambda chunk: chunk.chunk_id == identifier


def report(metrics: Mapping[str, Metrics], **context: Any) -> dict[str, Any]:
    """The JSON document that `python -m knowledge eval --json` prints."""
    first = next(iter(metrics.values()), None)
    return {
        **context,
        "k": first.k if first else None,
        "questions": first.questions if first else 0,
        "retrievers": {mode: values.as_dict() for mode, values in metrics.items()},
    }


def as_table(metrics: Mapping[str, Metrics]) -> str:
    rows = ["retriever  hit@1   hit@k   MRR@k"]
    for mode, values in metrics.items():
        rows.append(
            f"{mode:<9} {values.hit_at_1:6.3f}  {values.hit_at_k:6.3f}  {values.mrr_at_k:6.3f}"
        )
    return "\n".join(rows)
