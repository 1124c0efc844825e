"""Assembling the knowledge-base stages from `KnowledgeSettings` (the composition root).

Nothing is loaded here: the returned components load their model, open their store or connect
to Weaviate in `warm_up()`.
"""

import importlib
import re

from knowledge.answering import AnswerService
from knowledge.catalog import DEFAULT_CATALOG_DIR, load_document_catalog
from knowledge.chunking import SectionChunker
from knowledge.errors import KnowledgeError
from knowledge.generation import LlamaCppGenerator
from knowledge.ingestion import IngestionPipeline
from knowledge.interfaces import DocumentStore, Embedder, RetrievalMode, Retriever
from knowledge.retrieval import StoreRetriever
from knowledge.settings import KnowledgeSettings
from knowledge.stores import create_store
from knowledge.validation import AnswerValidator

# "package.module:ClassName": an embedder class importable from the Python path, built with no
# arguments (a project-specific model, or the small deterministic embedder of the tests).
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def build_embedder(name: str, quantization: str = "none") -> Embedder:
    """An embedder class given as `module:Class`, or a sentence-transformers model by name.

    `quantization` ("none" or "int8") applies to sentence-transformers models."""
    if _IMPORT_PATH.match(name):
        module_name, _, class_name = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise KnowledgeError(f"embedder {name} not found: {exc}") from exc
        embedder: Embedder = factory()
        return embedder
    from knowledge.embedders import SentenceTransformerEmbedder

    if quantization not in ("none", "int8"):
        raise KnowledgeError(f"unknown embedding quantization {quantization!r}")
    return SentenceTransformerEmbedder(
        model=name, quantization="int8" if quantization == "int8" else "none"
    )


def build_chunker(settings: KnowledgeSettings) -> SectionChunker:
    return SectionChunker(settings.chunk_size, settings.chunk_overlap)


def build_ingestion(
    settings: KnowledgeSettings,
    *,
    store: DocumentStore | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> IngestionPipeline:
    return IngestionPipeline(
        store or create_store(settings),
        embedder or build_embedder(settings.embedding_model, settings.embedding_quantization),
        chunker=build_chunker(settings),
        catalog=load_document_catalog(settings.catalog_dir or DEFAULT_CATALOG_DIR),
        progress=progress,
    )


def build_retriever(
    settings: KnowledgeSettings,
    *,
    store: DocumentStore | None = None,
    embedder: Embedder | None = None,
    mode: RetrievalMode | None = None,
) -> StoreRetriever:
    mode = mode or settings.retrieval_mode
    if embedder is None and mode != "bm25":
        embedder = build_embedder(settings.embedding_model, settings.embedding_quantization)
    return StoreRetriever(
        store or create_store(settings),
        embedder,
        mode=mode,
        alpha=settings.alpha,
        fusion=settings.fusion,
        top_k=settings.top_k,
        distinct_pages=settings.distinct_pages,
    )


def build_answer_service(settings: KnowledgeSettings, retriever: Retriever) -> AnswerService:
    """Retrieval + (LLM generation, when a model is configured) + validation."""
    generator = None
    if settings.llm_model.strip():
        generator = LlamaCppGenerator(
            model=settings.llm_model,
            n_ctx=settings.llm_n_ctx,
            max_tokens=settings.llm_max_tokens,
        )
    return AnswerService(
        retriever,
        AnswerValidator(threshold=settings.validation_threshold),
        generator=generator,
        prompt_format=settings.llm_prompt_format,
        top_k=settings.top_k,
        timeout_s=settings.llm_timeout_s,
        max_answer_tokens=settings.llm_max_tokens,
    )
