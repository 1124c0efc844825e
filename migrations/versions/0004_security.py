"""security: API token expiry, console sessions, failed logins, the feedback rater

Revision ID: 0004_security
Revises: 0003_feedback
Create Date: 2026-12-05 09:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0004_security"
down_revision: str | None = "0003_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("advisor_users") as batch_op:
        batch_op.add_column(_when("api_token_expires_at", nullable=True))
    # Tokens issued before this migration expire in the default 90 days (a token without an
    # expiry is refused); `python -m advisor api-token` reissues one, `revoke-token` withdraws it.
    users = sa.table(
        "advisor_users",
        sa.column("api_token_hash", sa.String(64)),
        sa.column("api_token_expires_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        users.update()
        .where(users.c.api_token_hash.is_not(None))
        .values(api_token_expires_at=datetime.now(UTC) + timedelta(days=90))
    )

    op.create_table(
        "advisor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("last_seen_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["advisor_users.id"],
            name=op.f("fk_advisor_sessions_user_id_advisor_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_advisor_sessions_token_hash")),
    )
    op.create_index(op.f("ix_advisor_sessions_user_id"), "advisor_sessions", ["user_id"])

    op.create_table(
        "advisor_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_login_failures")),
    )
    for column in ("username", "address_digest", "at"):
        op.create_index(
            op.f(f"ix_advisor_login_failures_{column}"), "advisor_login_failures", [column]
        )

    with op.batch_alter_table("feedback") as batch_op:
        batch_op.add_column(sa.Column("rater_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback") as batch_op:
        batch_op.drop_column("rater_digest")
    for column in ("at", "address_digest", "username"):
        op.drop_index(
            op.f(f"ix_advisor_login_failures_{column}"), table_name="advisor_login_failures"
        )
    op.drop_table("advisor_login_failures")
    op.drop_index(op.f("ix_advisor_sessions_user_id"), table_name="advisor_sessions")
    op.drop_table("advisor_sessions")
    with op.batch_alter_table("advisor_users") as batch_op:
        batch_op.drop_column("api_token_expires_at")
