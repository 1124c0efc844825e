"""Data types and stage interfaces of the knowledge base, shared by every component.

Each stage lives in its own module (readers, cleaning, chunking, embedders, stores, retrieval,
generation, validation) and implements one of these protocols, so a stage can be swapped by
configuration without touching the others.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from common.sources import SourceRef

Vector = npt.NDArray[np.float32]


# How a page's text gives a table row: one line, its cells joined by this (the readers write it;
# cleaning, chunking and the answers read it).
CELL_SEPARATOR = " | "


@dataclass(frozen=True)
class Page:
    """The text of one page (or one section for formats without pages) of a source document."""

    document: str  # file name, e.g. "CG_HABITATION_LOCATAIRE.pdf"
    page: int  # 1-based
    text: str


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, the unit that is indexed and retrieved."""

    chunk_id: str
    document: str
    page: int
    text: str
    section: str = ""
    product_code: str = ""
    category: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredChunk:
    chunk: Chunk
    score: float


class Reader(Protocol):
    """Turns one file into pages; raises knowledge.errors.DocumentError when it cannot."""

    suffixes: tuple[str, ...]

    def read(self, path: Path) -> list[Page]: ...


class Embedder(Protocol):
    """Dense embeddings with the model's own query/passage prefixes applied."""

    model_name: str

    @property
    def dimension(self) -> int:
        """Size of the vectors; an embedder may load its model to know it."""
        ...

    def warm_up(self) -> None: ...

    def embed_queries(self, texts: Sequence[str]) -> Vector: ...

    def embed_passages(self, texts: Sequence[str]) -> Vector: ...


@dataclass(frozen=True)
class SearchFilters:
    """Metadata filters of a search; None means no constraint."""

    product_code: str | None = None
    category: str | None = None
    document: str | None = None


class Retriever(Protocol):
    """Finds the passages most likely to answer a question."""

    def retrieve(
        self, query: str, top_k: int = 4, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]: ...

    def retrieve_in_context(self, query: str, product: str, top_k: int = 4) -> list[ScoredChunk]:
        """The passages of `product` (the one the conversation is about) when a search over
        every document finds it among its best pages; otherwise that search's passages: a
        question about water damage while talking about pet insurance is not about pets."""
        ...


# Where an answer comes from, as shown to the user: the cited-passage shape the advisor and
# feedback packages share.
Source = SourceRef


@dataclass(frozen=True)
class Answer:
    """What the knowledge base answers to a question.

    mode: "generative" (the LLM wrote it from the passages and validation accepted it),
    "extractive" (the answering sentences of the best passages) or "refusal" (the documents do
    not hold the answer). `validated` is False when an LLM answer was rejected and replaced.
    """

    text: str
    sources: tuple[Source, ...]
    mode: str
    validated: bool
    validation_score: float | None = None
    notes: tuple[str, ...] = ()


class Generator(Protocol):
    """Writes an answer from a prompt; raises knowledge.errors.GenerationError on failure."""

    n_ctx: int

    def warm_up(self) -> None: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(self, prompt: str, deadline_s: float) -> str: ...


# ---------------------------------------------------------------- chunking, stores, retrieval

Fusion = Literal["relative_score", "rrf"]
"""How a hybrid search merges its lexical and dense rankings: Weaviate's relative score fusion
(min-max normalised scores weighted by alpha) or reciprocal rank fusion."""

RetrievalMode = Literal["bm25", "dense", "hybrid"]


@dataclass(frozen=True)
class StoredDocument:
    """What a store remembers of an ingested document, to skip it when it has not changed."""

    document: str  # file name, the document's key
    content_hash: str  # sha256 of the file's bytes and the chunk format (ingestion.py)
    source: str = ""  # absolute path it was read from, to notice its removal
    chunk_count: int = 0


class Chunker(Protocol):
    """Splits the cleaned pages of one document into chunks carrying page and section title."""

    def split(self, pages: Sequence[Page]) -> list[Chunk]: ...


class DocumentStore(Protocol):
    """Chunks, their vectors and the documents they come from, searchable three ways.

    `replace_document` and `delete_document` are atomic for readers of the embedded store: a
    search sees the old version or the new one, never a mix (see each store for its guarantee).
    Scores are comparable within one result list only.
    """

    def warm_up(self) -> None: ...

    def close(self) -> None: ...

    def documents(self) -> dict[str, StoredDocument]: ...

    def replace_document(
        self, document: StoredDocument, chunks: Sequence[Chunk], vectors: Vector
    ) -> None: ...

    def delete_document(self, document: str) -> None: ...

    def count(self) -> int: ...

    def refresh(self) -> None:
        """Make every write searchable now (the embedded store rebuilds its indexes)."""
        ...

    def lexical_search(
        self, query: str, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]: ...

    def dense_search(
        self, vector: Vector, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]: ...

    def hybrid_search(
        self,
        query: str,
        vector: Vector,
        top_k: int,
        *,
        alpha: float,
        fusion: Fusion = "relative_score",
        filters: SearchFilters | None = None,
    ) -> list[ScoredChunk]:
        """alpha=1 is pure dense search, alpha=0 pure lexical search (Weaviate's convention)."""
        ...
