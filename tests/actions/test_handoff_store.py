"""`action_hand_off` with the real advisor service, on SQLite and on PostgreSQL."""

import asyncio
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions.handoff import ActionHandOff
from advisor.service import open_handoff_service
from tests.actions.conftest import tracker
from tests.actions.test_handoff import HISTORY, READY
from tests.services import require_service

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def lead_store_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'advisor.db'}"
        return
    require_service("PostgreSQL", 5432)
    name = f"leads_{uuid.uuid4().hex[:10]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def hand_off(conversation: str) -> tuple[list, list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionHandOff().run(
            dispatcher, tracker(READY, "", None, events=HISTORY, sender_id=conversation), {}
        )
    )
    return events, [message["text"] for message in dispatcher.messages]


class TestHandOffToTheLeadStore:
    def test_the_reference_shown_is_the_stored_lead_and_a_retry_finds_it(
        self, services, lead_store_url
    ):
        service = open_handoff_service(lead_store_url)
        services.advisor = service
        try:
            events, [confirmation] = hand_off("store-conversation-1")
            [event] = events
            reference = event["value"]
            assert event == SlotSet("lead_reference", reference)
            assert reference in confirmation
            again, _ = hand_off("store-conversation-1")  # the same conversation, handed off twice
            assert again == events
        finally:
            service.close()
        url = lead_store_url.replace("postgresql://", "postgresql+psycopg://")
        engine = create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT reference, conversation_id, contact_phone FROM advisor_leads")
            ).all()
        engine.dispose()
        assert [tuple(row) for row in rows] == [
            (reference, "store-conversation-1", "+33612345678")  # stored in E.164
        ]

    def test_an_unreachable_store_gives_no_reference(self, services):
        service = open_handoff_service("postgresql://postgres@127.0.0.1:1/none")
        services.advisor = service
        try:
            events, [text_] = hand_off("store-conversation-2")
        finally:
            service.close()
        assert events == []
        assert "réessayez" in text_


class TestReturningCustomer:
    def test_after_a_lost_lead_a_new_request_gets_a_new_reference(self, services, lead_store_url):
        from advisor.store import LeadStore
        from advisor.workflow import Actor

        service = open_handoff_service(lead_store_url)
        services.advisor = service
        try:
            events, _ = hand_off("store-conversation-3")
            first = events[0]["value"]
            supervisor = Actor(1, "sophie", "Sophie", "supervisor")
            LeadStore(service.engine).change_status(first, supervisor, "closed")
            again, [confirmation] = hand_off("store-conversation-3")
        finally:
            service.close()
        assert again[0]["value"] != first
        assert again[0]["value"] in confirmation
        assert "C'est enregistré" in confirmation
