"""Action test fixtures: the real catalogue engine, fakes for the knowledge base and the lead store.

The fakes implement the same interfaces as the real services (`QuestionAnswerer`,
`HandoffService`); the REST conversation test uses the real ones.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.adapters import CatalogueAdapter, KnowledgeAdapter, Services, install_services
from advisor.handoff import HandoffReceipt, HandoffRequest, HandoffUnavailableError
from common.drafts import SentenceSink
from knowledge.interfaces import Answer, Source
from product_catalog.loader import load_catalogue


class FakeAnswerer:
    """Answers every question with one passage of the product asked about (or a generic one)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []  # (question, product named or in context)
        self.in_context: list[bool] = []  # per call: was the product only the context's?

    def answer(
        self,
        question: str,
        product: str | None = None,
        context_product: str | None = None,
        on_sentence: SentenceSink | None = None,
        hurry: bool = False,
    ) -> Answer:
        self.calls.append((question, product or context_product))
        self.in_context.append(product is None and context_product is not None)
        product = product or context_product
        if "licorne" in question.lower():
            return Answer(
                text="Je ne trouve pas cette information.", sources=(), mode="refusal",
                validated=True,
            )  # fmt: skip
        document = f"CG_{product or 'GENERAL'}.pdf"
        source = Source(document=document, page=3, passage="Le passage cité.", score=0.9,
                        product_code=product or "")  # fmt: skip
        return Answer(text="Réponse tirée des documents.", sources=(source,), mode="extractive",
                      validated=True)  # fmt: skip


class FakeHandoffService:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.requests: list[HandoffRequest] = []

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        if self.fail:
            raise HandoffUnavailableError("database down")
        self.requests.append(request)
        return HandoffReceipt(lead_reference="VG-LEAD-0001", created=True)


_CATALOGUE = CatalogueAdapter(load_catalogue())


@pytest.fixture
def answerer() -> FakeAnswerer:
    return FakeAnswerer()


@pytest.fixture
def advisor() -> FakeHandoffService:
    return FakeHandoffService()


@pytest.fixture(autouse=True)
def services(answerer: FakeAnswerer, advisor: FakeHandoffService) -> Iterator[Services]:
    installed = Services(
        catalogue=_CATALOGUE, knowledge=KnowledgeAdapter(answerer), advisor=advisor
    )
    install_services(installed)
    yield installed
    install_services(None)


def tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str | None = "inform",
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95} if intent else {},
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=message,
        events=list(events or [{"event": "user", "text": text, "parse_data": message}]),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
