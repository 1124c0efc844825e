"""Engine creation and schema set-up of the lead store.

`postgresql://` URLs are read as `postgresql+psycopg://` (`common.db.normalise_url`), so the action
server and the web app can share one `ADVISOR_DATABASE_URL` with Rasa's style of URL.
The schema is created or upgraded with the project's Alembic migrations (`ensure_schema`), the same
path as `alembic upgrade head`, so a database made by the app and one made by hand never differ.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from common.db import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_MS, engine_from_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def open_engine(
    url: str,
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> Engine:
    """An engine for the lead store; SQLite waits up to 30 s for a concurrent writer, PostgreSQL
    up to `connect_timeout_s` for a connection and `statement_timeout_ms` for a statement."""
    if make_url(url).get_backend_name() == "sqlite":
        return engine_from_url(url, connect_args={"timeout": 30})
    return engine_from_url(
        url,
        connect_timeout_s=connect_timeout_s,
        statement_timeout_ms=statement_timeout_ms,
        pool_size=10,
        max_overflow=20,
    )


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    return config


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the latest migration, unless it is there already (cheap check)."""
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        command.upgrade(config, "head")
