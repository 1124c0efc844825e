"""Migration 0005_personal_data: leads numbered within their conversation (existing ones 1), the
pair unique instead of the conversation; and back, keeping every lead."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from common.db import engine_from_url

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]
INSERT = text(
    "INSERT INTO advisor_leads (reference, conversation_id, {seq_column} channel, status, level,"
    " score, qualification_rule, reason, contact_name, consent_text_version, consent_given_at,"
    " consent_channel, profile, recommendations, advisor_required, advisor_reasons, transcript,"
    " created_at, updated_at)"
    " VALUES (:reference, :conversation, {seq_value} 'website', 'lost', 'warm', 50, 'r',"
    " 'asked', 'Jeanne', '2026-10', :now, 'website', '{{}}', '[]', 0, '[]', '[]', :now, :now)"
)


def config(url: str) -> Config:
    result = Config(str(REPOSITORY / "alembic.ini"))
    result.attributes["configure_logger"] = False
    result.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    return result


def insert(connection, reference: str, conversation: str, seq: int | None = None) -> None:  # type: ignore[no-untyped-def]
    statement = INSERT.text.format(
        seq_column="" if seq is None else "conversation_seq,",
        seq_value="" if seq is None else f"{seq},",
    )
    connection.execute(
        text(statement),
        {"reference": reference, "conversation": conversation, "now": datetime.now(UTC)},
    )


def test_existing_leads_become_the_first_of_their_conversation_and_downgrade_keeps_all(tmp_path):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    command.upgrade(config(url), "0004_security")
    engine = engine_from_url(url)
    try:
        with engine.begin() as connection:
            insert(connection, "VG-AAAAAA", "website:s1")
        command.upgrade(config(url), "0005_personal_data")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT conversation_seq FROM advisor_leads")).all() == [
                (1,)
            ]
            insert(connection, "VG-BBBBBB", "website:s1", seq=2)  # a second lead: allowed now
        with pytest.raises(IntegrityError), engine.begin() as connection:
            insert(connection, "VG-CCCCCC", "website:s1", seq=2)

        command.downgrade(config(url), "0004_security")
        with engine.connect() as connection:
            rows = {
                reference: conversation
                for reference, conversation in connection.execute(
                    text("SELECT reference, conversation_id FROM advisor_leads")
                )
            }
        assert rows == {"VG-AAAAAA": "website:s1", "VG-BBBBBB": "website:s1#VG-BBBBBB"}
    finally:
        engine.dispose()
