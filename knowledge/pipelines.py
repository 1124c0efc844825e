"""Assembling the knowledge-base stages from `KnowledgeSettings` (the composition root).

Nothing is loaded here: the returned components load their model, open their store or connect
to Weaviate in `warm_up()`.
"""

import importlib
import logging
import re
from typing import TYPE_CHECKING, cast

from knowledge.abstention import AbstentionModel
from knowledge.abstention import artifact_present as abstention_artifact_present
from knowledge.answering import AnswerService
from knowledge.chunking import SectionChunker
from knowledge.errors import KnowledgeError
from knowledge.generation import LlamaCppGenerator, resolve_adapter
from knowledge.ingestion import IngestionPipeline
from knowledge.interfaces import DocumentStore, Embedder, Generator, RetrievalMode, Retriever
from knowledge.retrieval import StoreRetriever
from knowledge.served import OpenAICompatibleGenerator
from knowledge.settings import KnowledgeSettings
from knowledge.stores import create_store
from knowledge.validation import AnswerValidator
from product_catalog.documents import DocumentCatalog

if TYPE_CHECKING:
    from knowledge.embedders import Precision, Quantization
    from knowledge.qa.reader import SpanReader
    from knowledge.rerank.reranker import Computed, SentenceSelector

logger = logging.getLogger(__name__)

# "package.module:ClassName": an embedder class importable from the Python path, built with no
# arguments (a project-specific model, or the small deterministic embedder of the tests).
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def build_embedder(name: str, quantization: str = "none", precision: str = "auto") -> Embedder:
    """An embedder class given as `module:Class`, or a sentence-transformers model by name.

    `quantization` ("auto", "none" or "int8") and `precision` ("auto", "float32" or
    "bfloat16") apply to sentence-transformers models."""
    if _IMPORT_PATH.match(name):
        module_name, _, class_name = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise KnowledgeError(f"embedder {name} not found: {exc}") from exc
        embedder: Embedder = factory()
        return embedder
    from knowledge.embedders import SentenceTransformerEmbedder

    if quantization not in ("auto", "none", "int8"):
        raise KnowledgeError(f"unknown embedding quantization {quantization!r}")
    if precision not in ("auto", "float32", "bfloat16"):
        raise KnowledgeError(f"unknown embedding precision {precision!r}")
    try:
        return SentenceTransformerEmbedder(
            model=name,
            quantization=cast("Quantization", quantization),
            precision=cast("Precision", precision),
        )
    except ValueError as exc:
        raise KnowledgeError(str(exc)) from exc


def settings_embedder(settings: KnowledgeSettings) -> Embedder:
    """The embedder the settings name, with their quantization and precision."""
    return build_embedder(
        settings.embedding_model, settings.embedding_quantization, settings.embedding_precision
    )


def build_chunker(settings: KnowledgeSettings) -> SectionChunker:
    return SectionChunker(settings.chunk_size, settings.chunk_overlap)


