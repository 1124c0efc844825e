"""Erasure of a person from every store: leads, Rasa tracker, ratings, CRM copies; SQLite and
PostgreSQL, with tracker rows written by Rasa's own SQL tracker store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from advisor.advice import AdviceRecords
from advisor.cli import main
from advisor.erasure import (
    ERASED_EVENT,
    Person,
    TrackerEvents,
    TrackerUnavailableError,
    erase_person,
)
from advisor.errors import InvalidInputError, LeadNotFoundError
from advisor.gdpr import export_person
from advisor.models import AuditEventRow, WebhookDeliveryRow
from advisor.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify
from advisor.workflow import CLI
from feedback.models import FeedbackRow
from tests.advisor.conftest import postgres_schema_url
from tests.advisor.factories import handoff_request
from tests.advisor.test_webhook import SECRET, Receiver, receiver_factory  # noqa: F401
from tests.advisor.trackers import copy_to_postgresql, rasa_tracker_file, senders

NOW = time.time()
JEANNE = "website:jeanne-session"
PAUL = "website:paul-session"
CONVERSATIONS = [
    {
        "sender": JEANNE,
        "at": NOW - 3600,
        "texts": ["Bonjour, je veux assurer ma voiture", "jeanne.martin@exemple.fr 06 12 34 56 78"],
        "slots": {
            "contact_name": "Jeanne Martin",
            "contact_email": "jeanne.martin@exemple.fr",
            "contact_phone": "06 12 34 56 78",
        },
    },
    # Her WhatsApp conversation: the key is her number, no lead came of it.
    {"sender": "whatsapp:+33612345678", "at": NOW - 7200, "texts": ["Bonjour"]},
    # An abandoned Telegram conversation where she gave her address (written otherwise).
    {"sender": "telegram:555", "at": NOW - 9000,
     "slots": {"contact_email": "Jeanne.Martin@Exemple.fr"}},
    {
        "sender": PAUL,
        "at": NOW - 600,
        "texts": ["Bonjour"],
        "slots": {"contact_email": "paul.durand@exemple.fr", "contact_phone": "07 11 22 33 44"},
    },
]  # fmt: skip
JEANNES = {JEANNE, "whatsapp:+33612345678", "telegram:555"}


@pytest.fixture(scope="module")
def tracker_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rasa_tracker_file(tmp_path_factory.mktemp("tracker") / "rasa.db", CONVERSATIONS)


@pytest.fixture
def tracker_url(database_url: str, tracker_template: Path, tmp_path: Path) -> Iterator[str]:
    """The tracker database on the same backend as the lead store."""
    if database_url.startswith("sqlite"):
        target = tmp_path / "rasa.db"
        target.write_bytes(tracker_template.read_bytes())
        yield f"sqlite:///{target}"
        return
    for url in postgres_schema_url():
        copy_to_postgresql(tracker_template, url)
        yield url


@pytest.fixture
def tracker(tracker_url: str) -> Iterator[TrackerEvents]:
    events = TrackerEvents.open(tracker_url)
    yield events
    events.close()


def rate(engine: Engine, conversation_id: str, message_id: str = "m1") -> None:
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        session.add(
            FeedbackRow(
                conversation_id=conversation_id, message_id=message_id, rating=4, question="q",
                answer="a", sources=[], channel="website", created_at=now, updated_at=now,
            )
        )  # fmt: skip


def ratings(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(FeedbackRow.conversation_id)))


def audit_rows(engine: Engine) -> list[tuple[int | None, str, dict]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEventRow.lead_id, AuditEventRow.action, AuditEventRow.details)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.fixture
def jeanne(store, advisor, engine) -> str:
    """Jeanne's lead from her website conversation, claimed, noted, with a frozen advice record;
    ratings given in her conversation (by the widget's own id) and in Paul's."""
    reference = store.hand_off(handoff_request(conversation_id=JEANNE)).lead_reference
    store.claim(reference, advisor)
    store.add_note(reference, advisor, "Mme Martin souhaite être rappelée le soir.")
    records = AdviceRecords(engine, None)
    records.open_draft(reference, advisor)
    records.freeze(reference, advisor)
    rate(engine, "jeanne-session")
    rate(engine, "paul-session")
    return reference


class TestPerson:
    @pytest.mark.unit
    @pytest.mark.parametrize("phone", ["06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78"])
    def test_a_phone_is_normalised_as_the_leads_store_it(self, phone):
        assert Person.of(phone=phone) == Person("phone", "+33612345678")

    @pytest.mark.unit
    def test_exactly_one_way_to_find_the_person(self):
        with pytest.raises(InvalidInputError):
            Person.of(email="a@b.fr", phone="0612345678")
        with pytest.raises(InvalidInputError):
            Person.of()
        with pytest.raises(InvalidInputError, match="Numéro de téléphone invalide"):
            Person.of(phone="12")


class TestEraseEverywhere:
    def test_erasure_by_phone_reaches_the_tracker_the_ratings_and_the_leads(
        self, engine, store, tracker, tracker_url, jeanne
    ):
        report = erase_person(engine, tracker, CLI, Person.of(phone="06.12.34.56.78"))

        assert report.references == [jeanne]
        assert report.conversations == 3
        assert senders(tracker_url) == {PAUL}
        assert report.tracker_events > 0
        assert ratings(engine) == {"paul-session"}
        assert report.ratings == 1
        lead = store.get_lead(jeanne)
        assert lead.erased
        assert (lead.contact_name, lead.contact_email, lead.contact_phone) == (
            "[effacé]",
            None,
            None,
        )
        assert lead.conversation_id == f"erased:{jeanne}"
        assert lead.transcript == []
        assert lead.profile == {}
        assert lead.notes[0].text == "[effacé]"
        assert lead.status == "claimed"
        assert lead.recommendations == [
            {"code": "VG-AUTO", "name": "Vergemont Auto", "category": "auto"}
        ]
        (version,) = AdviceRecords(engine, None).versions(jeanne)
        assert version.content == {}
        assert version.sha256

    def test_the_erasure_is_audited_without_personal_data(self, engine, tracker, jeanne):
        erase_person(engine, tracker, CLI, Person.of(phone="0612345678"))
        rows = audit_rows(engine)
        (summary,) = [details for lead_id, action, details in rows if action == "person_erased"]
        assert summary["found_by"] == "phone"
        assert summary["leads"] == 1
        assert summary["conversations"] == 3
        assert summary["ratings"] == 1
        written = json.dumps(rows)
        for secret in ("12 34", "12345678", "jeanne", "Martin", "555", "session"):
            assert secret not in written
        assert [action for _, action, _ in rows][-2:] == ["erased", "person_erased"]

    def test_erasure_by_email_finds_a_conversation_without_a_lead(
        self, engine, tracker, tracker_url
    ):
        report = erase_person(engine, tracker, CLI, Person.of(email="jeanne.martin@EXEMPLE.fr"))
        assert report.references == []
        assert senders(tracker_url) == {PAUL, "whatsapp:+33612345678"}
        assert report.conversations == 2  # the website and Telegram ones hold the address

    def test_by_reference_the_later_leads_of_the_conversation_go_too(
        self, engine, store, tracker, advisor, jeanne
    ):
        store.change_status(jeanne, advisor, "lost")
        again = handoff_request(conversation_id=JEANNE)
        second = store.hand_off(again).lead_reference
        assert second != jeanne
        report = erase_person(engine, tracker, CLI, Person.of(reference=second.lower()))
        assert sorted(report.references) == sorted([jeanne, second])
        assert store.get_lead(jeanne).erased
        assert store.get_lead(second).erased

    def test_a_second_erasure_finds_nothing_left_and_changes_nothing(
        self, engine, tracker, tracker_url, jeanne
    ):
        erase_person(engine, tracker, CLI, Person.of(phone="0612345678"))
        before = audit_rows(engine)
        with pytest.raises(LeadNotFoundError, match="déjà été effacées"):
            erase_person(engine, tracker, CLI, Person.of(reference=jeanne))
        with pytest.raises(LeadNotFoundError, match="numéro"):
            erase_person(engine, tracker, CLI, Person.of(phone="0612345678"))
        assert audit_rows(engine) == before
        assert senders(tracker_url) == {PAUL}

    def test_an_unreachable_tracker_erases_nothing(self, engine, store, jeanne):
        down = TrackerEvents.open("postgresql://postgres@127.0.0.1:1/none")
        try:
            with pytest.raises(TrackerUnavailableError, match="rien n'a été effacé"):
                erase_person(engine, down, CLI, Person.of(reference=jeanne))
        finally:
            down.close()
        lead = store.get_lead(jeanne)
        assert not lead.erased
        assert lead.contact_phone == "+33612345678"
        assert ratings(engine) == {"jeanne-session", "paul-session"}

    def test_a_missing_tracker_file_is_not_created(self, engine, tmp_path, jeanne):
        absent = tmp_path / "never.db"
        tracker = TrackerEvents.open(f"sqlite:///{absent}")
        report = erase_person(engine, tracker, CLI, Person.of(reference=jeanne))
        assert report.tracker_events == 0
        assert not absent.exists()


class TestCrmCopies:
    def test_a_lead_sent_to_the_crm_gets_an_erasure_notice_with_the_reference_only(
        self,
        engine,
        tracker,
        jeanne,
        receiver_factory,  # noqa: F811
    ):
        receiver = receiver_factory()
        sender = WebhookSender(engine, receiver.url, SECRET, sleep=lambda _: None)
        assert sender.deliver_for_lead(jeanne) == 1  # the CRM holds a copy

        report = erase_person(engine, tracker, CLI, Person.of(reference=jeanne))
        (notice,) = report.notices
        assert sender.deliver(notice)
        headers, body = receiver.calls[-1]
        assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        assert payload["event"] == ERASED_EVENT
        assert payload["lead"]["reference"] == jeanne
        assert set(payload["lead"]) == {"reference", "erased_at"}
        assert b"Martin" not in body
        assert b"+336" not in body

    def test_an_event_never_sent_is_cancelled_and_no_notice_is_needed(
        self, engine, tracker, jeanne
    ):
        report = erase_person(engine, tracker, CLI, Person.of(reference=jeanne))
        assert report.notices == []
        assert report.cancelled_webhooks == 1
        with engine.connect() as connection:
            statuses = set(connection.scalars(select(WebhookDeliveryRow.status)))
        assert statuses == {"cancelled"}


class TestCli:
    def test_erase_by_phone_prints_what_was_deleted(
        self, database_url, tracker_url, jeanne, engine, capsys, monkeypatch
    ):
        monkeypatch.delenv("ADVISOR_WEBHOOK_URL", raising=False)
        receiver = Receiver(0)
        try:
            WebhookSender(engine, receiver.url, SECRET, sleep=lambda _: None).deliver_for_lead(
                jeanne
            )
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()
        arguments = ["--database-url", database_url, "erase", "--phone", "06 12 34 56 78"]
        assert main([*arguments, "--tracker-url", tracker_url]) == 2  # no --yes: nothing done
        assert senders(tracker_url) >= JEANNES
        assert main([*arguments, "--tracker-url", tracker_url, "--yes"]) == 0
        out = capsys.readouterr().out
        assert jeanne in out
        assert "Conversations supprimées du suivi Rasa : 3" in out
        assert "Notes de satisfaction supprimées : 1" in out
        assert "prévenez le destinataire" in out
        assert "06 12" not in out
        assert "+336" not in out
        assert senders(tracker_url) == {PAUL}

    def test_export_by_phone(self, engine, jeanne):
        data = export_person(engine, phone="+33 6 12 34 56 78")
        assert [lead["reference"] for lead in data["leads"]] == [jeanne]
