"""Migration 0002_advisor creates exactly the tables of advisor/models.py, and removes them."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import advisor.models  # noqa: F401  # registers the advisor tables
import product_catalog.db  # noqa: F401  # and the catalogue's, on the same Base
from advisor.database import alembic_config
from common.db import Base

ADVISOR_TABLES = {
    "advisor_users",
    "advisor_leads",
    "advisor_notes",
    "advisor_audit_events",
    "advisor_advice_records",
    "advisor_webhook_deliveries",
}


class TestMigration:
    def test_upgrade_matches_the_models(self, engine):
        assert set(inspect(engine).get_table_names()) >= ADVISOR_TABLES
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        # Only the advisor's tables are this package's business (others add their own).
        assert [d for d in differences if "advisor_" in repr(d)] == []

    def test_downgrade_to_the_catalogue_removes_only_the_advisor_tables(self, engine, database_url):
        command.downgrade(alembic_config(database_url), "0001")
        tables = set(inspect(engine).get_table_names())
        assert ADVISOR_TABLES.isdisjoint(tables)
        assert "catalogue_products" in tables
