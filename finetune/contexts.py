"""Contexts for dataset generation: the insurer's documents cut into overlapping passages.

The brief's recipe: passages of about 450 characters overlapping by about 60, cut at sentence
boundaries by the knowledge base's own reader, cleaner and chunker, so a generated question
points at a document and a page exactly as the retrieval evaluation counts them.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from knowledge.chunking import SectionChunker
from knowledge.cleaning import TextCleaner
from knowledge.errors import DocumentError
from knowledge.interfaces import Chunk
from knowledge.readers import default_readers, reader_for, supported_suffixes
from product_catalog.documents import load_document_catalog
from product_catalog.loader import DEFAULT_PRODUCTS_DIR as DEFAULT_CATALOG_DIR

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 450
DEFAULT_CHUNK_OVERLAP = 60


@dataclass
class ContextReport:
    documents: int = 0
    chunks: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def document_files(paths: Sequence[Path]) -> list[Path]:
    suffixes = supported_suffixes(default_readers())
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            )
        else:
            files.append(path)
    return files


def build_contexts(
    paths: Sequence[Path],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    catalog_dir: Path = DEFAULT_CATALOG_DIR,
) -> tuple[list[Chunk], ContextReport]:
    """Every passage of every readable document, with product metadata and title.

    A document that cannot be read is logged, counted and skipped."""
    readers = default_readers()
    cleaner = TextCleaner()
    chunker = SectionChunker(chunk_size, chunk_overlap)
    catalog = load_document_catalog(catalog_dir)
    report = ContextReport()
    chunks: list[Chunk] = []
    for path in document_files(paths):
        try:
            pages = cleaner.clean(reader_for(path, readers).read(path))
        except DocumentError as exc:
            report.failed.append((path.name, exc.reason))
            logger.warning("document skipped", extra={"file": path.name, "reason": exc.reason})
            continue
        except OSError as exc:
            report.failed.append((path.name, str(exc)))
            continue
        info = catalog.lookup(path.name)
        found = chunker.split(pages)
        metadata = {"title": info.title} if info is not None and info.title else {}
        chunks.extend(
            replace(
                chunk,
                product_code=info.product_code if info else "",
                category=info.category if info else "",
                metadata=metadata,
            )
            for chunk in found
        )
        report.documents += 1
        report.chunks += len(found)
    return chunks, report
