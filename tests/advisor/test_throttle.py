"""Login throttling: per-account and per-address limits over a sliding window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from advisor.models import LoginFailureRow
from advisor.throttle import LoginThrottle
from common.db import utc_now


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


def throttle(engine, clock: Clock) -> LoginThrottle:  # type: ignore[no-untyped-def]
    return LoginThrottle(
        engine,
        key=b"test-key",
        window_s=900,
        max_failures_per_account=3,
        max_failures_per_address=5,
        clock=clock,
    )


class TestLoginThrottle:
    def test_an_account_is_locked_until_its_oldest_counted_failure_leaves_the_window(self, engine):
        clock = Clock()
        guard = throttle(engine, clock)
        for minute in range(3):
            assert guard.retry_after("alice", f"10.0.0.{minute}") is None
            guard.failed("alice", f"10.0.0.{minute}")
            clock.now += timedelta(minutes=1)
        # Failures at 0, 1 and 2 minutes; now 3 minutes: the first leaves the window at 15.
        assert guard.retry_after("alice", "10.0.0.9") == 12 * 60
        clock.now += timedelta(minutes=12)
        assert guard.retry_after("alice", "10.0.0.9") is None

    def test_an_address_is_locked_whatever_the_usernames(self, engine):
        guard = throttle(engine, Clock())
        for number in range(5):
            guard.failed(f"user{number}", "192.0.2.7")
        assert guard.retry_after("someone-else", "192.0.2.7") == 900
        assert guard.retry_after("someone-else", "192.0.2.8") is None

    def test_a_success_clears_the_account_but_not_the_address(self, engine):
        guard = throttle(engine, Clock())
        for _ in range(3):
            guard.failed("alice", "192.0.2.7")
        guard.succeeded("alice")
        assert guard.retry_after("alice", "198.51.100.1") is None

    def test_addresses_are_not_stored_in_clear_and_old_rows_are_purged(self, engine):
        clock = Clock()
        guard = throttle(engine, clock)
        guard.failed("alice", "192.0.2.7")
        clock.now += timedelta(minutes=16)
        guard.failed("bruno", "192.0.2.8")
        with engine.connect() as connection:
            rows = connection.execute(
                select(LoginFailureRow.username, LoginFailureRow.address_digest)
            ).all()
        assert [row.username for row in rows] == ["bruno"]
        assert "192.0.2.8" not in rows[0].address_digest
        assert len(rows[0].address_digest) == 64
