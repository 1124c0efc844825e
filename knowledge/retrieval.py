"""Retrieval: a question in, the best passages out, over any `DocumentStore`.

Three modes: `bm25` (French lexical search, no embedder needed), `dense` (cosine of the query's
embedding) and `hybrid` (both, fused by the store like Weaviate does: `alpha` = 1 is dense only,
0 lexical only; `fusion` = relative score or reciprocal rank).
"""

from collections.abc import Sequence

import numpy as np

from knowledge.interfaces import (
    DocumentStore,
    Embedder,
    Fusion,
    RetrievalMode,
    ScoredChunk,
    SearchFilters,
    Vector,
)


class StoreRetriever:
    """A `Retriever` over a document store and, for dense and hybrid modes, an embedder."""

    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder | None = None,
        *,
        mode: RetrievalMode = "hybrid",
        alpha: float = 0.5,
        fusion: Fusion = "relative_score",
        top_k: int = 4,
    ) -> None:
        if mode != "bm25" and embedder is None:
            raise ValueError(f"the {mode} mode needs an embedder")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError("alpha must be between 0 and 1")
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.alpha = alpha
        self.fusion = fusion
        self.top_k = top_k

    def warm_up(self) -> None:
        self.store.warm_up()
        if self.embedder is not None and self.mode != "bm25":
            self.embedder.warm_up()

    def retrieve(
        self, query: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        return self.retrieve_batch([query], top_k=top_k, filters=filters)[0]

    def retrieve_batch(
        self,
        queries: Sequence[str],
        top_k: int | None = None,
        filters: SearchFilters | None = None,
        vectors: Vector | None = None,
    ) -> list[list[ScoredChunk]]:
        """One result list per query; the queries are embedded together (faster), unless their
        embeddings are given (an evaluation shares them between the dense and hybrid runs)."""
        k = top_k or self.top_k
        if not queries:
            return []
        if self.mode == "bm25":
            return [self.store.lexical_search(query, k, filters) for query in queries]
        if vectors is None:
            vectors = self._embed(queries)
        if self.mode == "dense":
            return [self.store.dense_search(vector, k, filters) for vector in vectors]
        return [
            self.store.hybrid_search(
                query, vector, k, alpha=self.alpha, fusion=self.fusion, filters=filters
            )
            for query, vector in zip(queries, vectors, strict=True)
        ]

    def _embed(self, queries: Sequence[str]) -> Vector:
        if self.embedder is None:  # refused by the constructor; kept for the type checker
            raise ValueError(f"the {self.mode} mode needs an embedder")
        return np.asarray(self.embedder.embed_queries(list(queries)), dtype=np.float32)
