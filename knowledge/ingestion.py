"""Ingestion: files → pages → cleaned text → chunks with metadata → vectors → store.

Incremental:
- a file whose bytes hash to the content hash the store holds, cut in the same chunk format
  (`CHUNK_FORMAT`), is skipped;
- a changed file is read, chunked and embedded in full before the store replaces the document's
  chunks in one atomic write (the previous version stays whole if anything fails);
- a document that the store received from a directory given now, and whose file is no longer
  there, is deleted. Documents ingested from elsewhere are left alone.

Product code, category, title and kind come from the catalogue's document map
(`product_catalog.documents`), which the pipeline receives.

A file that cannot be ingested (unsupported, malformed, encrypted, empty, image-only, or refused
by the embedder or the store) is logged, counted and reported with its reason; the other files
are ingested. A file that fails keeps its previous version in the store, if it had one.
"""

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the environment

from knowledge.chunking import SectionChunker, searchable_text
from knowledge.cleaning import TextCleaner, heading_level, heading_text
from knowledge.errors import DocumentError, KnowledgeError
from knowledge.interfaces import (
    Chunk,
    Chunker,
    DocumentStore,
    Embedder,
    Page,
    Reader,
    StoredDocument,
    Vector,
)
from knowledge.readers import default_readers, reader_for, supported_suffixes
from product_catalog.documents import DocumentCatalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileFailure:
    file: str
    reason: str


@dataclass
class IngestionReport:
    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "chunk", "embed", "store"), 0.0)
    )

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{len(self.ingested)} ingested, {len(self.skipped)} unchanged, "
            f"{len(self.removed)} removed, {len(self.failed)} failed; "
            f"{self.pages} pages, {self.chunks} chunks in {self.seconds:.1f} s "
            f"({self.pages_per_second:.1f} pages/s)"
        )


# Names the way files are cut into chunks; changed when reading, cleaning or chunking would cut
# an unchanged file differently, so that a store ingested before is re-ingested file by file.
CHUNK_FORMAT = "lines-2-table-headers"


