"""Retrieval: a question in, the best passages out, over any `DocumentStore`.

Three modes: `bm25` (French lexical search, no embedder needed), `dense` (cosine of the query's
embedding) and `hybrid` (both, fused by the store like Weaviate does: `alpha` = 1 is dense only,
0 lexical only; `fusion` = relative score or reciprocal rank).

With `distinct_pages` (the default), the results come from distinct pages: two overlapping
chunks of one page take one place, so the top k shows k pages (measured in docs/benchmarks.md,
"Distinct pages").
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

# Candidates fetched per result wanted, when results must come from distinct pages.
_OVERFETCH = 3


def one_per_page(results: Sequence[ScoredChunk]) -> list[ScoredChunk]:
    """The best-ranked chunk of each page, in rank order."""
    seen: set[tuple[str, int]] = set()
    kept: list[ScoredChunk] = []
    for item in results:
        page = (item.chunk.document, item.chunk.page)
        if page not in seen:
            seen.add(page)
            kept.append(item)
    return kept


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
        distinct_pages: bool = True,
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
        self.distinct_pages = distinct_pages

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
        fetch = k * _OVERFETCH if self.distinct_pages else k
        if self.mode == "bm25":
            found = [self.store.lexical_search(query, fetch, filters) for query in queries]
        else:
            if vectors is None:
                vectors = self._embed(queries)
            if self.mode == "dense":
                found = [self.store.dense_search(vector, fetch, filters) for vector in vectors]
            else:
                found = [
                    self.store.hybrid_search(
                        query, vector, fetch, alpha=self.alpha, fusion=self.fusion, filters=filters
                    )
                    for query, vector in zip(queries, vectors, strict=True)
                ]
        if self.distinct_pages:
            return [one_per_page(results)[:k] for results in found]
        return found

    def retrieve_in_context(
        self, query: str, product: str, top_k: int | None = None
    ) -> list[ScoredChunk]:
        """See `Retriever.retrieve_in_context`; the query is embedded once for both searches."""
        vectors = None if self.mode == "bm25" else self._embed([query])
        everywhere = self.retrieve_batch([query], top_k=top_k, vectors=vectors)[0]
        if not any(item.chunk.product_code == product for item in everywhere):
            return everywhere
        scoped = SearchFilters(product_code=product)
        return self.retrieve_batch([query], top_k=top_k, filters=scoped, vectors=vectors)[0]

    def _embed(self, queries: Sequence[str]) -> Vector:
        if self.embedder is None:  # refused by the constructor; kept for the type checker
            raise ValueError(f"the {self.mode} mode needs an embedder")
        return np.asarray(self.embedder.embed_queries(list(queries)), dtype=np.float32)
