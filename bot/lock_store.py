"""Rasa's conversation lock: in Redis, shared by every Rasa server, and in this process while Redis
cannot be reached, so that a person still gets a reply when Redis is down.

Configured in endpoints.yml (`type: bot.lock_store.FallbackLockStore`) with the settings of Rasa's
`redis` lock store (`url` the host, `port`, `db`, `password`, `use_ssl`, `key_prefix`,
`socket_timeout`, 2 s by default instead of 10) plus `retry_after_s` and `backend`:
`redis`, or `in_memory` for a single server without Redis (RASA_LOCK_STORE_TYPE, derived by
stack/rasa_env.py). Two differences with Rasa's own stores:

- Every turn also takes an in-process lock on its conversation, after its Redis ticket when Redis
  answers (so no two turns of one conversation ever run together in one process, whatever Redis
  does). When a Redis call fails, the turn goes on with the in-process lock alone and a warning is
  logged; Redis is tried again `retry_after_s` seconds later and used again as soon as it answers.
  Meanwhile two Rasa servers may run turns of the same conversation at once (docs/security.md,
  "Fault suite"): better than every message failing, which is what Rasa's store does.
- A waiter whose ticket has expired (its turn waited longer than the ticket's lifetime, typically
  behind the ticket of a server that died) takes a new ticket instead of waiting for a turn that
  can never come: Rasa 3.6 leaves it waiting until its request is cancelled when the lock holds no
  live ticket any more (tests/bot/test_lock_store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError  # type: ignore[import-untyped]  # no py.typed in redis 4

logger = logging.getLogger(__name__)

BACKENDS = ("redis", "in_memory")
# A Redis GET or SET takes well under a millisecond on a working network: two seconds mean it is
# gone. Rasa's own default (10 s) would hold the Rasa server's event loop that long per call.
DEFAULT_SOCKET_TIMEOUT_S = 2.0
DEFAULT_RETRY_AFTER_S = 5.0


def issue_ticket(store: LockStore, conversation_id: str, lifetime_s: float) -> Ticket:
    """A new ticket at the end of the conversation's queue (as `LockStore.issue_ticket`, which
    returns only its number: the expiry tells this ticket apart from a later one that reuses the
    number once every ticket has expired)."""
    lock = store.get_or_create_lock(conversation_id)
    lock.remove_expired_tickets()
    lock.issue_ticket(lifetime_s)
    ticket: Ticket = lock.tickets[-1]
    store.save_lock(lock)
    return ticket


def _holds(lock: TicketLock, ticket: Ticket) -> bool:
    """Whether `ticket` is still live in `lock`."""
    lock.remove_expired_tickets()
    return any(
        queued.number == ticket.number and queued.expires == ticket.expires
        for queued in lock.tickets
    )


async def wait_for_turn(
    store: LockStore, conversation_id: str, lifetime_s: float, poll_s: float
) -> tuple[Ticket, TicketLock]:
    """Take a ticket and wait until it is served, polling every `poll_s` seconds.

    As `LockStore.lock`, except that a ticket that expired while waiting is replaced by a new one
    (at the end of the queue) instead of waiting for ever or failing.
    """
    ticket = issue_ticket(store, conversation_id, lifetime_s)
    try:
        while True:
            lock = store.get_lock(conversation_id)
            if lock is None or not _holds(lock, ticket):
                logger.info(
                    "lock ticket %s of a conversation expired while it waited: a new one is taken",
                    ticket.number,
                )
                ticket = issue_ticket(store, conversation_id, lifetime_s)
                continue
            if not lock.is_locked(ticket.number):
                return ticket, lock
            await asyncio.sleep(poll_s)
            store.update_lock(conversation_id)
    except BaseException:
        # Given up (the request cancelled, Redis gone): the ticket must not hold the turns queued
        # behind it until it expires.
        with contextlib.suppress(RedisError):  # Redis gone: it expires on its own
            store.cleanup(conversation_id, ticket.number)
        raise


class FallbackLockStore(LockStore):
    """Rasa's lock store in Redis, with an in-process lock while Redis is unreachable (see the
    module doc). Created by Rasa from endpoints.yml (`endpoint_config`), or directly."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        backend: str = "redis",
        host: str | None = "localhost",
        port: int | str = 6379,
        db: int | str = 0,
        password: str | None = None,
        use_ssl: bool | str = False,
        key_prefix: str | None = None,
        socket_timeout: float | str = DEFAULT_SOCKET_TIMEOUT_S,
        retry_after_s: float | str = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        if endpoint_config is not None:
            settings: dict[str, Any] = dict(endpoint_config.kwargs)
            backend = str(settings.pop("backend", backend))
            host = endpoint_config.url
            port = settings.pop("port", port)
            db = settings.pop("db", db)
            password = settings.pop("password", password)
            use_ssl = settings.pop("use_ssl", use_ssl)
            key_prefix = settings.pop("key_prefix", key_prefix)
            socket_timeout = settings.pop("socket_timeout", socket_timeout)
            retry_after_s = settings.pop("retry_after_s", retry_after_s)
            if settings:
                raise ValueError(f"FallbackLockStore: unknown settings {sorted(settings)}")
        if backend not in BACKENDS:
            raise ValueError(
                f"FallbackLockStore: backend must be one of {BACKENDS}, not {backend!r}"
            )
        super().__init__()
        self.local = InMemoryLockStore()
        self.redis: RedisLockStore | None = None
        if backend == "redis":
            # Values from endpoints.yml arrive as text when they come from environment variables.
            self.redis = RedisLockStore(
                host=host or "localhost",
                port=int(port or 6379),
                db=int(db or 0),
                password=password or None,
                use_ssl=str(use_ssl).lower() in ("true", "1", "yes"),
                key_prefix=key_prefix,
                socket_timeout=float(socket_timeout),
            )
        # What the Rasa server's readiness check pings (channels/ops.py); None without Redis.
        self.red = self.redis.red if self.redis is not None else None
        self.retry_after_s = float(retry_after_s)
        self._redis_failed_at: float | None = None  # while Redis is unreachable

    # ----------------------------------------------------------------------- the turn's lock

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """The conversation's Redis ticket when Redis answers, then the in-process lock."""
        shared = await self._redis_turn(conversation_id, lock_lifetime, wait_time_in_seconds)
        try:
            ticket, lock = await wait_for_turn(
                self.local, conversation_id, lock_lifetime, wait_time_in_seconds
            )
            try:
                yield shared[1] if shared is not None else lock
            finally:
                self.local.cleanup(conversation_id, ticket.number)
        finally:
            if shared is not None and self.redis is not None:
                self._give_back(self.redis, conversation_id, shared[0])

    async def _redis_turn(
        self, conversation_id: str, lifetime_s: float, poll_s: float
    ) -> tuple[Ticket, TicketLock] | None:
        """The turn's ticket in Redis once served; None when Redis is not to be used now."""
        if self.redis is None or not self._redis_worth_trying():
            return None
        try:
            served = await wait_for_turn(self.redis, conversation_id, lifetime_s, poll_s)
        except RedisError as error:
            self._redis_lost(error)
            return None
        self._redis_answered()
        return served

    def _give_back(self, redis: RedisLockStore, conversation_id: str, ticket: Ticket) -> None:
        try:
            redis.cleanup(conversation_id, ticket.number)
        except RedisError as error:
            # The ticket expires on its own (its lifetime) if Redis kept it.
            self._redis_lost(error)

    def _redis_worth_trying(self) -> bool:
        failed_at = self._redis_failed_at
        return failed_at is None or time.monotonic() - failed_at >= self.retry_after_s

    def _redis_lost(self, error: RedisError) -> None:
        if self._redis_failed_at is None:
            logger.warning(
                "Redis lock store unreachable (%s: %s): conversations are locked in this process "
                "only, so another Rasa server may run a turn of the same conversation at the "
                "same time; Redis is tried again every %.0f s",
                type(error).__name__,
                error,
                self.retry_after_s,
            )
        self._redis_failed_at = time.monotonic()

    def _redis_answered(self) -> None:
        if self._redis_failed_at is not None:
            logger.warning("Redis lock store reachable again: conversations are locked in Redis")
            self._redis_failed_at = None

    @property
    def using_redis(self) -> bool:
        """Whether turns are locked in Redis now: configured, and not failed since it last
        answered."""
        return self.redis is not None and self._redis_failed_at is None

    # ------------------------------------------- LockStore's storage, for callers that use it

    def _store(self) -> LockStore:
        return self.redis if self.redis is not None and self.using_redis else self.local

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._store().get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self._store().delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self._store().save_lock(lock)
