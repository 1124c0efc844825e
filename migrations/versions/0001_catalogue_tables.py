"""catalogue tables

Revision ID: 0001
Revises:
Create Date: 2026-11-26 13:07:51
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_products",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("pitch", sa.Text(), nullable=False),
        sa.Column("is_investment", sa.Boolean(), nullable=False),
        sa.Column("unit_linked", sa.Boolean(), nullable=True),
        sa.Column("risk_indicator_min", sa.SmallInteger(), nullable=True),
        sa.Column("risk_indicator_max", sa.SmallInteger(), nullable=True),
        sa.Column("min_age", sa.SmallInteger(), nullable=True),
        sa.Column("max_age", sa.SmallInteger(), nullable=True),
        sa.Column("price_min", sa.Float(), nullable=False),
        sa.Column("price_max", sa.Float(), nullable=False),
        sa.Column("price_unit", sa.String(length=20), nullable=False),
        sa.Column("catalogue_version", sa.String(length=64), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalogue_products")),
    )
    op.create_index(
        op.f("ix_catalogue_products_category"), "catalogue_products", ["category"], unique=False
    )

    op.create_table(
        "catalogue_documents",
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_code"],
            ["catalogue_products.code"],
            name=op.f("fk_catalogue_documents_product_code_catalogue_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filename", name=op.f("pk_catalogue_documents")),
    )
    op.create_index(
        op.f("ix_catalogue_documents_product_code"),
        "catalogue_documents",
        ["product_code"],
        unique=False,
    )

    op.create_table(
        "catalogue_product_needs",
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("need_code", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_code"],
            ["catalogue_products.code"],
            name=op.f("fk_catalogue_product_needs_product_code_catalogue_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "product_code", "need_code", name=op.f("pk_catalogue_product_needs")
        ),
    )
    op.create_index(
        op.f("ix_catalogue_product_needs_need_code"),
        "catalogue_product_needs",
        ["need_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_catalogue_product_needs_need_code"), table_name="catalogue_product_needs"
    )
    op.drop_table("catalogue_product_needs")
    op.drop_index(op.f("ix_catalogue_documents_product_code"), table_name="catalogue_documents")
    op.drop_table("catalogue_documents")
    op.drop_index(op.f("ix_catalogue_products_category"), table_name="catalogue_products")
    op.drop_table("catalogue_products")
