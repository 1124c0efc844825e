"""The handoff service of the action server: idempotent, durable, honest when the store is down."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from advisor import audit
from advisor.database import open_engine
from advisor.handoff import Contact, HandoffUnavailableError, TranscriptTurn
from advisor.models import AuditEventRow, LeadRow, WebhookDeliveryRow
from advisor.service import SqlHandoffService, open_handoff_service
from advisor.store import MAX_TRANSCRIPT_TURNS, MAX_TURN_CHARS, LeadStore
from tests.advisor.factories import handoff_request


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestHandOff:
    def test_a_new_conversation_creates_a_lead_with_a_readable_reference(self, database_url):
        service = open_handoff_service(database_url)
        receipt = service.hand_off(handoff_request())
        assert receipt.created is True
        assert receipt.lead_reference.startswith("VG-")
        assert len(receipt.lead_reference) == 9
        assert not set(receipt.lead_reference[3:]) & set("01OIL")
        lead = LeadStore(service.engine).get_lead(receipt.lead_reference)
        assert lead.status == "new"
        assert lead.contact_phone == "+33612345678"
        assert lead.category == "auto"
        service.close()

    def test_a_retry_of_the_same_conversation_returns_the_same_lead(self, database_url):
        service = open_handoff_service(database_url)
        request = handoff_request()
        first = service.hand_off(request)
        second = service.hand_off(request)
        assert (second.lead_reference, second.created) == (first.lead_reference, False)
        with service.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(LeadRow)) == 1
        service.close()

    def test_simultaneous_retries_store_one_lead(self, database_url):
        service = open_handoff_service(database_url)
        request = handoff_request()
        receipts = []
        barrier = threading.Barrier(8)

        def hand_off() -> None:
            barrier.wait()
            receipts.append(service.hand_off(request))

        threads = [threading.Thread(target=hand_off) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({receipt.lead_reference for receipt in receipts}) == 1
        assert sum(receipt.created for receipt in receipts) == 1
        with service.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(LeadRow)) == 1
        service.close()

    def test_the_lead_is_committed_when_hand_off_returns(self, database_url):
        service = open_handoff_service(database_url)
        receipt = service.hand_off(handoff_request())
        service.close()
        fresh = open_engine(database_url)  # another connection, as the web app would use
        try:
            assert LeadStore(fresh).get_lead(receipt.lead_reference).contact_name == "Jeanne Martin"
        finally:
            fresh.dispose()

    def test_creation_is_audited_and_a_qualified_lead_queues_a_webhook(self, database_url):
        service = open_handoff_service(database_url)
        receipt = service.hand_off(handoff_request())
        lead = LeadStore(service.engine).get_lead(receipt.lead_reference)
        assert [(event.actor, event.action) for event in lead.audit] == [("assistant", "created")]
        assert lead.level in {"hot", "warm"}
        with service.engine.connect() as connection:
            assert connection.scalar(select(WebhookDeliveryRow.status)) == "pending"
        service.close()

    @pytest.mark.unit
    def test_a_fresh_sqlite_file_gets_its_schema(self, tmp_path: Path):
        service = open_handoff_service(f"sqlite:///{tmp_path / 'sub' / 'advisor.db'}")
        assert service.hand_off(handoff_request()).created
        service.close()

    @pytest.mark.unit
    def test_an_oversized_transcript_is_kept_bounded_and_the_lead_is_stored(self, sqlite_url):
        turns = [TranscriptTurn(speaker="user", text=f"message {i}") for i in range(700)]
        turns.append(TranscriptTurn(speaker="user", text="x" * 50_000))
        service = open_handoff_service(sqlite_url)
        receipt = service.hand_off(handoff_request(transcript=turns))
        lead = LeadStore(service.engine).get_lead(receipt.lead_reference)
        assert len(lead.transcript) == MAX_TRANSCRIPT_TURNS
        assert len(lead.transcript[-1]["text"]) <= MAX_TURN_CHARS + 4
        assert lead.audit[0].details["transcript_truncated"] is True
        service.close()


@pytest.mark.unit
class TestUnavailableStore:
    def test_postgres_down_raises_after_bounded_retries_with_backoff(self):
        delays: list[float] = []
        engine = open_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
        service = SqlHandoffService(engine, attempts=3, backoff_s=0.1, sleep=delays.append)
        with pytest.raises(HandoffUnavailableError):
            service.hand_off(handoff_request())
        assert delays == [0.1, 0.2]
        service.close()

    def test_an_unwritable_sqlite_file_raises_and_a_later_retry_succeeds(self, tmp_path: Path):
        blocked = tmp_path / "blocked"
        blocked.mkdir()
        (blocked / "advisor.db").mkdir()  # a folder where the database file should be
        url = f"sqlite:///{blocked / 'advisor.db'}"
        service = SqlHandoffService(open_engine(url), attempts=2, sleep=lambda _: None)
        request = handoff_request()
        with pytest.raises(HandoffUnavailableError):
            service.hand_off(request)
        service.close()

        (blocked / "advisor.db").rmdir()  # the disk is back: the bot's retry stores the lead
        service = SqlHandoffService(open_engine(url), attempts=2, sleep=lambda _: None)
        assert service.hand_off(request).created is True
        service.close()

    def test_nothing_is_half_written_when_the_transaction_fails(self, sqlite_url, monkeypatch):
        service = open_handoff_service(sqlite_url)

        def failing_audit(*args: object, **kwargs: object) -> None:
            raise RuntimeError("audit write failed")

        monkeypatch.setattr(audit, "record", failing_audit)
        with pytest.raises(RuntimeError):
            service.hand_off(handoff_request())
        with service.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(LeadRow)) == 0
            assert connection.scalar(select(func.count()).select_from(AuditEventRow)) == 0
        service.close()


@pytest.mark.unit
class TestContactValidation:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("06 12 34 56 78", "+33612345678"),
            ("06.12.34.56.78", "+33612345678"),
            ("+33 6 12 34 56 78", "+33612345678"),
            ("+33 (0)1 23 45 67 89", "+33123456789"),
            ("0033712345678", "+33712345678"),
        ],
    )
    def test_french_phone_formats_are_normalised(self, typed: str, stored: str):
        assert Contact(name="A", phone=typed).phone == stored

    @pytest.mark.parametrize(
        "typed", ["12345", "06 12 34 56", "+44 20 7946 0958", "00 12 34 56 78", "0612345678<"]
    )
    def test_invalid_phones_are_refused(self, typed: str):
        with pytest.raises(ValidationError, match="téléphone invalide"):
            Contact(name="A", phone=typed)

    @pytest.mark.parametrize(
        "typed",
        [
            "jeanne",
            "jeanne@",
            "@exemple.fr",
            "jeanne@exemple",
            "a b@exemple.fr",
            "jeanne..m@exemple.fr",
            "<script>@x.fr",
        ],
    )
    def test_invalid_emails_are_refused(self, typed: str):
        with pytest.raises(ValidationError, match="e-mail invalide"):
            Contact(name="A", email=typed)

    def test_the_email_domain_is_lowered(self):
        assert Contact(name="A", email="Jeanne@Exemple.FR").email == "Jeanne@exemple.fr"

    def test_a_contact_needs_an_email_or_a_phone(self):
        with pytest.raises(ValidationError, match="e-mail ou un numéro"):
            Contact(name="A")


@pytest.mark.unit
class TestPrivacy:
    def test_emails_and_phones_never_appear_in_the_logs(self, sqlite_url, caplog):
        caplog.set_level("DEBUG")
        service = open_handoff_service(sqlite_url)
        service.hand_off(handoff_request())
        service.close()
        assert "jeanne.martin@exemple.fr" not in caplog.text
        assert "612345678" not in caplog.text
        assert "j***@e***.fr" in caplog.text
