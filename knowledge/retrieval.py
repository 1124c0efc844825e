"""Retrieval: a question in, the best passages out, over any `DocumentStore`.

Three modes: `bm25` (French lexical search, no embedder needed), `dense` (cosine of the query's
embedding) and `hybrid` (both, fused by the store like Weaviate does: `alpha` = 1 is dense only,
0 lexical only; `fusion` = relative score or reciprocal rank).

With `distinct_pages` (the default), the results come from distinct pages: two overlapping
chunks of one page take one place, so the top k shows k pages (measured in docs/benchmarks.md,
"Distinct pages").
"""

import threading
from collections import OrderedDict
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
from knowledge.lexical import FrenchAnalyzer

# Candidates fetched per result wanted, when results must come from distinct pages.
_OVERFETCH = 3
# Query embeddings kept: an answer asks for its question's passages, then for `similarity`.
_QUERY_CACHE_SIZE = 256
# For a store that does not say how it analyses text (both stores do: the French analyzer).
_ANALYZER = FrenchAnalyzer()


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
        self._vectors: OrderedDict[str, Vector] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def warm_up(self) -> None:
        self.store.warm_up()
        if self.embedder is not None and self.mode != "bm25":
            self.embedder.warm_up()

    def retrieve(
        self, query: str, top_k: int | None = None, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        vectors = None if self.mode == "bm25" else self._query_vector(query)[None, :]
        return self.retrieve_batch([query], top_k=top_k, filters=filters, vectors=vectors)[0]

    def unknown_share(self, query: str, filters: SearchFilters | None = None) -> float:
        """The share of the query's meaningful words (distinct terms) that no passage (within
        `filters`) uses at all: a question about what the documents never mention. One lexical
        search of one passage per term, so every store tells it the same way."""
        analyzer: FrenchAnalyzer = getattr(self.store, "analyzer", None) or _ANALYZER
        words: dict[str, str] = {}
        for word in analyzer.words(query):
            for term in analyzer.terms(word):
                words.setdefault(term, word)
        if not words:
            return 0.0
        unknown = sum(not self.store.lexical_search(word, 1, filters) for word in words.values())
        return unknown / len(words)

    def similarity(self, query: str, filters: SearchFilters | None = None) -> float | None:
        """The highest cosine between the query and any passage (within `filters`): how close
        the documents come to the question at all. None in BM25 mode (no embedder)."""
        if self.mode == "bm25":
            return None
        best = self.store.dense_search(self._query_vector(query), 1, filters)
        return float(best[0].score) if best else 0.0

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
        vectors = None if self.mode == "bm25" else self._query_vector(query)[None, :]
        everywhere = self.retrieve_batch([query], top_k=top_k, vectors=vectors)[0]
        if not any(item.chunk.product_code == product for item in everywhere):
            return everywhere
        scoped = SearchFilters(product_code=product)
        return self.retrieve_batch([query], top_k=top_k, filters=scoped, vectors=vectors)[0]

    def _query_vector(self, query: str) -> Vector:
        """One query's embedding, kept for the next calls about the same question."""
        with self._vectors_lock:
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
        vector = np.asarray(self._embed([query])[0], dtype=np.float32)
        with self._vectors_lock:
            self._vectors[query] = vector
            if len(self._vectors) > _QUERY_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector

    def _embed(self, queries: Sequence[str]) -> Vector:
        if self.embedder is None:  # refused by the constructor; kept for the type checker
            raise ValueError(f"the {self.mode} mode needs an embedder")
        return np.asarray(self.embedder.embed_queries(list(queries)), dtype=np.float32)
