"""Adapters between the actions and the other packages: catalogue, knowledge base, advisor.

They are built once when the action server starts (`warm_up`), then shared by every action call;
tests install their own (`install_services`) with fakes behind the same interfaces.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from actions.handoff_spool import HandoffSpool
from actions.messages import UNSOURCED_MODES
from actions.settings import ActionServerSettings
from actions.text import normalize, vocabulary
from advisor.config import AdvisorSettings
from advisor.handoff import (
    HandoffReceipt,
    HandoffRequest,
    HandoffService,
    HandoffUnavailableError,
)
from common.drafts import DraftPublisher, SentenceSink
from knowledge.interfaces import Answer, Source
from knowledge.settings import KnowledgeSettings
from product_catalog.engine import Recommendation, RecommendationResult, SuitabilityEngine
from product_catalog.profile import NeedsProfile
from product_catalog.schema import Catalogue, Product

logger = logging.getLogger(__name__)

UNAVAILABLE_TEXT = (
    "Je ne peux pas consulter les documents de Vergemont Assurances pour le moment. "
    "Un conseiller pourra vous répondre précisément."
)
UNAVAILABLE = Answer(text=UNAVAILABLE_TEXT, sources=(), mode="unavailable", validated=True)
# Products recommended at most, each shown with one supporting passage of its documents.
MAX_PRODUCTS = 3
# ActionServerSettings.handoff_timeout_s
DEFAULT_HANDOFF_TIMEOUT_S = 4.0

# A recommended product and the passage of its documents that supports it (None: none found).
Supported = tuple[Recommendation, Source | None]


def supporting_question(name: str) -> str:
    """The question whose answer supports a product: what it covers."""
    return f"Quelles sont les garanties de {name} ?"


class QuestionAnswerer(Protocol):
    """What `knowledge.answering.AnswerService` offers the actions."""

    def answer(
        self,
        question: str,
        product: str | None = None,
        context_product: str | None = None,
        on_sentence: SentenceSink | None = None,
        hurry: bool = False,
    ) -> Answer: ...


class CatalogueAdapter:
    """The suitability engine and the product names, for recommending and recognising products."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.engine = SuitabilityEngine(catalogue)
        self._products = {product.code: product for product in catalogue.products}
        # Longest names first: "Vergemont Santé Seniors" before "Vergemont Santé".
        self._names = sorted(
            ((self._key(product.name), product.code) for product in catalogue.products),
            key=lambda item: -len(item[0]),
        )
        by_category: dict[str, list[str]] = {}
        for product in catalogue.products:
            by_category.setdefault(product.category, []).append(product.code)
        self._single_product_categories = {
            category: codes[0] for category, codes in by_category.items() if len(codes) == 1
        }

    @staticmethod
    def _key(name: str) -> str:
        return normalize(name).replace("vergemont ", "")

    def recommend(self, profile: NeedsProfile) -> RecommendationResult:
        return self.engine.recommend(profile)

    def product(self, code: str) -> Product | None:
        return self._products.get(code)

    def find_product(self, text: str) -> str | None:
        """The product a message names: its code, its name, or a category with one product."""
        normalized = normalize(text)
        for code in self._products:
            if code.lower() in normalized:
                return code
        for key, code in self._names:
            if re.search(r"\b" + re.escape(key) + r"\b", normalized):
                return code
        words = vocabulary()["categories"]
        for category, code in self._single_product_categories.items():
            if category in words and re.search(words[category], normalized):
                return code
        return None


class KnowledgeAdapter:
    """Answers and supporting passages from the knowledge base; never fails a conversation."""

    def __init__(self, answerer: QuestionAnswerer | None) -> None:
        self.answerer = answerer
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.answerer is not None

    def answer(
        self,
        question: str,
        product: str | None = None,
        context_product: str | None = None,
        on_sentence: SentenceSink | None = None,
    ) -> Answer:
        """`product`: named in the question; `context_product`: the one the conversation is
        about, used when the question fits its documents; `on_sentence`: the checked sentences
        of a streamed LLM answer, as they come (common/drafts.py)."""
        if self.answerer is None:
            return UNAVAILABLE
        try:
            # Actions call this from worker threads (the event loop stays free for the other
            # conversations); the models behind it (tokenizer, LLM) take one question at a time.
            # A question that finds another being answered is answered in a hurry (without the
            # optional sentence selector), so a burst does not queue behind it.
            waited = not self._lock.acquire(blocking=False)
            if waited:
                self._lock.acquire()
            try:
                return self.answerer.answer(
                    question, product, context_product, on_sentence, hurry=waited
                )
            finally:
                self._lock.release()
        except Exception:
            # Whatever breaks in retrieval, the conversation goes on with an honest sentence.
            logger.exception("knowledge base failed to answer (product=%s)", product)
            return UNAVAILABLE

    def supporting_source(self, code: str, name: str) -> Source | None:
        """The best passage of a product's documents on its cover (`supporting_question`), cached:
        same product, same passage, and the documents change only with a new ingestion."""
        return self._cached_source(code, supporting_question(name))

    @lru_cache(maxsize=512)  # noqa: B019 (one adapter per process, kept for its lifetime)
    def _cached_source(self, code: str, question: str) -> Source | None:
        answer = self.answer(question, product=code)
        if answer.mode in UNSOURCED_MODES or not answer.sources:
            return None
        return answer.sources[0]


