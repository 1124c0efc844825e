"""Migration 0006_webhook_outbox: the outbox rows get a schedule and a lease; a row pending before
it is due at once for the worker; and back, keeping every row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text

from advisor.database import open_engine
from advisor.webhook import WebhookSender
from tests.migrations.test_0005_personal_data import config, insert

pytestmark = pytest.mark.unit

NEW_COLUMNS = {"next_attempt_at", "leased_until", "lease_owner", "lease_token"}


def columns(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_a_row_pending_before_the_migration_is_claimed_by_the_worker_and_downgrade_keeps_it(
    tmp_path,
):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    command.upgrade(config(url), "0005_personal_data")
    engine = open_engine(url)
    try:
        with engine.begin() as connection:
            insert(connection, "VG-AAAAAA", "website:s1", seq=1)
            connection.execute(
                text(
                    "INSERT INTO advisor_webhook_deliveries (lead_id, event, status, attempts,"
                    " created_at) SELECT id, 'lead.qualified', 'pending', 0, :now"
                    " FROM advisor_leads"
                ),
                {"now": datetime.now(UTC)},
            )
        assert NEW_COLUMNS.isdisjoint(columns(engine, "advisor_webhook_deliveries"))

        command.upgrade(config(url), "0006_webhook_outbox")
        assert columns(engine, "advisor_webhook_deliveries") >= NEW_COLUMNS
        indexes = inspect(engine).get_indexes("advisor_webhook_deliveries")
        assert "ix_advisor_webhook_deliveries_due" in {index["name"] for index in indexes}
        claim = WebhookSender(engine, "http://127.0.0.1:1/", "secret").claim(10)
        assert len(claim.ids) == 1

        command.downgrade(config(url), "0005_personal_data")
        assert NEW_COLUMNS.isdisjoint(columns(engine, "advisor_webhook_deliveries"))
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT status FROM advisor_webhook_deliveries")
            ).all() == [("pending",)]
    finally:
        engine.dispose()
