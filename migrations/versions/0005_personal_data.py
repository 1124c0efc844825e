"""personal data: several leads per conversation, one after another

Revision ID: 0005_personal_data
Revises: 0004_security
Create Date: 2026-12-05 10:00:00

A conversation held one lead forever (unique `conversation_id`): a returning person's new request
got the old, even lost, reference. Leads are now numbered within their conversation
(`conversation_seq`, 1 for every existing lead) and the pair is unique instead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_personal_data"
down_revision: str | None = "0004_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("advisor_leads") as batch_op:
        batch_op.add_column(
            sa.Column("conversation_seq", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint("uq_advisor_leads_conversation_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_advisor_leads_conversation_seq", ["conversation_id", "conversation_seq"]
        )


def downgrade() -> None:
    # Only the first lead of each conversation can keep the old unique key: the later ones are
    # told apart by a suffix, so that no lead (and none of its history) is lost going back.
    leads = sa.table(
        "advisor_leads",
        sa.column("conversation_id", sa.String(200)),
        sa.column("conversation_seq", sa.Integer()),
        sa.column("reference", sa.String(16)),
    )
    op.execute(
        leads.update()
        .where(leads.c.conversation_seq > 1)
        .values(
            conversation_id=sa.func.substr(leads.c.conversation_id, 1, 180, type_=sa.String())
            + "#"
            + leads.c.reference
        )
    )
    with op.batch_alter_table("advisor_leads") as batch_op:
        batch_op.drop_constraint("uq_advisor_leads_conversation_seq", type_="unique")
        batch_op.create_unique_constraint("uq_advisor_leads_conversation_id", ["conversation_id"])
        batch_op.drop_column("conversation_seq")
