"""Several leads per conversation: a returning person's new request after a closed or old lead
gets a new reference; while the lead is open their new contact details are written into it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from advisor.handoff import Contact
from advisor.models import LeadRow, WebhookDeliveryRow
from advisor.store import LeadStore
from advisor.webhook import WebhookSender
from tests.advisor.factories import handoff_request
from tests.advisor.test_webhook import SECRET, receiver_factory  # noqa: F401

CONVERSATION = "whatsapp:+33612345678"


def request(**contact: str | None):  # type: ignore[no-untyped-def]
    values = {"name": "Jeanne Martin", "email": "jeanne.martin@exemple.fr", "phone": None}
    values.update(contact)
    return handoff_request(conversation_id=CONVERSATION, contact=Contact(**values))


class TestReturningPerson:
    @pytest.mark.parametrize("outcome", ["lost", "won", "closed"])
    def test_a_new_request_after_a_closed_lead_gets_a_new_reference(
        self, store, advisor, supervisor, outcome
    ):
        first = store.hand_off(request()).lead_reference
        store.claim(first, advisor)
        if outcome == "won":
            for status in ("contacted", "offer_sent", "won"):
                store.change_status(first, advisor, status)
        else:
            store.change_status(first, advisor, outcome)

        receipt = store.hand_off(request(phone="07 98 76 54 32"))
        assert receipt.created
        assert receipt.lead_reference != first
        new = store.get_lead(receipt.lead_reference)
        assert new.contact_phone == "+33798765432"
        assert new.status == "new"
        assert store.get_lead(first).status == outcome  # the old one is left as it was

    def test_while_the_lead_is_open_new_details_update_it_and_say_so(self, store, advisor):
        first = store.hand_off(request()).lead_reference
        store.claim(first, advisor)
        receipt = store.hand_off(request(phone="07 98 76 54 32"))
        assert receipt.model_dump() == {
            "lead_reference": first,
            "created": False,
            "contact_updated": True,
        }
        lead = store.get_lead(first)
        assert lead.contact_phone == "+33798765432"
        assert lead.contact_email == "jeanne.martin@exemple.fr"  # not given again: kept
        assert lead.status == "claimed"
        event = lead.audit[-1]
        assert (event.action, event.details) == ("contact_updated", {"fields": ["contact_phone"]})

    def test_the_same_details_again_change_nothing(self, store):
        first = store.hand_off(request()).lead_reference
        again = store.hand_off(request())
        assert (again.lead_reference, again.created, again.contact_updated) == (first, False, False)
        assert [e.action for e in store.get_lead(first).audit] == ["created"]

    def test_an_open_lead_older_than_the_limit_is_left_and_a_new_one_made(self, engine):
        old = LeadStore(engine, clock=lambda: datetime.now(UTC) - timedelta(days=45))
        first = old.hand_off(request()).lead_reference
        assert LeadStore(engine, open_lead_days=60).hand_off(request()).lead_reference == first
        receipt = LeadStore(engine, open_lead_days=30).hand_off(request())
        assert receipt.created
        assert receipt.lead_reference != first

    def test_someone_else_in_the_same_conversation_gets_their_own_lead(self, store):
        first = store.hand_off(request()).lead_reference
        other = store.hand_off(request(name="Paul Durand", email="paul.durand@exemple.fr"))
        assert other.created
        assert other.lead_reference != first
        assert store.get_lead(first).contact_name == "Jeanne Martin"

    def test_a_name_written_differently_is_the_same_person(self, store):
        first = store.hand_off(request()).lead_reference
        again = store.hand_off(request(name="  jeanne   MARTIN "))
        assert again.lead_reference == first

    def test_an_erased_lead_is_never_reused(self, engine, store):
        from advisor.erasure import Person, TrackerEvents, erase_person
        from advisor.workflow import CLI

        first = store.hand_off(request()).lead_reference
        erase_person(engine, TrackerEvents(None), CLI, Person.of(reference=first))
        receipt = store.hand_off(request())
        assert receipt.created
        assert receipt.lead_reference != first

    def test_simultaneous_requests_of_a_new_conversation_make_one_lead(self, engine):
        results: list[str] = []
        barrier = threading.Barrier(4)

        def hand_off() -> None:
            store = LeadStore(engine)
            barrier.wait()
            results.append(store.hand_off(request()).lead_reference)

        threads = [threading.Thread(target=hand_off) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(results) == 4
        assert len(set(results)) == 1
        with engine.connect() as connection:
            assert connection.scalars(select(LeadRow.conversation_seq)).all() == [1]


class TestCrmUpdate:
    def test_a_lead_already_sent_to_the_crm_sends_the_new_details(
        self,
        engine,
        store,
        receiver_factory,  # noqa: F811
    ):
        receiver = receiver_factory()
        sender = WebhookSender(engine, receiver.url, SECRET, sleep=lambda _: None)
        first = store.hand_off(request()).lead_reference
        assert sender.deliver_for_lead(first) == 1
        store.hand_off(request(phone="07 98 76 54 32"))
        assert sender.deliver_for_lead(first) == 1
        with engine.connect() as connection:
            events = connection.scalars(
                select(WebhookDeliveryRow.event).order_by(WebhookDeliveryRow.id)
            ).all()
        assert events == ["lead.qualified", "lead.updated"]
        assert b"+33798765432" in receiver.calls[-1][1]