def build_ingestion(
    settings: KnowledgeSettings,
    *,
    catalog: DocumentCatalog,
    store: DocumentStore | None = None,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> IngestionPipeline:
    """`catalog`: which product each document belongs to (`product_catalog.documents`)."""
    return IngestionPipeline(
        store or create_store(settings),
        embedder or settings_embedder(settings),
        chunker=build_chunker(settings),
        catalog=catalog,
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
        embedder = settings_embedder(settings)
    return StoreRetriever(
        store or create_store(settings),
        embedder,
        mode=mode,
        alpha=settings.alpha,
        fusion=settings.fusion,
        top_k=settings.top_k,
        distinct_pages=settings.distinct_pages,
    )


def open_built_retriever(settings: KnowledgeSettings) -> tuple[StoreRetriever, DocumentStore]:
    """The warmed-up retriever over the store of these settings and the store (close it when
    done), for the evaluation tools; KnowledgeError when nothing was ingested there."""
    store = create_store(settings)
    store.warm_up()
    if store.count() == 0:
        store.close()
        raise KnowledgeError(
            f"the store in {settings.store_dir} is empty: ingest build/corpus first"
        )
    retriever = build_retriever(settings, store=store)
    retriever.warm_up()
    return retriever, store


def build_answer_service(settings: KnowledgeSettings, retriever: Retriever) -> AnswerService:
    """Retrieval + (LLM generation, when a model is configured) + validation + the extractive
    reader (when its artifact is present); the reranker before them when enabled."""
    retriever = with_reranker(settings, retriever)
    generator: Generator | None = None
    if settings.llm_base_url:
        generator = OpenAICompatibleGenerator(
            settings.llm_base_url,
            settings.llm_model,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            n_ctx=settings.llm_n_ctx,
            max_tokens=settings.llm_max_tokens,
            max_concurrent=settings.llm_max_concurrent,
            tokenizer=settings.llm_tokenizer,
        )
    elif settings.llm_model.strip():
        adapter = resolve_adapter(settings.llm_adapter, settings.llm_model)
        generator = LlamaCppGenerator(
            model=settings.llm_model,
            n_ctx=settings.llm_n_ctx,
            max_tokens=settings.llm_max_tokens,
            lora_path=str(adapter) if adapter else None,
        )
    quantization = query_quantization(retriever)
    return AnswerService(
        retriever,
        AnswerValidator(threshold=settings.validation_threshold),
        generator=generator,
        prompt_format=settings.llm_prompt_format,
        top_k=settings.top_k,
        timeout_s=settings.llm_timeout_s,
        max_answer_tokens=settings.llm_max_tokens,
        reader=build_reader(settings),
        abstention=build_abstention(settings, quantization),
        sentence_selector=build_sentence_selector(settings),
        selector_abstention=build_abstention(settings, quantization, selector=True),
    )


def query_quantization(retriever: Retriever) -> str:
    """The quantization of the retriever's query vectors ("none" without an embedder)."""
    embedder = getattr(retriever, "embedder", None)
    return str(getattr(embedder, "quantization", "none"))


def build_abstention(
    settings: KnowledgeSettings, quantization: str = "none", selector: bool = False
) -> AbstentionModel | None:
    """The abstention model for vectors of this quantization when enabled, its artifact present
    and fitted with this embedding model; otherwise (logged when unusable or fitted with
    another) the former rule applies: a best sentence sharing too few words abstains.

    `selector`: the fit that reads the sentence selector's score, only beside an enabled
    selector with the weights it was fitted with (else the model without it decides)."""
    directory = settings.abstention_dir
    if not settings.abstention_enabled or not abstention_artifact_present(
        directory, quantization, selector
    ):
        return None
    selector_sha256 = selector_weights_sha256(settings) if selector else None
    if selector and selector_sha256 is None:
        return None
    try:
        model = AbstentionModel.load(directory, quantization, selector)
    except KnowledgeError as error:
        logger.error("%s: abstention by word overlap instead", error)
        return None
    fitted_with = model.embedding_model
    if fitted_with and fitted_with != settings.embedding_model:
        # Its signals include the hybrid score, which another embedding model changes.
        logger.warning(
            "abstention model fitted with %s, the store embeds with %s: abstention by word "
            "overlap instead (retrain it: python -m knowledge.eval.abstention)",
            fitted_with,
            settings.embedding_model,
        )
        return None
    if selector and (
        model.selector_sha256 != selector_sha256
        or model.selector_quantization != settings.sentence_selector_quantization
        or model.selector_candidates not in (None, selector_candidates(settings))
    ):
        # The selector's scores are one of its signals: other weights or precision change them,
        # and the best of more sentences scores higher.
        logger.warning(
            "abstention model %s was fitted beside another sentence selector (weights, "
            "quantization or sentences read): the model without the selector's score decides "
            "(retrain it: python -m knowledge.eval.abstention)",
            directory,
        )
        return None
    return model


def selector_weights_sha256(settings: KnowledgeSettings) -> str | None:
    """The sha256 of the enabled sentence selector's weights; None when it is off or absent."""
    from common.hashing import file_sha256
    from knowledge.qa.model import WEIGHTS_FILE

    weights = settings.sentence_selector_dir / WEIGHTS_FILE
    if not settings.sentence_selector_enabled or not weights.is_file():
        return None
    return file_sha256(weights)


def with_reranker(settings: KnowledgeSettings, retriever: Retriever) -> Retriever:
    """The retriever, its candidates reordered by the reranker when enabled and its artifact is
    present (the model loads at warm-up)."""
    from knowledge.qa.model import artifact_present
    from knowledge.rerank.reranker import PassageReranker, RerankingRetriever

    if not settings.reranker_enabled or not artifact_present(settings.reranker_dir):
        return retriever
    reranker = PassageReranker(
        settings.reranker_dir,
        threads=settings.reader_threads,
        quantization=settings.reranker_quantization,
    )
    return RerankingRetriever(retriever, reranker, settings.reranker_candidates)


def selector_precision(settings: KnowledgeSettings) -> "Computed":
    """What the sentence selector computes in on this machine ("float32" or "bfloat16")."""
    from knowledge.rerank.reranker import resolve_precision

    return resolve_precision(
        settings.sentence_selector_precision, settings.sentence_selector_quantization
    )


def selector_candidates(settings: KnowledgeSettings) -> int:
    """The sentences the selector reads: the setting, or its precision's default."""
    from knowledge.rerank.reranker import default_candidates

    if settings.sentence_selector_candidates is not None:
        return settings.sentence_selector_candidates
    return default_candidates(selector_precision(settings))


def build_sentence_selector(settings: KnowledgeSettings) -> "SentenceSelector | None":
    """The sentence selector when enabled and its artifact is present (not loaded yet)."""
    from knowledge.qa.model import artifact_present
    from knowledge.rerank.reranker import PassageReranker, SentenceSelector

    directory = settings.sentence_selector_dir
    if not settings.sentence_selector_enabled or not artifact_present(directory):
        return None
    return SentenceSelector(
        PassageReranker(
            directory,
            threads=settings.reader_threads,
            quantization=settings.sentence_selector_quantization,
            precision=selector_precision(settings),
        ),
        max_concurrent=settings.sentence_selector_max_concurrent,
        candidates=selector_candidates(settings),
        quantity_bonus=settings.sentence_selector_quantity_bonus,
    )


def build_reader(settings: KnowledgeSettings) -> "SpanReader | None":
    """The extractive reader when enabled and its artifact is present (not loaded yet)."""
    from knowledge.qa.model import artifact_present
    from knowledge.qa.reader import SpanReader

    if not settings.reader_enabled or not artifact_present(settings.reader_dir):
        return None
    return SpanReader(
        settings.reader_dir,
        threads=settings.reader_threads,
        quantization=settings.reader_quantization,
        threshold=settings.reader_threshold,
    )
