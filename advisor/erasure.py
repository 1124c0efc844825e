"""Erasure of one person everywhere their data lies, and the retention purge.

`erase_person` finds the person by lead reference, e-mail address or phone number (normalised as
`common.contact` does, so `06 12 34 56 78` finds `+33612345678`) and reaches every store:

- the Rasa tracker store (`TrackerEvents`, Rasa's SQL `events` table): every event of the
  conversations linked to the person is deleted: the conversations of their leads, those whose
  `contact_email` / `contact_phone` slot holds the address or number, and for a phone number the
  WhatsApp conversation keyed by it (`whatsapp:+33…`);
- the lead store, in one transaction: the ratings of those conversations are deleted
  (`feedback.store.delete_for_conversations`); the leads, of the person and of those
  conversations, are blanked to an anonymised skeleton (reference, dates, statuses, who did what
  and when, product codes, PDF hashes), with their notes, audit details and duty-of-advice contents;
- copies already sent to the CRM: a lead whose webhook was sent (or tried) gets a `lead.erased`
  outbox row, a notice with the reference only that tells the receiver to delete its copy; events
  never sent are cancelled. `python -m advisor erase` sends the notices at once when
  ADVISOR_WEBHOOK_URL is set; otherwise they stay pending and the report says the receiver must be
  told (`deliver-webhooks` sends them once the URL is configured).

The tracker is cleared first: if that fails nothing else has changed and the erasure can simply be
run again; every step is idempotent. The erasure is audited without personal data: an `erased`
event per lead and one `person_erased` event with the counts (`lead_id` empty).

`purge` deletes what is older than the retention (3 years by default): leads (with their notes,
audit trail, advice records and outbox rows) whose last change is older, ratings given before, and
tracker conversations whose last event is older. Run it daily (`python -m advisor purge`): a
second run the same day finds nothing more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Engine, delete, exists, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from advisor import audit
from advisor.errors import AdvisorError, InvalidInputError, LeadNotFoundError
from advisor.models import AdviceRecordRow, AuditEventRow, LeadRow, NoteRow, WebhookDeliveryRow
from advisor.workflow import Actor
from common.contact import normalise_email, normalise_phone
from common.db import engine_from_url, utc_now
from common.pseudonym import log_tag
from feedback.errors import FeedbackStorageError
from feedback.store import FeedbackStore, delete_for_conversations

logger = logging.getLogger(__name__)

ERASED = "[effacé]"
ERASED_EVENT = "lead.erased"
BATCH = 500  # ids per DELETE … IN (…)
CONTACT_SLOTS = ("contact_email", "contact_phone")
WHATSAPP_PREFIX = "whatsapp:"  # channels/whatsapp.py's namespace: the key holds the number

# Rasa's SQL tracker store table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent): only the
# columns read here. Not on the application's metadata: Rasa creates and owns it.
_TRACKER = sa.MetaData()
EVENTS = sa.Table(
    "events",
    _TRACKER,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


class TrackerUnavailableError(AdvisorError):
    """The Rasa tracker database cannot be read or written; nothing was erased."""


# ------------------------------------------------------------------ the Rasa tracker store


class TrackerEvents:
    """Rasa's `events` table in the tracker database (ADVISOR_TRACKER_STORE_URL).

    A database that does not exist yet (no SQLite file, or no `events` table: Rasa never ran)
    holds no conversation: reads find nothing and deletions delete nothing.
    """

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> TrackerEvents:
        parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if not database or database == ":memory:" or not Path(database).exists():
                return cls(None)  # never created: opening it would create an empty file
        return cls(engine_from_url(url))

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def _events(self) -> Engine | None:
        """The engine when the `events` table exists, None otherwise."""
        if self.engine is None:
            return None
        try:
            return self.engine if sa.inspect(self.engine).has_table("events") else None
        except SQLAlchemyError as error:
            raise _unavailable(error) from error

    def conversations_of(self, emails: Iterable[str], phones: Iterable[str]) -> set[str]:
        """Conversations whose contact slots hold one of these addresses or numbers (compared
        normalised), and for each number its WhatsApp conversation."""
        wanted_emails = {address.casefold() for address in emails}
        wanted_phones = set(phones)
        engine = self._events() if wanted_emails or wanted_phones else None
        if engine is None:
            return set()
        found: set[str] = set()
        whatsapp = [f"{WHATSAPP_PREFIX}{phone}" for phone in wanted_phones]
        query = select(EVENTS.c.sender_id, EVENTS.c.action_name, EVENTS.c.data).where(
            EVENTS.c.type_name == "slot", EVENTS.c.action_name.in_(CONTACT_SLOTS)
        )
        try:
            with engine.connect() as connection:
                if whatsapp:
                    found.update(
                        connection.scalars(
                            select(EVENTS.c.sender_id)
                            .where(EVENTS.c.sender_id.in_(whatsapp))
                            .distinct()
                        )
                    )
                for sender_id, slot, data in connection.execute(
                    query.execution_options(yield_per=1000)
                ):
                    value = _slot_value(data)
                    if value is None:
                        continue
                    if slot == "contact_email":
                        matches = value.casefold() in wanted_emails
                    else:
                        matches = _phone_or_none(value) in wanted_phones
                    if matches:
                        found.add(sender_id)
        except SQLAlchemyError as error:
            raise _unavailable(error) from error
        return found

    def delete(self, conversations: Iterable[str]) -> int:
        """Delete every event of these conversations; how many rows went."""
        keys = sorted(set(conversations))
        engine = self._events() if keys else None
        if engine is None:
            return 0
        deleted = 0
        try:
            with engine.begin() as connection:
                for start in range(0, len(keys), BATCH):
                    result = connection.execute(
                        delete(EVENTS).where(EVENTS.c.sender_id.in_(keys[start : start + BATCH]))
                    )
                    deleted += int(result.rowcount or 0)
        except SQLAlchemyError as error:
            raise _unavailable(error) from error
        return deleted

    def idle_since(self, cutoff: datetime) -> list[str]:
        """The conversations whose last event is older than `cutoff`."""
        engine = self._events()
        if engine is None:
            return []
        try:
            with engine.connect() as connection:
                return list(
                    connection.scalars(
                        select(EVENTS.c.sender_id)
                        .group_by(EVENTS.c.sender_id)
                        .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
                    )
                )
        except SQLAlchemyError as error:
            raise _unavailable(error) from error


def _unavailable(error: SQLAlchemyError) -> TrackerUnavailableError:
    return TrackerUnavailableError(
        "La base des conversations (suivi Rasa) est injoignable : rien n'a été effacé. "
        f"Vérifiez ADVISOR_TRACKER_STORE_URL puis relancez ({type(error).__name__})."
    )


def _slot_value(data: str | None) -> str | None:
    try:
        value = json.loads(data or "{}").get("value")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _phone_or_none(value: str) -> str | None:
    try:
        return normalise_phone(value)
    except ValueError:
        return None


# ------------------------------------------------------------------ finding the person


@dataclass(frozen=True)
class Person:
    """Who is erased: exactly one of a lead reference, an e-mail address or a phone number."""

    kind: Literal["reference", "email", "phone"]
    value: str

    @classmethod
    def of(
        cls, reference: str | None = None, email: str | None = None, phone: str | None = None
    ) -> Person:
        given = [(k, v) for k, v in (("reference", reference), ("email", email), ("phone", phone))]
        chosen = [(k, v.strip()) for k, v in given if v is not None and v.strip()]
        if len(chosen) != 1:
            raise InvalidInputError(
                "Donnez une seule des trois : une référence de prospect, une adresse e-mail ou "
                "un numéro de téléphone."
            )
        kind, value = chosen[0]
        try:
            if kind == "email":
                return cls("email", normalise_email(value))
            if kind == "phone":
                return cls("phone", normalise_phone(value))
        except ValueError as error:
            raise InvalidInputError(f"{str(error).capitalize()}.") from error
        return cls("reference", value.upper())


def find_leads(session: Session, person: Person) -> list[int]:
    """Ids of the person's leads not erased yet (by reference: that lead, erased or not)."""
    if person.kind == "reference":
        found = session.scalar(select(LeadRow.id).where(LeadRow.reference == person.value))
        return [] if found is None else [found]
    if person.kind == "email":
        condition = func.lower(LeadRow.contact_email) == person.value.casefold()
    else:
        condition = LeadRow.contact_phone == person.value
    return list(session.scalars(select(LeadRow.id).where(condition).order_by(LeadRow.id)))


