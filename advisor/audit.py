"""The leads' audit trail: one event per change, written in the change's own transaction.

Events are append-only (`advisor.models.AuditEventRow` refuses updates and deletes); GDPR erasure
blanks their details and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from advisor.models import AuditEventRow
from advisor.schemas import AuditEvent
from advisor.workflow import Actor
from common.db import utc_now


def record(
    session: Session,
    lead_id: int | None,
    actor: Actor,
    action: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add the event to the session: it commits or rolls back with the change it describes."""
    session.add(
        AuditEventRow(
            lead_id=lead_id,
            actor=actor.username,
            action=action,
            details=details or {},
            at=at or utc_now(),
        )
    )


def events_of(session: Session, lead_id: int) -> list[AuditEvent]:
    """The lead's events, oldest first."""
    rows = session.scalars(
        select(AuditEventRow).where(AuditEventRow.lead_id == lead_id).order_by(AuditEventRow.id)
    ).all()
    return [AuditEvent(actor=e.actor, action=e.action, details=e.details, at=e.at) for e in rows]
