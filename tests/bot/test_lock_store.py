"""The conversation lock store (bot/lock_store.py) against the real Redis on loopback: what a
surviving Rasa server waits for after another one crashed, and what a server does while Redis
cannot be reached (an in-process lock, Redis again once it answers).

Every Rasa server takes a conversation's ticket in Redis before a turn. A server that dies mid-turn
never gives its ticket back; the others wait for it to expire (TICKET_LOCK_LIFETIME, 60 s by
default), which the failover test (tests/integration/test_replicas.py) and docs/operations.md rely
on.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.core.utils import read_endpoints_from_path

from bot.lock_store import FallbackLockStore, issue_ticket
from tests.relay import Relay
from tests.services import free_port, require_service

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REDIS_PORT = 6379
LIFETIME_S = 2.0
POLL_S = 0.5
CONVERSATION = "rest:crashed"


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own (alphanumeric, as Rasa requires); its keys are
    deleted after it."""
    require_service("Redis", REDIS_PORT)
    prefix = f"test{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis(port=REDIS_PORT)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def lock_key(prefix: str, conversation_id: str = CONVERSATION) -> str:
    return f"{prefix}:lock:{conversation_id}"


def fallback_store(prefix: str, port: int = REDIS_PORT, **settings: float) -> FallbackLockStore:
    return FallbackLockStore(host="127.0.0.1", port=port, db=0, key_prefix=prefix, **settings)


async def _wait_for_lock(store: LockStore, conversation_id: str, lifetime_s: float) -> float:
    """Seconds until this server gets the conversation (a turn that waits behind others)."""
    started = time.monotonic()
    async with store.lock(conversation_id, lifetime_s, wait_time_in_seconds=POLL_S):
        return time.monotonic() - started


class TestAfterAServerCrashed:
    def test_a_survivor_gets_the_conversation_once_the_dead_servers_ticket_expires(
        self, key_prefix: str
    ) -> None:
        store = fallback_store(key_prefix)
        assert store.redis is not None
        issue_ticket(store.redis, CONVERSATION, LIFETIME_S)  # taken by a server that then died
        waited = asyncio.run(
            asyncio.wait_for(_wait_for_lock(store, CONVERSATION, 3 * LIFETIME_S), 10)
        )
        assert LIFETIME_S - POLL_S <= waited < 10

    def test_a_survivor_retrying_at_once_is_not_stuck_behind_the_dead_ticket(
        self, key_prefix: str
    ) -> None:
        store = fallback_store(key_prefix)
        assert store.redis is not None
        issue_ticket(store.redis, CONVERSATION, LIFETIME_S)  # taken by a server that then died
        # The message sent again at once, with the same lifetime: both tickets expire together
        # (the waiter's a tenth of a second first, so that the outcome does not depend on when
        # its polls fall). The waiter takes a new ticket and is served.
        waiter_lifetime_s = LIFETIME_S - 0.1
        waited = asyncio.run(
            asyncio.wait_for(_wait_for_lock(store, CONVERSATION, waiter_lifetime_s), 10)
        )
        assert waiter_lifetime_s - POLL_S <= waited < LIFETIME_S + 2 * POLL_S

    def test_a_waiter_given_up_leaves_no_ticket_behind(self, key_prefix: str) -> None:
        """A request cancelled while it waits (the person's app gave up) must not make the next
        message of the conversation wait for its ticket to expire."""
        store = fallback_store(key_prefix)
        assert store.redis is not None
        issue_ticket(store.redis, CONVERSATION, 30)  # a turn running on another server

        async def give_up_waiting() -> None:
            waiting = asyncio.create_task(_wait_for_lock(store, CONVERSATION, 30))
            await asyncio.sleep(0.3)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting

        asyncio.run(give_up_waiting())
        lock = store.redis.get_lock(CONVERSATION)
        assert lock is not None
        assert [ticket.number for ticket in lock.tickets] == [0]  # only the running turn's

    def test_rasas_own_redis_store_strands_that_waiter(self, key_prefix: str) -> None:
        """Why the project has its own store: Rasa 3.6 leaves the lock with no ticket and
        `now_serving` (0) never equals the waiter's number, so the turn waits until its request is
        cancelled."""
        store = RedisLockStore(host="127.0.0.1", port=REDIS_PORT, db=0, key_prefix=key_prefix)
        store.issue_ticket(CONVERSATION, LIFETIME_S)
        with pytest.raises(asyncio.TimeoutError):  # not the built-in TimeoutError on Python 3.10
            asyncio.run(
                asyncio.wait_for(
                    _wait_for_lock(store, CONVERSATION, LIFETIME_S - 0.1), 2 * LIFETIME_S + 1
                )
            )


