"""The chat message contract: the `custom` payloads the actions send beside their text, built here
and nowhere else, and the buttons several actions offer.

A bot message is a text for every channel, optional buttons, and for the messages below a `custom`
payload that rich clients (the widget) render and messaging channels turn into text
(`channels/formatting.py`). Each payload is a JSON object whose `type` is one of:
- `answer`: an answer from the insurer's documents, with the passages it cites and its mode;
- `recommendations`: up to three products, each with reasons, warnings and a supporting passage;
- `categories`: the product families.
Fields, answer modes and what each channel shows: docs/conversation.md, "Chat messages".

Only the standard library is imported at run time, so that the channels (Rasa environment, Python
3.10) can share the type names with the actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, Literal, TypedDict

if TYPE_CHECKING:
    from knowledge.interfaces import Answer, Source
    from product_catalog.categories import Category
    from product_catalog.engine import Recommendation

ANSWER_TYPE: Final = "answer"
RECOMMENDATIONS_TYPE: Final = "recommendations"
CATEGORIES_TYPE: Final = "categories"
PAYLOAD_TYPES = (ANSWER_TYPE, RECOMMENDATIONS_TYPE, CATEGORIES_TYPE)

# How an answer was written: by the LLM from the passages, validated ("generative"); from the
# answering sentences of the best passages ("extractive"); the documents do not hold the answer
# ("refusal"); the knowledge base could not be used ("unavailable").
AnswerMode = Literal["generative", "extractive", "refusal", "unavailable"]
ANSWER_MODES: tuple[AnswerMode, ...] = ("generative", "extractive", "refusal", "unavailable")
# The modes whose answer cites nothing: their payload has no sources.
UNSOURCED_MODES = frozenset({"refusal", "unavailable"})
# Passages cited under an answer, at most.
MAX_ANSWER_SOURCES = 2


class Button(TypedDict):
    title: str
    payload: str


ADVISOR_BUTTON: Button = {"title": "Parler à un conseiller", "payload": "/ask_advisor"}
CATEGORIES_BUTTON: Button = {
    "title": "Voir les familles de produits",
    "payload": "/ask_product_categories",
}
NEEDS_BUTTON: Button = {
    "title": "Faire le point sur mes besoins",
    "payload": "/request_recommendation",
}
# After a first recommendation: the needs discovery goes on with the questions left.
REFINE_BUTTON: Button = {"title": "Affiner", "payload": "/request_recommendation"}


class SourcePayload(TypedDict):
    """A cited passage: the document's file name, its page (from 1) and the words quoted."""

    document: str
    page: int | None
    passage: str


class AnswerPayload(TypedDict):
    type: Literal["answer"]
    text: str
    sources: list[SourcePayload]
    mode: str  # one of ANSWER_MODES
    validated: bool  # False when an LLM answer was rejected and replaced by the extractive one


class RecommendedItem(TypedDict):
    code: str
    name: str
    category: str  # a category code (product_catalog.categories)
    reasons: list[str]
    warnings: list[str]
    sources: list[SourcePayload]  # at most one: the product's supporting passage


class RecommendationsPayload(TypedDict):
    type: Literal["recommendations"]
    items: list[RecommendedItem]
    catalogue_version: str  # the catalogue the items come from
    profile_fingerprint: str  # opaque: the profile they were computed from (the handoff's check)


class CategoryItem(TypedDict):
    code: str
    label: str
    description: str


class CategoriesPayload(TypedDict):
    type: Literal["categories"]
    items: list[CategoryItem]


def source_payload(source: Source) -> SourcePayload:
    return {"document": source.document, "page": source.page, "passage": source.passage}


def cited(sources: Iterable[SourcePayload]) -> str:
    """`doc.pdf, page 3; other.pdf, page 1`: the citation of the messages' texts."""
    return "; ".join(f"{source['document']}, page {source['page']}" for source in sources)


def answer_payload(answer: Answer) -> AnswerPayload:
    """The answer with its first cited passages (none for a refusal or an unavailable base)."""
    sources = [source_payload(source) for source in answer.sources[:MAX_ANSWER_SOURCES]]
    return {
        "type": ANSWER_TYPE,
        "text": answer.text,
        "sources": [] if answer.mode in UNSOURCED_MODES else sources,
        "mode": answer.mode,
        "validated": answer.validated,
    }


def recommended_item(item: Recommendation, source: Source | None) -> RecommendedItem:
    return {
        "code": item.code,
        "name": item.name,
        "category": item.category,
        "reasons": list(item.reasons),
        "warnings": list(item.warnings),
        "sources": [source_payload(source)] if source is not None else [],
    }


def recommendations_payload(
    items: Sequence[RecommendedItem], catalogue_version: str, profile_fingerprint: str
) -> RecommendationsPayload:
    return {
        "type": RECOMMENDATIONS_TYPE,
        "items": list(items),
        "catalogue_version": catalogue_version,
        "profile_fingerprint": profile_fingerprint,
    }


def categories_payload(categories: Iterable[Category]) -> CategoriesPayload:
    return {
        "type": CATEGORIES_TYPE,
        "items": [
            {"code": category.code, "label": category.label, "description": category.description}
            for category in categories
        ],
    }
