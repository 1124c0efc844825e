"""The lead store: queue filters, atomic claim, status workflow, notes, audit trail, dashboard."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from advisor.auth import create_user
from advisor.errors import (
    ClaimConflictError,
    InvalidInputError,
    PermissionDeniedError,
    TransitionError,
)
from advisor.handoff import Contact, TranscriptTurn
from advisor.models import LeadRow
from advisor.schemas import MAX_NOTE_CHARS
from advisor.store import LeadFilters, LeadStore
from common.db import utc_now
from tests.advisor.factories import handoff_request


def new_lead(store: LeadStore, **overrides: object) -> str:
    return store.hand_off(handoff_request(**overrides)).lead_reference


class TestClaim:
    def test_claim_is_exclusive_under_concurrency(self, engine, store):
        reference = new_lead(store)
        advisors = [
            create_user(engine, f"conseiller{i}", f"Conseiller {i}", "advisor", "mot-de-passe-123")
            for i in range(12)
        ]
        barrier = threading.Barrier(len(advisors))
        winners: list[str] = []
        losers: list[str] = []

        def claim(actor) -> None:
            barrier.wait()
            try:
                store.claim(reference, actor)
                winners.append(actor.username)
            except ClaimConflictError as error:
                losers.append(str(error))

        threads = [threading.Thread(target=claim, args=(actor,)) for actor in advisors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(winners) == 1
        assert len(losers) == len(advisors) - 1
        lead = store.get_lead(reference)
        assert lead.status == "claimed"
        assert lead.claimed_by == f"Conseiller {winners[0][len('conseiller') :]}"
        assert all(lead.claimed_by in message for message in losers)
        assert [event.action for event in lead.audit].count("claimed") == 1

    def test_a_claimed_lead_cannot_be_claimed_again(self, store, advisor, other_advisor):
        reference = new_lead(store)
        store.claim(reference, advisor)
        with pytest.raises(ClaimConflictError, match="Alice Conseil"):
            store.claim(reference, other_advisor)


class TestStatusWorkflow:
    def test_the_claimant_moves_the_lead_along_the_workflow(self, store, advisor):
        reference = new_lead(store)
        store.claim(reference, advisor)
        for status in ("contacted", "offer_sent", "won"):
            store.change_status(reference, advisor, status)
        lead = store.get_lead(reference)
        assert lead.status == "won"
        assert lead.next_statuses == []
        changes = [e.details["status"] for e in lead.audit if e.action == "status_changed"]
        assert changes == [
            ["claimed", "contacted"],
            ["contacted", "offer_sent"],
            ["offer_sent", "won"],
        ]

    def test_a_skipped_step_is_refused_and_nothing_changes(self, store, advisor):
        reference = new_lead(store)
        store.claim(reference, advisor)
        with pytest.raises(TransitionError, match="Pris en charge"):
            store.change_status(reference, advisor, "won")
        assert store.get_lead(reference).status == "claimed"

    def test_another_advisor_cannot_change_the_lead(self, store, advisor, other_advisor):
        reference = new_lead(store)
        store.claim(reference, advisor)
        with pytest.raises(PermissionDeniedError):
            store.change_status(reference, other_advisor, "contacted")

    def test_a_supervisor_may_close_a_new_lead_but_an_advisor_may_not(
        self, store, advisor, supervisor
    ):
        reference = new_lead(store)
        with pytest.raises(PermissionDeniedError):
            store.change_status(reference, advisor, "closed")
        store.change_status(reference, supervisor, "closed")
        assert store.get_lead(reference).status == "closed"

    def test_an_unknown_status_is_refused(self, store, advisor):
        reference = new_lead(store)
        with pytest.raises(InvalidInputError, match="Statut inconnu"):
            store.change_status(reference, advisor, "'; DROP TABLE advisor_leads; --")


class TestNotes:
    def test_notes_are_kept_verbatim_including_sql_and_markup(self, store, advisor, engine):
        reference = new_lead(store)
        store.claim(reference, advisor)
        hostile = "Robert'); DROP TABLE advisor_leads;-- <script>alert(1)</script>"
        store.add_note(reference, advisor, hostile)
        assert store.get_lead(reference).notes[0].text == hostile
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(LeadRow)) == 1

    def test_an_oversized_note_is_refused_and_the_others_are_kept(self, store, advisor):
        reference = new_lead(store)
        store.claim(reference, advisor)
        store.add_note(reference, advisor, "Rappeler mardi.")
        with pytest.raises(InvalidInputError, match=str(MAX_NOTE_CHARS)):
            store.add_note(reference, advisor, "x" * (MAX_NOTE_CHARS + 1))
        assert [note.text for note in store.get_lead(reference).notes] == ["Rappeler mardi."]

    def test_only_the_claimant_or_a_supervisor_writes_notes(
        self, store, advisor, other_advisor, supervisor
    ):
        reference = new_lead(store)
        with pytest.raises(PermissionDeniedError, match="ajouter une note"):
            store.add_note(reference, advisor, "Avant la prise en charge.")
        store.claim(reference, advisor)
        with pytest.raises(PermissionDeniedError, match="ajouter une note"):
            store.add_note(reference, other_advisor, "Je ne suis pas le conseiller.")
        store.add_note(reference, advisor, "Rappeler mardi.")
        store.add_note(reference, supervisor, "Vu avec Alice.")
        assert [n.author for n in store.get_lead(reference).notes] == ["alice", "sophie"]

    def test_an_empty_note_is_refused(self, store, advisor):
        with pytest.raises(InvalidInputError, match="vide"):
            store.add_note(new_lead(store), advisor, "   ")


class TestQueue:
    def test_filters_combine_and_count(self, store, advisor):
        auto = new_lead(store)
        new_lead(store, channel="whatsapp")
        new_lead(store, recommendations=[])
        store.claim(auto, advisor)
        page = store.list_leads(LeadFilters(status="claimed"))
        assert [item.reference for item in page.items] == [auto]
        assert page.items[0].claimed_by == "Alice Conseil"
        assert store.list_leads(LeadFilters(channel="whatsapp")).total == 1
        assert store.list_leads(LeadFilters(category="auto")).total == 2
        assert store.list_leads(LeadFilters(mine=True), advisor).total == 1

    def test_the_age_filter_uses_the_creation_time(self, engine):
        now = utc_now()
        old_store = LeadStore(engine, clock=lambda: now - timedelta(days=10))
        old = new_lead(old_store)
        store = LeadStore(engine, clock=lambda: now)
        recent = new_lead(store)
        assert [i.reference for i in store.list_leads(LeadFilters(age="24h")).items] == [recent]
        assert [i.reference for i in store.list_leads(LeadFilters(age="30j")).items] == [old]

    def test_pagination_and_sorting(self, store):
        references = [new_lead(store) for _ in range(5)]
        first = store.list_leads(LeadFilters(per_page=2, sort="ancien"))
        assert first.total == 5
        assert first.pages == 3
        assert [item.reference for item in first.items] == references[:2]
        third = store.list_leads(LeadFilters(per_page=2, page=3, sort="ancien"))
        assert [item.reference for item in third.items] == references[4:]

    def test_unknown_filter_values_are_refused(self, store):
        with pytest.raises(InvalidInputError, match="Tri inconnu"):
            store.list_leads(LeadFilters(sort="1; DROP TABLE"))

    def test_a_filter_value_with_sql_finds_nothing_and_breaks_nothing(self, store):
        new_lead(store)
        assert store.list_leads(LeadFilters(channel="x' OR '1'='1")).total == 0
        assert store.list_leads(LeadFilters()).total == 1


class TestStoredContent:
    def test_hostile_transcripts_are_stored_verbatim(self, store):
        hostile = "<img src=x onerror=alert(1)> '; DELETE FROM advisor_leads; --"
        reference = new_lead(
            store,
            transcript=[TranscriptTurn(speaker="user", text=hostile)],
            contact=Contact(name="<b>Eve</b>", phone="0712345678"),
        )
        lead = store.get_lead(reference)
        assert lead.transcript[0]["text"] == hostile
        assert lead.contact_name == "<b>Eve</b>"


class TestDashboard:
    def test_counts_conversion_and_workload(self, store, advisor, other_advisor):
        won, lost, open_ = new_lead(store), new_lead(store), new_lead(store)
        new_lead(store)
        for reference, actor in ((won, advisor), (lost, advisor), (open_, other_advisor)):
            store.claim(reference, actor)
        for status in ("contacted", "offer_sent", "won"):
            store.change_status(won, advisor, status)
        store.change_status(lost, advisor, "lost")
        dashboard = store.dashboard()
        assert dashboard.per_status["new"] == 1
        assert dashboard.per_status["won"] == 1
        assert dashboard.total == 4
        assert dashboard.conversion_rate == pytest.approx(0.5)
        assert dashboard.workload == [("Alice Conseil", 0, 1), ("Bruno Conseil", 1, 0)]


class TestAuditTrail:
    def test_audit_events_cannot_be_changed_or_deleted(self, store, advisor, engine):
        from sqlalchemy.orm import Session

        from advisor.errors import AppendOnlyError
        from advisor.models import AuditEventRow

        reference = new_lead(store)
        store.claim(reference, advisor)
        with Session(engine) as session:
            event = session.scalars(select(AuditEventRow)).first()
            event.actor = "quelqu'un d'autre"
            with pytest.raises(AppendOnlyError):
                session.commit()
        with Session(engine) as session:
            session.delete(session.scalars(select(AuditEventRow)).first())
            with pytest.raises(AppendOnlyError):
                session.commit()
        assert [e.actor for e in store.get_lead(reference).audit] == ["assistant", "alice"]