# ------------------------------------------------------------------ erasure


@dataclass
class ErasureReport:
    """What an erasure deleted or blanked, without any personal data."""

    references: list[str] = field(default_factory=list)
    conversations: int = 0
    tracker_events: int = 0
    ratings: int = 0
    # Ids of the `lead.erased` outbox rows written: copies the CRM receiver must delete.
    notices: list[int] = field(default_factory=list)
    cancelled_webhooks: int = 0

    def audit_details(self, kind: str) -> dict[str, Any]:
        return {
            "found_by": kind,
            "leads": len(self.references),
            "conversations": self.conversations,
            "tracker_events": self.tracker_events,
            "ratings": self.ratings,
            "crm_notices": len(self.notices),
            "webhooks_cancelled": self.cancelled_webhooks,
        }


def erase_person(
    engine: Engine,
    tracker: TrackerEvents,
    actor: Actor,
    person: Person,
    now: datetime | None = None,
) -> ErasureReport:
    """Erase the person from every store (see the module doc); LeadNotFoundError when no store
    holds anything of theirs."""
    now = now or utc_now()
    report = ErasureReport()
    with Session(engine) as session:
        lead_ids = find_leads(session, person)
        if person.kind == "reference" and not lead_ids:
            raise LeadNotFoundError(f"Aucun prospect ne porte la référence « {person.value} ».")
        rows = session.execute(
            select(LeadRow.contact_email, LeadRow.contact_phone).where(LeadRow.id.in_(lead_ids))
        ).all()
        emails = {e for e, _ in rows if e} | ({person.value} if person.kind == "email" else set())
        phones = {p for _, p in rows if p} | ({person.value} if person.kind == "phone" else set())
        conversations = _conversations_of(session, lead_ids)
        conversations |= tracker.conversations_of(emails, phones)
        # The leads of those conversations are the person's too (a later request of theirs).
        lead_ids = sorted(
            set(lead_ids)
            | set(
                session.scalars(
                    select(LeadRow.id).where(LeadRow.conversation_id.in_(sorted(conversations)))
                )
            )
        )
        lead_ids = list(
            session.scalars(
                select(LeadRow.id).where(LeadRow.id.in_(lead_ids), LeadRow.erased_at.is_(None))
            )
        )
    if not lead_ids and not conversations:
        raise LeadNotFoundError(_NOTHING[person.kind])
    # The tracker first: should it fail, nothing else has changed and the erasure can be rerun.
    report.conversations = len(conversations)
    report.tracker_events = tracker.delete(conversations)
    with Session(engine) as session, session.begin():
        report.ratings = delete_for_conversations(session, conversations)
        report.references = _blank_leads(session, lead_ids, actor, now, report)
        audit.record(session, None, actor, "person_erased", report.audit_details(person.kind), now)
    logger.info(
        "erasure by %s: %d lead(s), %d conversation(s) [%s], %d tracker event(s), %d rating(s), "
        "%d CRM notice(s)",
        person.kind,
        len(report.references),
        report.conversations,
        " ".join(sorted(log_tag(c) for c in conversations)),
        report.tracker_events,
        report.ratings,
        len(report.notices),
    )
    return report


