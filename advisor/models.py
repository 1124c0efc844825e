"""Tables of the advisor workflow, declared on the application's shared `Base`.

Migrations: migrations/versions/0002_advisor.py creates these tables; 0004_security adds the
API token's expiry, the console sessions and the failed logins; 0005_personal_data lets one
conversation hold several leads, one after another (`conversation_seq`); 0006_webhook_outbox
gives the webhook outbox its schedule and lease.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from advisor.errors import AppendOnlyError
from common.db import Base, JsonType, utc_now


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserRow(Base):
    __tablename__ = "advisor_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    api_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    api_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class SessionRow(Base):
    """One console session: the cookie holds a random id, the table its SHA-256 digest.

    A session is valid until it expires, stays idle too long, is revoked (logout, deactivation,
    password reset) or its user is deactivated.
    """

    __tablename__ = "advisor_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("advisor_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailureRow(Base):
    """A failed console login, kept for the throttling window only (advisor/throttle.py).

    The client address is stored as a keyed digest, never in clear.
    """

    __tablename__ = "advisor_login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), index=True)
    address_digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LeadRow(Base):
    """A lead. One conversation may hold several, numbered by `conversation_seq` (1, 2, …): a new
    one once the previous is closed or old (advisor/store.py, `LeadStore.hand_off`); the unique
    pair makes two simultaneous handoffs of one conversation agree on one lead."""

    __tablename__ = "advisor_leads"
    __table_args__ = (
        sa.Index("ix_advisor_leads_status_created_at", "status", "created_at"),
        sa.UniqueConstraint(
            "conversation_id", "conversation_seq", name="uq_advisor_leads_conversation_seq"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(200))
    conversation_seq: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    channel: Mapped[str] = mapped_column(sa.String(20), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    category: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    level: Mapped[str] = mapped_column(sa.String(10), index=True)
    score: Mapped[int] = mapped_column(sa.SmallInteger)
    qualification_rule: Mapped[str] = mapped_column(sa.String(300))
    reason: Mapped[str] = mapped_column(sa.String(40))
    contact_name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(32))
    preferred_slot: Mapped[str | None] = mapped_column(sa.String(200))
    consent_text_version: Mapped[str] = mapped_column(sa.String(50))
    consent_given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_channel: Mapped[str] = mapped_column(sa.String(20))
    profile: Mapped[dict[str, Any]] = mapped_column(JsonType)
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    catalogue_version: Mapped[str | None] = mapped_column(sa.String(64))
    advisor_required: Mapped[bool] = mapped_column(sa.Boolean)
    advisor_reasons: Mapped[list[str]] = mapped_column(JsonType)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    claimed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("advisor_users.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoteRow(Base):
    __tablename__ = "advisor_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        sa.ForeignKey("advisor_leads.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(sa.String(80))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEventRow(Base):
    """Append-only: rows are inserted, never updated (erasure only blanks `details`)."""

    __tablename__ = "advisor_audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("advisor_leads.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(AuditEventRow, "before_update")
@event.listens_for(AuditEventRow, "before_delete")
def _audit_is_append_only(_mapper: Mapper[Any], _connection: Any, _row: Any) -> None:
    # GDPR erasure blanks `details` with a Core UPDATE: the one sanctioned exception.
    raise AppendOnlyError("L'historique d'un prospect ne peut être ni modifié ni supprimé.")


class AdviceRecordRow(Base):
    """One version of a lead's duty-of-advice record: a draft, then frozen for good."""

    __tablename__ = "advisor_advice_records"
    __table_args__ = (sa.UniqueConstraint("lead_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        sa.ForeignKey("advisor_leads.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(10))
    content: Mapped[dict[str, Any]] = mapped_column(JsonType)
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_by: Mapped[str | None] = mapped_column(sa.String(80))


class WebhookDeliveryRow(Base):
    """Outbox of the CRM webhook: written with the lead, delivered (and retried) afterwards by
    the outbox worker (advisor/webhook.py).

    `next_attempt_at` is when the row is due (NULL: at once), `leased_until`, `lease_owner` and
    `lease_token` the claim of the worker sending it; the token fences the outcome it records.
    """

    __tablename__ = "advisor_webhook_deliveries"
    __table_args__ = (sa.Index("ix_advisor_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        sa.ForeignKey("advisor_leads.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(10), index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(100))
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))
