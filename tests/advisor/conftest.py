"""Fixtures of the advisor tests: a migrated database per test, on SQLite and on PostgreSQL.

SQLite: the migrations run once per session into a template file that each test copies.
PostgreSQL (127.0.0.1:5432, integration): a fresh schema per test, migrated, dropped afterwards.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from advisor.auth import create_user
from advisor.database import ensure_schema, open_engine
from advisor.store import LeadStore
from advisor.workflow import Actor
from tests.services import require_service

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("advisor-template") / "advisor.db"
    engine = open_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    engine.dispose()
    return path


def postgres_schema_url() -> Iterator[str]:
    require_service("PostgreSQL", 5432)
    schema = f"advisor_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        target = tmp_path / "advisor.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    yield from postgres_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database only, for tests that do not depend on the backend."""
    target = tmp_path / "advisor.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> LeadStore:
    return LeadStore(engine)


@pytest.fixture
def advisor(engine: Engine) -> Actor:
    return create_user(engine, "alice", "Alice Conseil", "advisor", "mot-de-passe-alice-1")


@pytest.fixture
def other_advisor(engine: Engine) -> Actor:
    return create_user(engine, "bruno", "Bruno Conseil", "advisor", "mot-de-passe-bruno-1")


@pytest.fixture
def supervisor(engine: Engine) -> Actor:
    return create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