_NOTHING = {
    "reference": "Les données de ce prospect ont déjà été effacées.",
    "email": "Aucune donnée n'est enregistrée pour cette adresse e-mail.",
    "phone": "Aucune donnée n'est enregistrée pour ce numéro de téléphone.",
}


def _conversations_of(session: Session, lead_ids: Sequence[int]) -> set[str]:
    keys = session.scalars(
        select(LeadRow.conversation_id).where(LeadRow.id.in_(lead_ids)).distinct()
    )
    return {key for key in keys if not key.startswith("erased:")}


def _blank_leads(
    session: Session, lead_ids: Sequence[int], actor: Actor, now: datetime, report: ErasureReport
) -> list[str]:
    leads = session.scalars(select(LeadRow).where(LeadRow.id.in_(lead_ids))).all()
    for lead in leads:
        lead.contact_name = ERASED
        lead.contact_email = None
        lead.contact_phone = None
        lead.preferred_slot = None
        lead.conversation_id = f"erased:{lead.reference}"
        lead.conversation_seq = 1
        lead.profile = {}
        lead.transcript = []
        lead.advisor_reasons = []
        lead.recommendations = [
            {"code": r.get("code"), "name": r.get("name"), "category": r.get("category")}
            for r in lead.recommendations
        ]
        lead.erased_at = now
        lead.updated_at = now
        _tell_the_receiver(session, lead.id, now, report)
    session.execute(update(NoteRow).where(NoteRow.lead_id.in_(lead_ids)).values(text=ERASED))
    session.execute(
        update(AuditEventRow).where(AuditEventRow.lead_id.in_(lead_ids)).values(details={})
    )
    # Frozen advice records: legal erasure is the one change allowed to them (Core UPDATE).
    session.execute(
        update(AdviceRecordRow)
        .where(AdviceRecordRow.lead_id.in_(lead_ids))
        .values(content={}, pdf=None)
        .execution_options(synchronize_session=False)
    )
    for lead in leads:
        audit.record(session, lead.id, actor, "erased", {}, now)
    return [lead.reference for lead in leads]