def content_hash(path: Path) -> str:
    """The version of a file the store records: the sha256 of its bytes and CHUNK_FORMAT."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return f"{digest.hexdigest()}:{CHUNK_FORMAT}"


def _title(pages: Sequence[Page]) -> str:
    """The first level-1 heading of a document, "" when it has none."""
    for page in pages:
        for line in page.text.split("\n"):
            if heading_level(line) == 1:
                return heading_text(line)
    return ""


class IngestionPipeline:
    """Runs the ingestion stages over files and directories; see the module docstring."""

    # Passages handed to the embedder at once: it sorts them by length before batching.
    DEFAULT_BATCH_SIZE = 256

    def __init__(
        self,
        store: DocumentStore,
        embedder: Embedder,
        *,
        readers: Sequence[Reader] | None = None,
        cleaner: TextCleaner | None = None,
        chunker: Chunker | None = None,
        catalog: DocumentCatalog | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.readers = list(readers) if readers is not None else default_readers()
        self.cleaner = cleaner or TextCleaner()
        self.chunker = chunker or SectionChunker()
        self.catalog = catalog or DocumentCatalog()
        self.batch_size = batch_size
        self.progress = progress

    def warm_up(self) -> None:
        self.store.warm_up()
        self.embedder.warm_up()

    # ------------------------------------------------------------ files

    def collect(self, paths: Iterable[Path]) -> tuple[list[Path], list[FileFailure]]:
        """The files to ingest, directories expanded (supported types only, hidden files left)."""
        suffixes = supported_suffixes(self.readers)
        files: list[Path] = []
        failures: list[FileFailure] = []
        for path in paths:
            if path.is_dir():
                files.extend(
                    sorted(
                        found
                        for found in path.rglob("*")
                        if found.is_file()
                        and found.suffix.lower() in suffixes
                        and not any(part.startswith(".") for part in found.relative_to(path).parts)
                    )
                )
            elif path.is_file():
                files.append(path)
            else:
                failures.append(FileFailure(str(path), "file not found"))
        unique: dict[str, Path] = {}
        for file in files:
            resolved = file.resolve()
            other = unique.get(file.name)
            if other is None:
                unique[file.name] = resolved
            elif other != resolved:
                failures.append(FileFailure(str(file), f"another file has the same name: {other}"))
        return list(unique.values()), failures

    # ------------------------------------------------------------ run

    def run(self, paths: Sequence[Path]) -> IngestionReport:
        started = time.perf_counter()
        report = IngestionReport()
        files, failures = self.collect(paths)
        report.failed.extend(failures)
        stored = self.store.documents()
        for path in tqdm(files, desc="ingest", unit="file", disable=not self.progress):
            try:
                digest = content_hash(path)
            except OSError as exc:
                self._fail(report, FileFailure(str(path), f"cannot read the file ({exc})"))
                continue
            previous = stored.get(path.name)
            if previous is not None and previous.content_hash == digest:
                report.skipped.append(path.name)
                continue
            try:
                pages, chunks = self.ingest_file(path, digest, report.stage_seconds)
            except DocumentError as exc:
                self._fail(report, FileFailure(str(path), exc.reason))
                continue
            except KnowledgeError as exc:  # the store or the embedder failed on this file
                self._fail(report, FileFailure(str(path), str(exc)))
                continue
            report.ingested.append(path.name)
            report.pages += pages
            report.chunks += chunks
        report.removed = self._remove_missing(paths, files, stored)
        indexing = time.perf_counter()
        self.store.refresh()
        report.stage_seconds["store"] += time.perf_counter() - indexing
        report.seconds = time.perf_counter() - started
        for failure in report.failed:
            logger.warning(
                "file not ingested", extra={"file": failure.file, "reason": failure.reason}
            )
        logger.info("ingestion done: %s", report.summary())
        return report

    @staticmethod
    def _fail(report: IngestionReport, failure: FileFailure) -> None:
        report.failed.append(failure)

    def ingest_file(
        self, path: Path, digest: str, timings: dict[str, float] | None = None
    ) -> tuple[int, int]:
        """Reads, chunks, embeds and stores one file; returns (pages, chunks).

        `timings` (stage name → seconds) is added to when given."""
        clock = time.perf_counter
        timings = timings if timings is not None else {}
        started = clock()
        pages = reader_for(path, self.readers).read(path)
        read = clock()
        pages = self.cleaner.clean(pages)
        chunks = self._with_metadata(self.chunker.split(pages), path.name, _title(pages))
        if not chunks:
            raise DocumentError(path.name, "no text left after cleaning")
        chunked = clock()
        vectors = self._embed(chunks)
        embedded = clock()
        record = StoredDocument(
            document=path.name,
            content_hash=digest,
            source=str(path.resolve()),
            chunk_count=len(chunks),
        )
        self.store.replace_document(record, chunks, vectors)
        for stage, seconds in (
            ("read", read - started),
            ("chunk", chunked - read),
            ("embed", embedded - chunked),
            ("store", clock() - embedded),
        ):
            timings[stage] = timings.get(stage, 0.0) + seconds
        return len(pages), len(chunks)

    def _with_metadata(self, chunks: list[Chunk], document: str, title: str) -> list[Chunk]:
        """Product code and category from the catalogue; the title from the catalogue, else
        the document's first top-level heading."""
        info = self.catalog.lookup(document)
        extra = {"title": (info.title if info else "") or title}
        if info is not None and info.kind:
            extra["kind"] = info.kind
        return [
            replace(
                chunk,
                product_code=info.product_code if info else chunk.product_code,
                category=info.category if info else chunk.category,
                metadata={**chunk.metadata, **{k: v for k, v in extra.items() if v}},
            )
            for chunk in chunks
        ]

    def _embed(self, chunks: Sequence[Chunk]) -> Vector:
        # Large groups: the embedders sort a group's passages by length before batching them,
        # so a batch pads to similar lengths (a third faster than groups of 32 in file order).
        texts = [searchable_text(chunk) for chunk in chunks]
        batches = [
            self.embedder.embed_passages(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(batches).astype(np.float32, copy=False)

    def _remove_missing(
        self, roots: Sequence[Path], files: Sequence[Path], stored: dict[str, StoredDocument]
    ) -> list[str]:
        """Deletes the documents that came from one of the directories and are gone from it."""
        directories = [root.resolve() for root in roots if root.is_dir()]
        present = {file.name for file in files}
        removed: list[str] = []
        for name, document in sorted(stored.items()):
            if name in present or not document.source:
                continue
            source = Path(document.source)
            if any(source.is_relative_to(directory) for directory in directories):
                self.store.delete_document(name)
                removed.append(name)
        return removed
