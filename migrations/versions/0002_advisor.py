"""advisor tables: users, leads, notes, audit trail, duty-of-advice records, webhook outbox

Revision ID: 0002_advisor
Revises: 0001
Create Date: 2026-11-26 16:10:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_advisor"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "advisor_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("api_token_hash", sa.String(length=64), nullable=True),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_users")),
        sa.UniqueConstraint("username", name=op.f("uq_advisor_users_username")),
        sa.UniqueConstraint("api_token_hash", name=op.f("uq_advisor_users_api_token_hash")),
    )

    op.create_table(
        "advisor_leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("qualification_rule", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("preferred_slot", sa.String(length=200), nullable=True),
        sa.Column("consent_text_version", sa.String(length=50), nullable=False),
        _when("consent_given_at"),
        sa.Column("consent_channel", sa.String(length=20), nullable=False),
        sa.Column("profile", _json(), nullable=False),
        sa.Column("recommendations", _json(), nullable=False),
        sa.Column("catalogue_version", sa.String(length=64), nullable=True),
        sa.Column("advisor_required", sa.Boolean(), nullable=False),
        sa.Column("advisor_reasons", _json(), nullable=False),
        sa.Column("transcript", _json(), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        _when("claimed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        _when("erased_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["advisor_users.id"],
            name=op.f("fk_advisor_leads_claimed_by_id_advisor_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_leads")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_advisor_leads_conversation_id")),
        sa.UniqueConstraint("reference", name=op.f("uq_advisor_leads_reference")),
    )
    for column in ("channel", "status", "category", "level", "contact_email", "claimed_by_id"):
        op.create_index(op.f(f"ix_advisor_leads_{column}"), "advisor_leads", [column])
    op.create_index(op.f("ix_advisor_leads_created_at"), "advisor_leads", ["created_at"])
    op.create_index("ix_advisor_leads_status_created_at", "advisor_leads", ["status", "created_at"])

    op.create_table(
        "advisor_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["advisor_leads.id"],
            name=op.f("fk_advisor_notes_lead_id_advisor_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_notes")),
    )
    op.create_index(op.f("ix_advisor_notes_lead_id"), "advisor_notes", ["lead_id"])

    op.create_table(
        "advisor_audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("details", _json(), nullable=False),
        _when("at"),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["advisor_leads.id"],
            name=op.f("fk_advisor_audit_events_lead_id_advisor_leads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_audit_events")),
    )
    op.create_index(op.f("ix_advisor_audit_events_lead_id"), "advisor_audit_events", ["lead_id"])

    op.create_table(
        "advisor_advice_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("content", _json(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        _when("frozen_at", nullable=True),
        sa.Column("frozen_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["advisor_leads.id"],
            name=op.f("fk_advisor_advice_records_lead_id_advisor_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_advice_records")),
        sa.UniqueConstraint("lead_id", "version", name=op.f("uq_advisor_advice_records_lead_id")),
    )
    op.create_index(
        op.f("ix_advisor_advice_records_lead_id"), "advisor_advice_records", ["lead_id"]
    )

    op.create_table(
        "advisor_webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        _when("created_at"),
        _when("delivered_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["advisor_leads.id"],
            name=op.f("fk_advisor_webhook_deliveries_lead_id_advisor_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_webhook_deliveries")),
    )
    for column in ("lead_id", "status"):
        op.create_index(
            op.f(f"ix_advisor_webhook_deliveries_{column}"),
            "advisor_webhook_deliveries",
            [column],
        )


def downgrade() -> None:
    op.drop_table("advisor_webhook_deliveries")
    op.drop_table("advisor_advice_records")
    op.drop_table("advisor_audit_events")
    op.drop_table("advisor_notes")
    op.drop_table("advisor_leads")
    op.drop_table("advisor_users")