def _tell_the_receiver(
    session: Session, lead_id: int, now: datetime, report: ErasureReport
) -> None:
    """Cancel the lead's webhook events never tried; when one was sent (or tried), queue a
    `lead.erased` notice so that the receiver deletes its copy."""
    # Locked: a worker about to post one of them (advisor/webhook.py counts the attempt first)
    # either has counted it, and the notice is queued, or finds the row cancelled.
    deliveries = session.scalars(
        select(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.lead_id == lead_id, WebhookDeliveryRow.event != ERASED_EVENT)
        .with_for_update()
    ).all()
    reached = False
    for delivery in deliveries:
        if delivery.status == "delivered" or delivery.attempts > 0:
            reached = True
        if delivery.status in ("pending", "failed"):
            delivery.status = "cancelled"
            report.cancelled_webhooks += 1
    already = session.scalar(
        select(
            exists().where(
                WebhookDeliveryRow.lead_id == lead_id, WebhookDeliveryRow.event == ERASED_EVENT
            )
        )
    )
    if reached and not already:
        notice = WebhookDeliveryRow(
            lead_id=lead_id, event=ERASED_EVENT, status="pending", attempts=0, created_at=now
        )
        session.add(notice)
        session.flush()
        report.notices.append(notice.id)


# ------------------------------------------------------------------ retention


@dataclass
class PurgeReport:
    cutoff: datetime
    leads: int = 0
    ratings: int = 0
    conversations: int = 0
    tracker_events: int = 0
    # Leads past the retention kept because a `lead.erased` notice to the CRM is still unsent.
    kept_for_notices: int = 0


def purge(
    engine: Engine,
    tracker: TrackerEvents,
    actor: Actor,
    older_than_days: int,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Delete the leads, ratings and tracker conversations older than the retention (see the
    module doc); with `dry_run`, only count them."""
    if older_than_days < 1:
        raise InvalidInputError("La durée de conservation doit être d'au moins un jour.")
    now = now or utc_now()
    report = PurgeReport(cutoff=now - timedelta(days=older_than_days))
    owed = exists().where(
        WebhookDeliveryRow.lead_id == LeadRow.id,
        WebhookDeliveryRow.event == ERASED_EVENT,
        WebhookDeliveryRow.status.in_(("pending", "failed")),
    )
    old = LeadRow.updated_at < report.cutoff
    with Session(engine) as session:
        lead_ids = list(session.scalars(select(LeadRow.id).where(old, ~owed).order_by(LeadRow.id)))
        report.kept_for_notices = int(
            session.scalar(select(func.count()).select_from(LeadRow).where(old, owed)) or 0
        )
    conversations = tracker.idle_since(report.cutoff)
    report.leads = len(lead_ids)
    report.conversations = len(conversations)
    if dry_run:
        report.ratings = _purge_ratings(engine, report.cutoff, dry_run=True)
        return report
    report.tracker_events = tracker.delete(conversations)
    for start in range(0, len(lead_ids), BATCH):
        batch = lead_ids[start : start + BATCH]
        with Session(engine) as session, session.begin():
            for table in (WebhookDeliveryRow, AdviceRecordRow, NoteRow, AuditEventRow):
                session.execute(
                    delete(table)
                    .where(table.lead_id.in_(batch))
                    .execution_options(synchronize_session=False)
                )
            session.execute(
                delete(LeadRow)
                .where(LeadRow.id.in_(batch))
                .execution_options(synchronize_session=False)
            )
    report.ratings = _purge_ratings(engine, report.cutoff, dry_run=False)
    if report.leads or report.ratings or report.conversations:
        with Session(engine) as session, session.begin():
            audit.record(
                session,
                None,
                actor,
                "retention_purge",
                {
                    "older_than_days": older_than_days,
                    "leads": report.leads,
                    "ratings": report.ratings,
                    "conversations": report.conversations,
                    "tracker_events": report.tracker_events,
                },
                now,
            )
    logger.info(
        "retention purge (%d days): %d lead(s), %d rating(s), %d conversation(s) (%d events)",
        older_than_days,
        report.leads,
        report.ratings,
        report.conversations,
        report.tracker_events,
    )
    return report


def _purge_ratings(engine: Engine, cutoff: datetime, dry_run: bool) -> int:
    try:
        return FeedbackStore(engine).purge(cutoff, dry_run=dry_run)
    except FeedbackStorageError as error:
        raise AdvisorError(
            "La table des notes de satisfaction est injoignable ou non migrée "
            "(alembic upgrade head)."
        ) from error


__all__ = [
    "ERASED",
    "ERASED_EVENT",
    "ErasureReport",
    "Person",
    "PurgeReport",
    "TrackerEvents",
    "TrackerUnavailableError",
    "erase_person",
    "find_leads",
    "purge",
]
