"""The embedded store: no server, one directory on disk, hybrid search in process.

Layout of the store directory:

- `knowledge.sqlite3` is the source of truth: documents with their content hash, chunks with
  their metadata, analysed lexical terms and vector (float32 bytes). Replacing or deleting a
  document is one SQLite transaction, so a crash mid-write leaves the previous version whole;
  each write increments a `generation` counter.
- `index/gen-N/` is derived from the database at generation N and can be deleted at any time:
  the bm25s index of the terms, the vector matrix, and the metadata columns used by filters.
  It is built on first search after a write (or by `refresh()`), written to a temporary
  directory then renamed, and loaded by every later process until the next write.

Lexical search is BM25 (k1=1.2, b=0.75, Lucene IDF: Weaviate's defaults) over French terms
(`knowledge.lexical`); dense search is the cosine of L2-normalised vectors (a dot product);
hybrid search fuses both like Weaviate (`knowledge.stores.fusion`).
"""

import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from knowledge.chunking import searchable_text
from knowledge.errors import StoreError
from knowledge.interfaces import (
    Chunk,
    Fusion,
    ScoredChunk,
    SearchFilters,
    StoredDocument,
    Vector,
)
from knowledge.lexical import FrenchAnalyzer
from knowledge.stores.fusion import reciprocal_rank_fusion, relative_score_fusion

logger = logging.getLogger(__name__)

DATABASE_NAME = "knowledge.sqlite3"
BM25_K1 = 1.2
BM25_B = 0.75
_FILTER_FIELDS = ("product_code", "category", "document")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    chunk_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    page INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL,
    product_code TEXT NOT NULL,
    category TEXT NOT NULL,
    metadata TEXT NOT NULL,
    terms TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document);
INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
"""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@dataclass
class _Index:
    """The searchable form of the store at one generation."""

    generation: int
    row_ids: IntArray  # position → chunks.id
    vectors: FloatArray  # (n, dimension), L2-normalised
    bm25: Any  # bm25s.BM25, or None when no chunk has a term
    columns: dict[str, tuple[list[str], npt.NDArray[np.int32]]]  # field → (values, codes)

    @property
    def size(self) -> int:
        return len(self.row_ids)

    def mask(self, filters: SearchFilters | None) -> npt.NDArray[np.bool_] | None:
        if filters is None:
            return None
        mask: npt.NDArray[np.bool_] | None = None
        for field in _FILTER_FIELDS:
            wanted = getattr(filters, field)
            if wanted is None:
                continue
            values, codes = self.columns[field]
            selected = (
                codes == values.index(wanted)
                if wanted in values
                else np.zeros(self.size, dtype=np.bool_)
            )
            mask = selected if mask is None else mask & selected
        return mask


def _top(scores: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
    """Positions and scores of the k best finite scores, best first (ties: lower position)."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    whole = k >= len(scores)
    candidates = np.arange(len(scores)) if whole else np.argpartition(-scores, k - 1)[:k]
    order = sorted(candidates.tolist(), key=lambda position: (-float(scores[position]), position))
    return [(at, float(scores[at])) for at in order if np.isfinite(scores[at])]