class TestWithoutRedis:
    def test_rasas_own_redis_store_fails_every_turn(self) -> None:
        """Why the project has its own store: without Redis, Rasa 3.6 cannot take the ticket and
        the turn fails before it starts (the channels then send their apology, and the message is
        not processed)."""
        store = RedisLockStore(host="127.0.0.1", port=free_port(), db=0)  # nothing listens there

        async def turn() -> None:
            async with store.lock(CONVERSATION, 10, wait_time_in_seconds=0.05):
                pass

        with pytest.raises(LockError):
            asyncio.run(turn())

    def test_turns_of_one_conversation_still_run_one_at_a_time(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        store = fallback_store("faultsuite", port=free_port())  # nothing listens there
        moments: list[tuple[str, int]] = []

        async def turn(number: int) -> None:
            async with store.lock(CONVERSATION, 10, wait_time_in_seconds=0.05):
                moments.append(("start", number))
                await asyncio.sleep(0.3)
                moments.append(("end", number))

        async def two_turns() -> None:
            await asyncio.gather(turn(1), turn(2))

        with caplog.at_level(logging.WARNING, logger="bot.lock_store"):
            asyncio.run(asyncio.wait_for(two_turns(), 10))
        assert moments in (
            [("start", 1), ("end", 1), ("start", 2), ("end", 2)],
            [("start", 2), ("end", 2), ("start", 1), ("end", 1)],
        )
        assert not store.using_redis
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, warnings  # once per outage, not once per turn
        assert "Redis lock store unreachable" in warnings[0]

    def test_redis_is_used_again_once_it_answers(
        self, key_prefix: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        relay = Relay(REDIS_PORT)
        relay.open()
        store = fallback_store(key_prefix, port=relay.port, retry_after_s=0.2)
        direct = redis.Redis(port=REDIS_PORT)

        async def locked_in_redis() -> bool:
            async with store.lock(CONVERSATION, 10, wait_time_in_seconds=0.05):
                return bool(direct.exists(lock_key(key_prefix)))

        try:
            with caplog.at_level(logging.WARNING, logger="bot.lock_store"):
                assert asyncio.run(locked_in_redis())
                relay.cut()
                assert not asyncio.run(locked_in_redis())  # in this process only
                assert not store.using_redis
                relay.open()
                time.sleep(0.3)  # retry_after_s
                assert asyncio.run(locked_in_redis())
                assert store.using_redis
        finally:
            relay.cut()
            direct.close()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 2, warnings
        assert warnings[0].startswith("Redis lock store unreachable")
        assert warnings[1].startswith("Redis lock store reachable again")

    def test_redis_lost_during_a_turn_ends_it_normally(self, key_prefix: str) -> None:
        """The turn ends without error; its ticket, left in Redis, delays the conversation's next
        turn by its lifetime at most once Redis is back."""
        relay = Relay(REDIS_PORT)
        relay.open()
        store = fallback_store(key_prefix, port=relay.port, retry_after_s=0.1)

        async def turn_losing_redis() -> None:
            async with store.lock(CONVERSATION, LIFETIME_S, wait_time_in_seconds=POLL_S):
                relay.cut()

        try:
            asyncio.run(asyncio.wait_for(turn_losing_redis(), 10))
            assert not store.using_redis
            relay.open()
            time.sleep(0.2)
            waited = asyncio.run(
                asyncio.wait_for(_wait_for_lock(store, CONVERSATION, LIFETIME_S), 10)
            )
            assert store.using_redis
            assert waited < LIFETIME_S + 2 * POLL_S
        finally:
            relay.cut()


class TestConfiguration:
    def test_endpoints_yml_selects_this_store_with_redis(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # What stack/rasa_env.py derives from LOCK_STORE_URL=redis://127.0.0.1:6390/2.
        for name, value in {
            "RASA_ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
            "RASA_TRACKER_DIALECT": "sqlite",
            "RASA_TRACKER_URL": "sqlite:///tracker.db",
            "RASA_LOCK_STORE_TYPE": "redis",
            "RASA_LOCK_STORE_HOST": "127.0.0.1",
            "RASA_LOCK_STORE_PORT": "6390",
            "RASA_LOCK_STORE_DB": "2",
            "RASA_LOCK_STORE_PASSWORD": "",
        }.items():
            monkeypatch.setenv(name, value)
        endpoints = read_endpoints_from_path(ROOT / "endpoints.yml")
        store = LockStore.create(endpoints.lock_store)
        assert isinstance(store, FallbackLockStore)
        assert store.redis is not None
        connection = store.redis.red.connection_pool.connection_kwargs
        assert (connection["host"], connection["port"], connection["db"]) == ("127.0.0.1", 6390, 2)
        assert connection["password"] is None
        assert store.redis.key_prefix == "vergemont:lock:"
        assert store.red is store.redis.red  # what the readiness check pings

    def test_the_in_memory_backend_uses_no_redis(self) -> None:
        store = FallbackLockStore(backend="in_memory", host="")
        assert store.redis is None
        assert store.red is None

        async def turn() -> bool:
            async with store.lock(CONVERSATION, 10, wait_time_in_seconds=0.05):
                return store.get_lock(CONVERSATION) is not None

        assert asyncio.run(turn())
        assert store.get_lock(CONVERSATION) is None  # freed

    def test_an_unknown_backend_is_refused_at_start(self) -> None:
        with pytest.raises(ValueError, match="backend"):
            FallbackLockStore(backend="memcached")
