"""The handoff service the action server uses: the lead store behind the `HandoffService` contract.

    service = open_handoff_service(settings.database_url, settings)  # settings: AdvisorSettings
    receipt = service.hand_off(request)   # durable once it returns; idempotent per conversation

The schema is brought to the latest Alembic migration on first use (`ensure_schema`), so a fresh
SQLite file just works. When the database cannot be reached, the handoff is retried with
exponential backoff, then `HandoffUnavailableError` is raised: the transaction was rolled back,
nothing is half-written, and the bot tells the person honestly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from advisor.config import AdvisorSettings
from advisor.database import ensure_schema, open_engine
from advisor.handoff import HandoffReceipt, HandoffRequest, HandoffUnavailableError
from advisor.store import DEFAULT_OPEN_LEAD_DAYS, LeadStore

logger = logging.getLogger(__name__)

DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF_S = 0.25


def _is_unavailable(error: Exception) -> bool:
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class SqlHandoffService:
    """`HandoffService` on the SQL lead store, with bounded retries and backoff."""

    def __init__(
        self,
        engine: Engine,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_s: float = DEFAULT_BACKOFF_S,
        on_created: Callable[[HandoffReceipt], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        open_lead_days: int = DEFAULT_OPEN_LEAD_DAYS,
    ) -> None:
        self.engine = engine
        self.store = LeadStore(engine, open_lead_days=open_lead_days)
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.on_created = on_created
        self._sleep = sleep
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if not self._schema_ready:
                ensure_schema(self.engine)
                self._schema_ready = True

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        last_error: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                self._ensure_schema()
                receipt = self.store.hand_off(request)
            except (OperationalError, DBAPIError) as error:
                if not _is_unavailable(error):
                    raise
                last_error = error
                logger.warning(
                    "handoff of a conversation failed (attempt %d/%d): lead store unavailable (%s)",
                    attempt,
                    self.attempts,
                    type(error.orig).__name__ if error.orig is not None else type(error).__name__,
                )
                if attempt < self.attempts:
                    self._sleep(self.backoff_s * 2 ** (attempt - 1))
                continue
            if receipt.created and self.on_created is not None:
                try:
                    self.on_created(receipt)
                except Exception:  # the lead is stored: a notification failure must not undo it
                    logger.exception(
                        "post-handoff notification failed for %s", receipt.lead_reference
                    )
            return receipt
        raise HandoffUnavailableError(
            f"the lead store is unavailable after {self.attempts} attempts"
        ) from last_error

    def close(self) -> None:
        self.engine.dispose()


def open_handoff_service(
    database_url: str, settings: AdvisorSettings | None = None
) -> SqlHandoffService:
    """The handoff service on `database_url` (e.g. `sqlite:///.run/advisor.db`).

    Nothing is connected yet: the first `hand_off` creates or upgrades the schema. A new
    qualified lead's CRM webhook is only written to the outbox, in the lead's transaction; the
    outbox worker sends it (advisor/webhook.py), so the handoff never waits for the CRM.
    """
    engine = open_engine(database_url)
    if settings is None:
        return SqlHandoffService(engine)
    return SqlHandoffService(
        engine,
        attempts=settings.handoff_attempts,
        backoff_s=settings.handoff_backoff_s,
        open_lead_days=settings.open_lead_days,
    )
