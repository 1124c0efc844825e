"""The application database: one declarative base for every table, its URLs and engine creation.

Every package that owns tables (catalogue, advisor leads, feedback) declares them on `Base`, so the
single Alembic environment under migrations/ sees them all. Two databases use these tables:

- the lead store, `ADVISOR_DATABASE_URL` (default `DEFAULT_ADVISOR_DATABASE_URL`): the advisor's
  leads and the feedback, shared by the action server, the web app and the advisor and feedback
  command lines;
- the application database, `WEBAPP_DATABASE_URL` (default `DEFAULT_WEBAPP_DATABASE_URL`): the
  catalogue tables (`python -m product_catalog load`, `alembic upgrade head`), read through
  `ApplicationDatabaseSettings`.

A Rasa-style `postgresql://` URL means psycopg 3, the driver installed here (`normalise_url`). No
engine is created at import time: callers build one with `engine_from_url` in their start-up code
and pass it on.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase

DEFAULT_ADVISOR_DATABASE_URL = "sqlite:///.run/advisor.db"
DEFAULT_WEBAPP_DATABASE_URL = "sqlite:///.run/webapp.db"
# PostgreSQL: seconds to wait for a connection, milliseconds a statement may run (0: no limit).
# A database that hangs then fails a request in bounded time instead of holding its worker.
DEFAULT_CONNECT_TIMEOUT_S = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000

_PSYCOPG = "postgresql+psycopg://"

# JSON columns: JSONB on PostgreSQL, JSON text elsewhere.
JsonType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the default of every timestamp column)."""
    return datetime.now(UTC)


# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApplicationDatabaseSettings(BaseSettings):
    """`WEBAPP_DATABASE_URL` (and `.env`), for the programs that need nothing else: Alembic's
    environment and `python -m product_catalog load`."""

    model_config = SettingsConfigDict(env_prefix="WEBAPP_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_WEBAPP_DATABASE_URL


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` (Rasa's style) as `postgresql+psycopg://`; others as is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return _PSYCOPG + url.removeprefix(prefix)
    return url


def checked_url(url: str) -> str:
    """`normalise_url`, refusing a database this project cannot use (for settings validators)."""
    normalised = normalise_url(url)
    if not normalised.startswith(("sqlite:///", _PSYCOPG)):
        raise ValueError("must start with sqlite:///, postgresql:// or postgresql+psycopg://")
    return normalised


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _statement_timeout_setter(milliseconds: int) -> Any:
    def set_statement_timeout(dbapi_connection: Any, _record: Any) -> None:
        # Outside a transaction, so that the setting lasts for the whole connection.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
        dbapi_connection.autocommit = autocommit

    return set_statement_timeout


def engine_from_url(
    url: str,
    *,
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    **options: Any,
) -> Engine:
    """Create an engine (URL normalised); for a SQLite file, create its folder and enforce
    foreign keys; for PostgreSQL, bound the connection wait and each statement's duration
    (`statement_timeout_ms=0` for none, e.g. for migrations)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    connect_args = {"connect_timeout": connect_timeout_s, **options.pop("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)
    if statement_timeout_ms:
        event.listen(engine, "connect", _statement_timeout_setter(statement_timeout_ms))
    return engine
