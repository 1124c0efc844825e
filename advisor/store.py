"""The lead store: persistence of the leads, their notes and their webhook outbox.

A handoff stores a new lead, or writes the person's new contact details into their conversation's
lead while that one is open (not won, lost or closed, and younger than `open_lead_days`): a
returning person's new request after that gets a new lead and reference, never the old one.

Each public method of `LeadStore` is one transaction, in which the change's audit event is written
too (`advisor.audit`); the status rules are the workflow's (`advisor.workflow`). The claim is one
conditional UPDATE (`WHERE status = 'new' AND claimed_by_id IS NULL`) whose row count tells the
winner, so two advisors claiming at once can never both succeed, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from advisor import audit
from advisor.errors import InvalidInputError, LeadNotFoundError
from advisor.handoff import Contact, HandoffReceipt, HandoffRequest
from advisor.models import LeadRow, NoteRow, UserRow, WebhookDeliveryRow
from advisor.qualification import QUALIFIED_LEVELS, qualify
from advisor.schemas import (
    MAX_NOTE_CHARS,
    Dashboard,
    LeadPage,
    LeadPublic,
    LeadSummary,
    NotePublic,
)
from advisor.workflow import (
    ASSISTANT,
    STATUSES,
    TERMINAL,
    Actor,
    check_can_claim,
    check_can_write_notes,
    check_known_status,
    check_status_change,
    claim_refusal,
)
from common.contact import mask_email, mask_phone
from common.db import utc_now

logger = logging.getLogger(__name__)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out on the phone
MAX_TRANSCRIPT_TURNS = 500
MAX_TURN_CHARS = 4_000
MAX_PER_PAGE = 200
DEFAULT_OPEN_LEAD_DAYS = 30  # AdvisorSettings.open_lead_days
# Age filter: (at least this old, younger than this).
AGES: dict[str, tuple[timedelta | None, timedelta | None]] = {
    "24h": (None, timedelta(days=1)),
    "7j": (timedelta(days=1), timedelta(days=7)),
    "30j": (timedelta(days=7), timedelta(days=30)),
    "plus": (timedelta(days=30), None),
}
SORTS = {
    "recent": (LeadRow.created_at.desc(), LeadRow.id.desc()),
    "ancien": (LeadRow.created_at.asc(), LeadRow.id.asc()),
    "score": (LeadRow.score.desc(), LeadRow.created_at.desc(), LeadRow.id.desc()),
}


@dataclass(frozen=True)
class LeadFilters:
    status: str | None = None
    category: str | None = None
    channel: str | None = None
    level: str | None = None
    age: str | None = None
    mine: bool = False
    sort: str = "recent"
    page: int = 1
    per_page: int = 50

    def checked(self) -> LeadFilters:
        """Unknown filter values are refused with a French message, never silently ignored."""
        if self.status:
            check_known_status(self.status)
        if self.age and self.age not in AGES:
            raise InvalidInputError(f"Ancienneté inconnue : {self.age}.")
        if self.sort not in SORTS:
            raise InvalidInputError(f"Tri inconnu : {self.sort}.")
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInputError("Page demandée invalide.")
        return self


def new_reference() -> str:
    return "VG-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def _same_name(first: str, second: str) -> bool:
    return " ".join(first.casefold().split()) == " ".join(second.casefold().split())


def same_person(lead: LeadRow, contact: Contact) -> bool:
    """The new request comes from the lead's person: the same name, or an e-mail address or phone
    number in common (both are stored normalised, as `Contact` gives them)."""
    return (
        _same_name(lead.contact_name, contact.name)
        or (contact.email is not None and contact.email == lead.contact_email)
        or (contact.phone is not None and contact.phone == lead.contact_phone)
    )


class LeadStore:
    """All lead operations over one engine; each public method is one transaction."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] = utc_now,
        open_lead_days: int = DEFAULT_OPEN_LEAD_DAYS,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.open_lead_days = open_lead_days
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ handoff

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        """Store the request as a lead, or write its contact details into the conversation's open
        lead (see `advisor.handoff` for the rules); concurrent calls agree on one lead."""
        for _ in range(5):
            with self._sessions() as session:
                latest = self._latest_lead(session, request.conversation_id)
                if latest is not None and self._reusable(latest, request.contact):
                    outcome = self._update_contact(latest.id, request.contact)
                    if outcome is None:
                        continue  # closed or erased meanwhile: look again
                    return HandoffReceipt(
                        lead_reference=latest.reference, created=False, contact_updated=outcome
                    )
                sequence = 1 if latest is None else latest.conversation_seq + 1
            try:
                reference = self._insert_lead(request, sequence)
            except IntegrityError:
                continue  # same conversation stored meanwhile, or (rarely) a reference clash
            logger.info(
                "lead %s stored (channel %s, contact %s / %s, lead %d of its conversation)",
                reference,
                request.channel,
                mask_email(request.contact.email),
                mask_phone(request.contact.phone),
                sequence,
            )
            return HandoffReceipt(lead_reference=reference, created=True)
        raise RuntimeError("could not store the lead after 5 attempts")

    @staticmethod
    def _latest_lead(session: Session, conversation_id: str) -> LeadRow | None:
        return session.scalar(
            select(LeadRow)
            .where(LeadRow.conversation_id == conversation_id)
            .order_by(LeadRow.conversation_seq.desc())
            .limit(1)
        )

    def _is_open(self, lead: LeadRow) -> bool:
        """Still being worked on: not closed, not erased, and younger than `open_lead_days`."""
        return (
            lead.status not in TERMINAL
            and lead.erased_at is None
            and lead.created_at > self.clock() - timedelta(days=self.open_lead_days)
        )

    def _reusable(self, lead: LeadRow, contact: Contact) -> bool:
        return self._is_open(lead) and same_person(lead, contact)

    def _update_contact(self, lead_id: int, contact: Contact) -> bool | None:
        """Write the new contact details into the open lead: whether any changed; None when the
        lead is no longer open. A detail not given again (None) keeps the stored one."""
        wanted = {
            "contact_name": contact.name,
            "contact_email": contact.email,
            "contact_phone": contact.phone,
            "preferred_slot": contact.preferred_slot,
        }
        with self.transaction() as session:
            lead = session.get(LeadRow, lead_id, with_for_update=True)
            if lead is None or not self._is_open(lead):
                return None
            changed = [
                column
                for column, value in wanted.items()
                if value is not None and getattr(lead, column) != value
            ]
            if not changed:
                return False
            now = self.clock()
            for column in changed:
                setattr(lead, column, wanted[column])
            lead.updated_at = now
            # Which details changed, never their values: the audit trail holds no contact data.
            audit.record(
                session, lead.id, ASSISTANT, "contact_updated", {"fields": sorted(changed)}, now
            )
            announced = session.scalar(
                select(func.count())
                .select_from(WebhookDeliveryRow)
                .where(
                    WebhookDeliveryRow.lead_id == lead.id,
                    WebhookDeliveryRow.status != "cancelled",
                )
            )
            if announced:  # the CRM holds the old details: it is sent the new ones
                session.add(
                    WebhookDeliveryRow(
                        lead_id=lead.id,
                        event="lead.updated",
                        status="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
        logger.info(
            "lead %s: contact details updated (%s)", lead.reference, ", ".join(sorted(changed))
        )
        return True

    def _insert_lead(self, request: HandoffRequest, sequence: int) -> str:
        qualification = qualify(request)
        transcript = [turn.model_dump(mode="json") for turn in request.transcript]
        truncated = len(transcript) > MAX_TRANSCRIPT_TURNS
        transcript = transcript[-MAX_TRANSCRIPT_TURNS:]
        for turn in transcript:
            if len(turn["text"]) > MAX_TURN_CHARS:
                turn["text"] = turn["text"][:MAX_TURN_CHARS] + " […]"
                truncated = True
        recommendations = [product.model_dump(mode="json") for product in request.recommendations]
        now = self.clock()
        with self.transaction() as session:
            lead = LeadRow(
                reference=new_reference(),
                conversation_id=request.conversation_id,
                conversation_seq=sequence,
                channel=request.channel,
                status="new",
                category=recommendations[0]["category"] if recommendations else None,
                level=qualification.level,
                score=qualification.score,
                qualification_rule=qualification.rule,
                reason=request.reason[:40],
                contact_name=request.contact.name,
                contact_email=request.contact.email,
                contact_phone=request.contact.phone,
                preferred_slot=request.contact.preferred_slot,
                consent_text_version=request.consent.text_version,
                consent_given_at=request.consent.given_at,
                consent_channel=request.consent.channel,
                profile=request.profile,
                recommendations=recommendations,
                catalogue_version=request.catalogue_version,
                advisor_required=request.advisor_required,
                advisor_reasons=list(request.advisor_reasons),
                transcript=transcript,
                created_at=now,
                updated_at=now,
            )
            session.add(lead)
            session.flush()
            details: dict[str, Any] = {
                "channel": request.channel,
                "conversation_lead": sequence,
                "reason": request.reason,
                "score": qualification.score,
                "level": qualification.level,
            }
            if truncated:
                details["transcript_truncated"] = True
            audit.record(session, lead.id, ASSISTANT, "created", details, now)
            if qualification.level in QUALIFIED_LEVELS:
                session.add(
                    WebhookDeliveryRow(
                        lead_id=lead.id,
                        event="lead.qualified",
                        status="pending",
                        attempts=0,
                        created_at=now,
                    )
                )
            return lead.reference

    # ------------------------------------------------------------------ reading

    def list_leads(self, filters: LeadFilters, actor: Actor | None = None) -> LeadPage:
        filters = filters.checked()
        query = select(
            LeadRow.reference,
            LeadRow.contact_name,
            LeadRow.category,
            LeadRow.channel,
            LeadRow.level,
            LeadRow.score,
            LeadRow.status,
            LeadRow.created_at,
            UserRow.display_name.label("claimed_by"),
        ).outerjoin(UserRow, UserRow.id == LeadRow.claimed_by_id)
        conditions = []
        if filters.status:
            conditions.append(LeadRow.status == filters.status)
        if filters.category:
            conditions.append(LeadRow.category == filters.category)
        if filters.channel:
            conditions.append(LeadRow.channel == filters.channel)
        if filters.level:
            conditions.append(LeadRow.level == filters.level)
        if filters.mine and actor is not None and actor.id is not None:
            conditions.append(LeadRow.claimed_by_id == actor.id)
        if filters.age:
            now = self.clock()
            newer, older = AGES[filters.age]
            if newer is not None:
                conditions.append(LeadRow.created_at <= now - newer)
            if older is not None:
                conditions.append(LeadRow.created_at > now - older)
        with self._sessions() as session:
            total = (
                session.scalar(select(func.count()).select_from(LeadRow).where(*conditions)) or 0
            )
            rows = session.execute(
                query.where(*conditions)
                .order_by(*SORTS[filters.sort])
                .limit(filters.per_page)
                .offset((filters.page - 1) * filters.per_page)
            ).all()
        items = [LeadSummary.model_validate(row._mapping) for row in rows]
        return LeadPage(items=items, total=total, page=filters.page, per_page=filters.per_page)

    def _lead(self, session: Session, reference: str) -> LeadRow:
        lead = session.scalar(select(LeadRow).where(LeadRow.reference == reference.upper()))
        if lead is None:
            raise LeadNotFoundError(f"Aucun prospect ne porte la référence « {reference} ».")
        return lead

    def lead_id(self, reference: str) -> int:
        with self._sessions() as session:
            return self._lead(session, reference).id

    def get_lead(self, reference: str) -> LeadPublic:
        with self._sessions() as session:
            lead = self._lead(session, reference)
            claimant = session.get(UserRow, lead.claimed_by_id) if lead.claimed_by_id else None
            notes = session.scalars(
                select(NoteRow).where(NoteRow.lead_id == lead.id).order_by(NoteRow.id)
            ).all()
            return LeadPublic(
                reference=lead.reference,
                conversation_id=lead.conversation_id,
                channel=lead.channel,
                status=lead.status,
                category=lead.category,
                level=lead.level,
                score=lead.score,
                qualification_rule=lead.qualification_rule,
                reason=lead.reason,
                contact_name=lead.contact_name,
                contact_email=lead.contact_email,
                contact_phone=lead.contact_phone,
                preferred_slot=lead.preferred_slot,
                consent_text_version=lead.consent_text_version,
                consent_given_at=lead.consent_given_at,
                consent_channel=lead.consent_channel,
                profile=lead.profile,
                recommendations=lead.recommendations,
                catalogue_version=lead.catalogue_version,
                advisor_required=lead.advisor_required,
                advisor_reasons=lead.advisor_reasons,
                transcript=lead.transcript,
                claimed_by_id=lead.claimed_by_id,
                claimed_by=claimant.display_name if claimant else None,
                claimed_at=lead.claimed_at,
                created_at=lead.created_at,
                updated_at=lead.updated_at,
                erased=lead.erased_at is not None,
                notes=[
                    NotePublic(author=n.author, text=n.text, created_at=n.created_at) for n in notes
                ],
                audit=audit.events_of(session, lead.id),
            )

    # ------------------------------------------------------------------ changes

    def claim(self, reference: str, actor: Actor) -> None:
        """Atomic: exactly one of several simultaneous claims wins; the others get the winner."""
        check_can_claim(actor)
        now = self.clock()
        with self.transaction() as session:
            lead_id = self._lead(session, reference).id
            result = session.execute(
                update(LeadRow)
                .where(
                    LeadRow.id == lead_id,
                    LeadRow.status == "new",
                    LeadRow.claimed_by_id.is_(None),
                )
                .values(status="claimed", claimed_by_id=actor.id, claimed_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                audit.record(
                    session, lead_id, actor, "claimed", {"status": ["new", "claimed"]}, now
                )
                return
        lead = self.get_lead(reference)
        raise claim_refusal(lead.status, lead.claimed_by)

    def change_status(self, reference: str, actor: Actor, status: str) -> None:
        check_known_status(status)
        with self.transaction() as session:
            lead = self._lead(session, reference)
            check_status_change(lead.status, status, lead.claimed_by_id, actor)
            previous = lead.status
            lead.status = status
            lead.updated_at = self.clock()
            audit.record(
                session,
                lead.id,
                actor,
                "status_changed",
                {"status": [previous, status]},
                lead.updated_at,
            )

    def add_note(self, reference: str, actor: Actor, text: str) -> None:
        cleaned = text.strip()
        if not cleaned:
            raise InvalidInputError("La note est vide.")
        if len(cleaned) > MAX_NOTE_CHARS:
            raise InvalidInputError(
                f"La note dépasse {MAX_NOTE_CHARS} caractères ({len(cleaned)}) : raccourcissez-la."
            )
        with self.transaction() as session:
            lead = self._lead(session, reference)
            check_can_write_notes(lead.claimed_by_id, actor)
            now = self.clock()
            session.add(
                NoteRow(lead_id=lead.id, author=actor.username, text=cleaned, created_at=now)
            )
            lead.updated_at = now
            audit.record(session, lead.id, actor, "note_added", {"characters": len(cleaned)}, now)

    # ------------------------------------------------------------------ supervision

    def dashboard(self) -> Dashboard:
        with self._sessions() as session:
            counts = dict(
                session.execute(select(LeadRow.status, func.count()).group_by(LeadRow.status)).all()
            )
            per_status = {status: int(counts.get(status, 0)) for status in STATUSES}
            rows = session.execute(
                select(
                    UserRow.display_name,
                    func.count().filter(LeadRow.status.not_in(TERMINAL)),
                    func.count().filter(LeadRow.status == "won"),
                )
                .join(LeadRow, LeadRow.claimed_by_id == UserRow.id)
                .group_by(UserRow.display_name)
                .order_by(UserRow.display_name)
            ).all()
        decided = per_status["won"] + per_status["lost"] + per_status["closed"]
        return Dashboard(
            per_status=per_status,
            total=sum(per_status.values()),
            conversion_rate=per_status["won"] / decided if decided else None,
            workload=[(name, int(open_), int(won)) for name, open_, won in rows],
        )
