"""webhook outbox: retry schedule and lease of each delivery

Revision ID: 0006_webhook_outbox
Revises: 0005_personal_data
Create Date: 2026-12-06 09:00:00

The outbox worker (advisor/webhook.py) claims due rows for a while (`leased_until`, `lease_owner`,
`lease_token`) and schedules the next attempt of a failed one in the row (`next_attempt_at`,
NULL for "at once": every row already pending is due). The index serves the worker's query of due
rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_webhook_outbox"
down_revision: str | None = "0005_personal_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("advisor_webhook_deliveries") as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("leased_until", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=100)))
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32)))
        batch_op.create_index("ix_advisor_webhook_deliveries_due", ["status", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("advisor_webhook_deliveries") as batch_op:
        batch_op.drop_index("ix_advisor_webhook_deliveries_due")
        batch_op.drop_column("lease_token")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("leased_until")
        batch_op.drop_column("next_attempt_at")