class UnavailableHandoffService:
    """Stands in when the lead store could not be opened: every handoff fails honestly."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        raise HandoffUnavailableError(self.reason)


@dataclass
class Services:
    catalogue: CatalogueAdapter
    knowledge: KnowledgeAdapter
    advisor: HandoffService
    # Where a handoff the lead store cannot take in time waits for it (None: nowhere, the person
    # is asked to try again later), and how long the person's turn waits for the store.
    spool: HandoffSpool | None = None
    handoff_timeout_s: float = DEFAULT_HANDOFF_TIMEOUT_S
    # Where the checked sentences of a streamed answer go while it is written (the widget's
    # drafts, common/drafts.py); None: the person sees the final message only.
    drafts: DraftPublisher | None = None

    def recommend(self, profile: NeedsProfile) -> tuple[RecommendationResult, list[Supported]]:
        """The engine's result for a profile and its first `MAX_PRODUCTS` items, each with its
        supporting passage (retrieval: call it from a worker thread)."""
        result = self.catalogue.recommend(profile)
        items = [
            (item, self.knowledge.supporting_source(item.code, item.name))
            for item in result.items[:MAX_PRODUCTS]
        ]
        return result, items


_services: Services | None = None
_services_lock = threading.Lock()


def install_services(services: Services | None) -> None:
    """Use these services from now on (the server's warm-up, or a test)."""
    global _services
    with _services_lock:
        _services = services


def get_services() -> Services:
    """The services built at start-up (`warm_up`) or installed by a test."""
    with _services_lock:
        if _services is None:
            raise RuntimeError(
                "the action services are built at start-up by `python -m actions` (warm_up); "
                "a test installs its own (install_services)"
            )
        return _services


def build_knowledge(knowledge_settings: KnowledgeSettings) -> KnowledgeAdapter:
    """The knowledge base of these (KNOWLEDGE_*) settings; a polite refusal when unusable."""
    from knowledge.pipelines import build_answer_service, build_retriever
    from knowledge.stores import create_store

    try:
        database = knowledge_settings.store_dir / "knowledge.sqlite3"
        if knowledge_settings.store == "embedded" and not database.exists():
            logger.warning(
                "no knowledge base at %s: product questions get a polite refusal "
                "(`make run` builds it, or `python -m knowledge ingest build/corpus`)",
                knowledge_settings.store_dir,
            )
            return KnowledgeAdapter(None)
        store = create_store(knowledge_settings)
        store.warm_up()
        if store.count() == 0:  # checked before loading the embedding model
            logger.warning(
                "knowledge base store %s is empty: product questions get a polite refusal "
                "(run `python -m knowledge ingest build/corpus`)",
                knowledge_settings.store_dir,
            )
            return KnowledgeAdapter(None)
        retriever = build_retriever(knowledge_settings, store=store)
        retriever.warm_up()
        service = build_answer_service(knowledge_settings, retriever)
        service.warm_up()  # the LLM and the extractive reader, when configured
        return KnowledgeAdapter(service)
    except Exception:
        logger.exception("knowledge base could not start: product questions get a refusal")
        return KnowledgeAdapter(None)


def build_advisor(settings: AdvisorSettings) -> HandoffService:
    """The lead store of these (ADVISOR_*) settings; a service that fails honestly when it cannot
    be opened."""
    try:
        from advisor.service import open_handoff_service

        return open_handoff_service(settings.database_url, settings)
    except Exception as error:
        logger.exception("advisor lead store could not be opened: handoffs will fail honestly")
        return UnavailableHandoffService(f"lead store unavailable: {type(error).__name__}")


def build_services(settings: ActionServerSettings) -> Services:
    from product_catalog.loader import load_catalogue

    return Services(
        catalogue=CatalogueAdapter(load_catalogue()),
        knowledge=build_knowledge(settings.knowledge),
        advisor=build_advisor(settings.advisor),
        spool=HandoffSpool(settings.handoff_spool_dir),
        handoff_timeout_s=settings.handoff_timeout_s,
        drafts=build_drafts(settings),
    )


def build_drafts(settings: ActionServerSettings) -> DraftPublisher | None:
    """The answer drafts' publisher when ANSWER_DRAFTS_URL is set (Redis), else None."""
    if not settings.answer_drafts_url:
        return None
    password = settings.answer_drafts_password
    return DraftPublisher(
        settings.answer_drafts_url, password.get_secret_value() if password else None
    )


def warm_up(settings: ActionServerSettings) -> Services:
    """Build every adapter now, before the server accepts its first call."""
    services = build_services(settings)
    install_services(services)
    return services
