"""Server-side console sessions: lifetime, idle limit, revocation, deactivated users."""

from __future__ import annotations

from datetime import datetime, timedelta

from advisor.auth import reset_password, set_active
from advisor.sessions import SessionStore
from common.db import utc_now


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


def sessions(engine, clock: Clock) -> SessionStore:  # type: ignore[no-untyped-def]
    return SessionStore(engine, max_age_s=8 * 3600, idle_s=3600, clock=clock)


class TestSessions:
    def test_a_session_lasts_its_lifetime_and_no_longer(self, engine, advisor):
        clock = Clock()
        store = sessions(engine, clock)
        token = store.open(advisor.id)
        for _ in range(15):  # used every 30 minutes, never idle: 7 h 30 in all
            clock.now += timedelta(minutes=30)
            assert store.user_of(token) == advisor
        clock.now += timedelta(minutes=30)  # 8 h: the lifetime
        assert store.user_of(token) is None

    def test_an_idle_session_ends(self, engine, advisor):
        clock = Clock()
        store = sessions(engine, clock)
        token = store.open(advisor.id)
        clock.now += timedelta(minutes=59)
        assert store.user_of(token) == advisor
        clock.now += timedelta(minutes=59)
        assert store.user_of(token) == advisor  # the use above reset the idle time
        clock.now += timedelta(minutes=61)
        assert store.user_of(token) is None

    def test_a_revoked_session_ends_and_others_stay(self, engine, advisor):
        store = sessions(engine, Clock())
        first, second = store.open(advisor.id), store.open(advisor.id)
        assert store.revoke(first) is True
        assert store.user_of(first) is None
        assert store.user_of(second) == advisor
        assert store.revoke(first) is False

    def test_an_unknown_token_opens_nothing(self, engine, advisor):
        store = sessions(engine, Clock())
        store.open(advisor.id)
        assert store.user_of("not-a-session") is None

    def test_deactivation_and_password_reset_end_every_session(self, engine, advisor):
        store = sessions(engine, Clock())
        token = store.open(advisor.id)
        set_active(engine, "alice", False)
        assert store.user_of(token) is None
        set_active(engine, "alice", True)
        assert store.user_of(token) is None  # revoked, not merely hidden
        token = store.open(advisor.id)
        reset_password(engine, "alice", "nouveau-mot-de-passe-42")
        assert store.user_of(token) is None
