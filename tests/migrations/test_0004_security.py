"""Migration 0004_security: token expiry (existing tokens get 90 days), sessions, failed logins,
the feedback rater; and back."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from common.db import engine_from_url

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]
NEW_TABLES = {"advisor_sessions", "advisor_login_failures"}


def config(url: str) -> Config:
    result = Config(str(REPOSITORY / "alembic.ini"))
    result.attributes["configure_logger"] = False
    result.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    return result


def columns(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_upgrade_gives_existing_tokens_an_expiry_and_downgrade_removes_everything(tmp_path):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    command.upgrade(config(url), "0003_feedback")
    engine = engine_from_url(url)
    try:
        with engine.begin() as connection:
            for name, token_hash in (("alice", "a" * 64), ("bruno", None)):
                connection.execute(
                    text(
                        "INSERT INTO advisor_users (username, display_name, password_hash, role,"
                        " active, api_token_hash, created_at)"
                        " VALUES (:name, :name, 'x', 'advisor', 1, :token_hash, :now)"
                    ),
                    {"name": name, "token_hash": token_hash, "now": datetime.now(UTC)},
                )
        command.upgrade(config(url), "0004_security")
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
        assert "rater_digest" in columns(engine, "feedback")
        with engine.connect() as connection:
            expiries = dict(
                connection.execute(
                    text("SELECT username, api_token_expires_at FROM advisor_users")
                ).all()
            )
        assert expiries["bruno"] is None
        expires_at = datetime.fromisoformat(str(expiries["alice"])).replace(tzinfo=UTC)
        assert abs(expires_at - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)

        command.downgrade(config(url), "0003_feedback")
        assert NEW_TABLES.isdisjoint(inspect(engine).get_table_names())
        assert "rater_digest" not in columns(engine, "feedback")
        assert "api_token_expires_at" not in columns(engine, "advisor_users")
    finally:
        engine.dispose()
