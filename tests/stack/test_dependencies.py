"""The stack's check of its tracker store before the servers start (real PostgreSQL)."""

import uuid

import psycopg
import pytest

from common.startup import StartupError
from stack.dependencies import check_tracker_store
from tests.services import free_port, require_service

pytestmark = pytest.mark.integration

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_an_existing_database_passes() -> None:
    require_service("PostgreSQL", 5432)
    name = f"tracker_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        check_tracker_store(f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_missing_database_stops_the_start_with_what_to_do() -> None:
    require_service("PostgreSQL", 5432)
    url = f"postgresql://postgres:s3cret@127.0.0.1:5432/missing_{uuid.uuid4().hex[:10]}"

    with pytest.raises(StartupError) as raised:
        check_tracker_store(url)

    message = str(raised.value)
    assert "does not exist" in message
    assert "createdb" in message
    assert "s3cret" not in message  # the password is never shown


def test_a_server_that_is_down_stops_the_start() -> None:
    with pytest.raises(StartupError, match="does not answer"):
        check_tracker_store(f"postgresql://postgres@127.0.0.1:{free_port()}/rasa")


def test_an_sqlite_file_needs_no_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    check_tracker_store(f"sqlite:///{tmp_path / 'absent' / 'tracker.db'}")
