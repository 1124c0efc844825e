"""PostgreSQL engines wait a bounded time for a connection and for each statement."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from common.db import engine_from_url
from tests.services import require_service

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.unit
def test_a_database_that_never_answers_fails_within_the_connect_timeout(silent_server):
    engine = engine_from_url(
        f"postgresql://postgres@127.0.0.1:{silent_server}/test", connect_timeout_s=1
    )
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError), engine.connect():
            pass
    finally:
        engine.dispose()
    assert time.monotonic() - started < 5


@pytest.mark.integration
def test_a_statement_longer_than_the_limit_is_cancelled():
    require_service("PostgreSQL", 5432)
    engine = engine_from_url(POSTGRES, statement_timeout_ms=300)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SHOW statement_timeout")) == "300ms"
            started = time.monotonic()
            with pytest.raises(OperationalError, match="statement timeout"):
                connection.execute(text("SELECT pg_sleep(3)"))
            assert time.monotonic() - started < 2
    finally:
        engine.dispose()


@pytest.mark.integration
def test_the_default_limit_applies_and_zero_means_none():
    require_service("PostgreSQL", 5432)
    for options, expected in (({}, "30s"), ({"statement_timeout_ms": 0}, "0")):
        engine = engine_from_url(POSTGRES, **options)
        try:
            with engine.connect() as connection:
                assert connection.scalar(text("SHOW statement_timeout")) == expected
        finally:
            engine.dispose()
