"""Alembic's environment (migrations/env.py): which database `alembic upgrade head` migrates."""

import argparse
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from common.db import engine_from_url

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]


def _config(url: str | None = None) -> Config:
    """As `alembic [-x url=URL] ...` reads it from alembic.ini, in-process."""
    config = Config(str(REPOSITORY / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if url is not None:
        config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    return config


def _tables(url: str) -> set[str]:
    engine = engine_from_url(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


class TestDatabaseUrl:
    def test_without_a_url_the_webapp_database_url_is_migrated(self, tmp_path, monkeypatch):
        url = f"sqlite:///{tmp_path / 'app.db'}"
        monkeypatch.setenv("WEBAPP_DATABASE_URL", url)
        command.upgrade(_config(), "head")
        assert {"alembic_version", "catalogue_products", "advisor_leads"} <= _tables(url)

    def test_a_url_given_with_x_wins_over_the_environment(self, tmp_path, monkeypatch):
        monkeypatch.setenv("WEBAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'not-this.db'}")
        url = f"sqlite:///{tmp_path / 'this.db'}"
        command.upgrade(_config(url), "head")
        assert "alembic_version" in _tables(url)
        assert not (tmp_path / "not-this.db").exists()
