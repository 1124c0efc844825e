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


def engine_from_url(url: str, **options: Any) -> Engine:
    """Create an engine (URL normalised); for a SQLite file, create its folder and enforce
    foreign keys."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)