def _bm25s() -> Any:
    """The bm25s module, imported on first use; it sets its logger to DEBUG, put back to WARNING."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class EmbeddedStore:
    """A `DocumentStore` in a directory: SQLite + bm25s + a numpy matrix (see module doc)."""

    def __init__(
        self,
        directory: Path,
        *,
        embedding_model: str | None = None,
        hybrid_candidates: int = 50,
        analyzer: FrenchAnalyzer | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.embedding_model = embedding_model
        self.hybrid_candidates = hybrid_candidates
        self.analyzer = analyzer or FrenchAnalyzer()
        self._connection: sqlite3.Connection | None = None
        self._index: _Index | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------ life cycle

    def warm_up(self) -> None:
        with self._lock:
            self._db()
            self._current_index()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._index = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.directory / DATABASE_NAME, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=10000")
            connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the store in {self.directory}: {exc}") from exc
        stored_model = self._meta(connection, "embedding_model")
        if self.embedding_model and stored_model and stored_model != self.embedding_model:
            connection.close()
            raise StoreError(
                f"the store in {self.directory} holds vectors of {stored_model}, not of "
                f"{self.embedding_model}: ingest into another store directory"
            )
        self._connection = connection
        return connection

    @staticmethod
    def _meta(connection: sqlite3.Connection, key: str) -> str | None:
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it is committed together or not at all."""
        with self._lock:
            connection = self._db()
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield connection
                connection.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
                )
                connection.execute("COMMIT")
            except BaseException as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"write to the store failed: {exc}") from exc
                raise

    # ------------------------------------------------------------ documents

    def documents(self) -> dict[str, StoredDocument]:
        with self._lock:
            rows = self._db().execute(
                "SELECT document, content_hash, source, chunk_count FROM documents"
            )
            return {row[0]: StoredDocument(*row) for row in rows}

    def count(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def replace_document(
        self, document: StoredDocument, chunks: Sequence[Chunk], vectors: Vector
    ) -> None:
        """Replaces every chunk of the document, in one transaction."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if len(chunks) == 0:
            matrix = matrix.reshape(0, matrix.shape[-1] if matrix.ndim == 2 else 0)
        if matrix.ndim != 2 or matrix.shape[0] != len(chunks):
            raise StoreError(f"{len(chunks)} chunks but vectors of shape {matrix.shape}")
        strangers = {chunk.document for chunk in chunks} - {document.document}
        if strangers:
            raise StoreError(f"chunks of {sorted(strangers)} given for {document.document}")
        rows = [
            (
                chunk.chunk_id,
                chunk.document,
                chunk.page,
                chunk.text,
                chunk.section,
                chunk.product_code,
                chunk.category,
                json.dumps(chunk.metadata, ensure_ascii=False, sort_keys=True),
                " ".join(self.analyzer.terms(searchable_text(chunk))),
                vector.tobytes(),
            )
            for chunk, vector in zip(chunks, matrix, strict=True)
        ]
        with self._transaction() as connection:
            if chunks:
                self._check_dimension(connection, matrix.shape[1])
            connection.execute("DELETE FROM chunks WHERE document = ?", (document.document,))
            connection.executemany(
                "INSERT INTO chunks (chunk_id, document, page, text, section, product_code,"
                " category, metadata, terms, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            connection.execute(
                "INSERT INTO documents (document, content_hash, source, chunk_count)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (document) DO UPDATE SET"
                " content_hash = excluded.content_hash, source = excluded.source,"
                " chunk_count = excluded.chunk_count",
                (document.document, document.content_hash, document.source, len(chunks)),
            )

    def _check_dimension(self, connection: sqlite3.Connection, dimension: int) -> None:
        stored = self._meta(connection, "dimension")
        if stored is not None and int(stored) != dimension:
            raise StoreError(f"vectors of dimension {dimension} for a store of dimension {stored}")
        if stored is None:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('dimension', ?)", (str(dimension),)
            )
        if self.embedding_model and self._meta(connection, "embedding_model") is None:
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('embedding_model', ?)",
                (self.embedding_model,),
            )

    def delete_document(self, document: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM chunks WHERE document = ?", (document,))
            connection.execute("DELETE FROM documents WHERE document = ?", (document,))

    # ------------------------------------------------------------ index

    def refresh(self) -> None:
        with self._lock:
            self._current_index()

    def _current_index(self) -> _Index:
        with self._lock:
            connection = self._db()
            generation = int(self._meta(connection, "generation") or 0)
            if self._index is None or self._index.generation != generation:
                self._index = self._load_index(generation) or self._build_index()
            return self._index

    def _index_root(self) -> Path:
        return self.directory / "index"

    def _load_index(self, generation: int) -> _Index | None:
        bm25s = _bm25s()
        path = self._index_root() / f"gen-{generation}"
        if not (path / "manifest.json").exists():
            return None
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            bm25 = (
                bm25s.BM25.load(str(path / "bm25"), mmap=False, show_progress=False)
                if manifest["has_bm25"]
                else None
            )
            columns = {
                field: (
                    list(manifest["columns"][field]),
                    np.load(path / f"{field}.npy").astype(np.int32),
                )
                for field in _FILTER_FIELDS
            }
            return _Index(
                generation=generation,
                row_ids=np.load(path / "row_ids.npy").astype(np.int64),
                vectors=np.load(path / "vectors.npy").astype(np.float32, copy=False),
                bm25=bm25,
                columns=columns,
            )
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("index unreadable", extra={"path": str(path), "error": str(exc)})
            return None

    def _build_index(self) -> _Index:
        bm25s = _bm25s()
        connection = self._db()
        connection.execute("BEGIN")  # one snapshot: generation and rows agree
        try:
            generation = int(self._meta(connection, "generation") or 0)
            rows = connection.execute(
                "SELECT id, terms, vector, product_code, category, document FROM chunks ORDER BY id"
            ).fetchall()
            dimension = int(self._meta(connection, "dimension") or 0)
        finally:
            connection.execute("COMMIT")
        row_ids = np.array([row[0] for row in rows], dtype=np.int64)
        vectors = (
            np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32)
            .reshape(len(rows), dimension)
            .copy()
            if rows
            else np.zeros((0, dimension), dtype=np.float32)
        )
        corpus = [str(row[1]).split() for row in rows]
        bm25 = None
        if any(corpus):
            bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
            bm25.index(corpus, show_progress=False)
        columns: dict[str, tuple[list[str], npt.NDArray[np.int32]]] = {}
        for offset, field in enumerate(_FILTER_FIELDS, start=3):
            values = sorted({str(row[offset]) for row in rows})
            lookup = {value: code for code, value in enumerate(values)}
            codes = np.array([lookup[str(row[offset])] for row in rows], dtype=np.int32)
            columns[field] = (values, codes)
        index = _Index(generation, row_ids, vectors, bm25, columns)
        self._save_index(index)
        return index

    def _save_index(self, index: _Index) -> None:
        root = self._index_root()
        final = root / f"gen-{index.generation}"
        try:
            root.mkdir(parents=True, exist_ok=True)
            temporary = Path(tempfile.mkdtemp(prefix="tmp-", dir=root))
            if index.bm25 is not None:
                index.bm25.save(str(temporary / "bm25"), show_progress=False)
            np.save(temporary / "row_ids.npy", index.row_ids)
            np.save(temporary / "vectors.npy", index.vectors)
            for field, (_, codes) in index.columns.items():
                np.save(temporary / f"{field}.npy", codes)
            manifest = {
                "generation": index.generation,
                "size": index.size,
                "has_bm25": index.bm25 is not None,
                "columns": {field: values for field, (values, _) in index.columns.items()},
            }
            (temporary / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
            try:
                os.rename(temporary, final)
            except OSError:  # another process saved the same generation first
                shutil.rmtree(temporary, ignore_errors=True)
            for old in root.iterdir():
                if old != final and old.name.startswith("gen-"):
                    shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:  # the index is a cache: searching goes on from memory
            logger.warning("index not saved", extra={"path": str(final), "error": str(exc)})

    # ------------------------------------------------------------ search

    def lexical_search(
        self, query: str, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        index = self._current_index()
        return self._hydrate(index, self._lexical(index, query, top_k, filters))

    def dense_search(
        self, vector: Vector, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        index = self._current_index()
        return self._hydrate(index, self._dense(index, vector, top_k, filters))

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
        if not 0.0 <= alpha <= 1.0:
            raise StoreError(f"alpha must be between 0 and 1, not {alpha}")
        index = self._current_index()
        pool = max(top_k, self.hybrid_candidates)
        lexical = self._lexical(index, query, pool, filters) if alpha < 1.0 else []
        dense = self._dense(index, vector, pool, filters) if alpha > 0.0 else []
        if fusion == "rrf":
            fused = reciprocal_rank_fusion(lexical, dense, alpha)
        else:
            fused = relative_score_fusion(lexical, dense, alpha)
        return self._hydrate(index, fused[:top_k])

    def _lexical(
        self, index: _Index, query: str, top_k: int, filters: SearchFilters | None
    ) -> list[tuple[int, float]]:
        if index.bm25 is None or top_k <= 0:
            return []
        vocabulary: dict[str, int] = index.bm25.vocab_dict
        ids = [vocabulary[term] for term in self.analyzer.terms(query) if term in vocabulary]
        if not ids:
            return []
        scores = np.asarray(index.bm25.get_scores(ids), dtype=np.float32)
        mask = index.mask(filters)
        scores = np.where(scores > 0, scores, -np.inf).astype(np.float32)
        if mask is not None:
            scores[~mask] = -np.inf
        return _top(scores, top_k)

    def _dense(
        self, index: _Index, vector: Vector, top_k: int, filters: SearchFilters | None
    ) -> list[tuple[int, float]]:
        if index.size == 0 or top_k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape[0] != index.vectors.shape[1]:
            raise StoreError(
                f"query vector of dimension {query.shape[0]} for a store of dimension "
                f"{index.vectors.shape[1]}"
            )
        # einsum, not `vectors @ query`: BLAS would wake its thread pool, whose idle threads then
        # spin against the embedding model's threads on a small machine (measured: the query
        # embedding 2.7 times slower right after a BLAS call on 2 cores), for a product that is
        # memory-bound anyway (8 ms instead of 6.5 ms for 50,000 × 384).
        scores = np.einsum("ij,j->i", index.vectors, query)
        mask = index.mask(filters)
        if mask is not None:
            scores[~mask] = -np.inf
        return _top(scores, top_k)

    def _hydrate(self, index: _Index, ranked: Sequence[tuple[int, float]]) -> list[ScoredChunk]:
        """Chunks of the ranked index positions, read from the database, in rank order."""
        if not ranked:
            return []
        ids = [int(index.row_ids[position]) for position, _ in ranked]
        with self._lock:
            rows = self._db().execute(
                "SELECT id, chunk_id, document, page, text, section, product_code, category,"
                " metadata FROM chunks WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
            chunks = {
                row[0]: Chunk(
                    chunk_id=row[1],
                    document=row[2],
                    page=row[3],
                    text=row[4],
                    section=row[5],
                    product_code=row[6],
                    category=row[7],
                    metadata=json.loads(row[8]),
                )
                for row in rows
            }
        # a chunk deleted since the index was read is left out
        return [
            ScoredChunk(chunks[row_id], score)
            for row_id, (_, score) in zip(ids, ranked, strict=True)
            if row_id in chunks
        ]
