"""Rasa's SQL tracker store, keeping each conversation's tracker in memory between its turns.

Configured in endpoints.yml (`type: bot.tracker_store.CachingSQLTrackerStore`) with the settings of
Rasa's `SQL` type plus `cache_size` (conversations kept, least recently used out first) and
`cache_ttl_s` (seconds a conversation may stay idle before it is read from the database again).

The database stays the only truth: a kept tracker is handed out only when one indexed query (row
count and highest row id of the conversation) shows the database unchanged since it was saved, or
only added to by another process (its new rows are then read and applied), and only once;
otherwise it is rebuilt from the database as Rasa's own store does. `save` writes only
the events not stored yet. On SQLite one connection stays open in write-ahead-log mode. The trackers
it hands out are `bot.trackers.IncrementalTracker`s, which keep what the policies derive from the
events between calls (and so between turns while kept here). The design: docs/conversation.md (the
tracker store); its effect on latency: docs/benchmarks.md. Importing this module also installs
`bot.rasa_patches` (a cheaper check of the action server's responses) in the Rasa server.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from bot import rasa_patches
from bot.redaction import consent_refused, needs_redaction, redacted
from bot.trackers import IncrementalTracker

logger = logging.getLogger(__name__)

# The one project module every Rasa server imports (endpoints.yml): the project's changes to Rasa.
rasa_patches.install()

DEFAULT_CACHE_SIZE = 500
DEFAULT_CACHE_TTL_S = 900.0

_IN_MEMORY = (None, "", ":memory:")
# (number of rows, highest row id) of one conversation in the events table.
Marker = tuple[int, int | None]


@dataclasses.dataclass
class _Kept:
    """A tracker in memory, with what the database held for its conversation at that moment."""

    tracker: DialogueStateTracker
    marker: Marker
    stored: int  # how many of tracker.events are rows; len(tracker.events) when it was kept
    kept_at: float


class CachingSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that keeps trackers in memory between turns (see the module doc)."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict[str, Any] | None = None,
        cache_size: int | str = DEFAULT_CACHE_SIZE,
        cache_ttl_s: float | str = DEFAULT_CACHE_TTL_S,
        **kwargs: Any,
    ) -> None:
        # Values from endpoints.yml arrive as text when they come from environment variables.
        try:
            self.cache_size = int(cache_size)
            self.cache_ttl_s = float(cache_ttl_s)
        except (TypeError, ValueError):
            self.cache_size, self.cache_ttl_s = -1, -1.0
        if self.cache_size < 0 or self.cache_ttl_s < 0:
            raise ValueError(
                f"CachingSQLTrackerStore: cache_size (conversations) and cache_ttl_s (seconds) "
                f"must be numbers and must not be negative (got {cache_size!r} and "
                f"{cache_ttl_s!r})"
            )
        # Rasa annotates username and password `Text = None`: None is what it expects without them.
        super().__init__(
            domain, dialect, host, port, db, username, password, event_broker, login_db, query,  # type: ignore[arg-type]
            **kwargs,
        )  # fmt: skip
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in _IN_MEMORY:
            self._keep_sqlite_connections()
        self._saved: OrderedDict[str, _Kept] = OrderedDict()  # waiting for their next turn
        self._handed_out: OrderedDict[str, _Kept] = OrderedDict()  # given to Rasa by retrieve
        self._event_classes = _event_classes()

    def init_tracker(self, sender_id: str) -> DialogueStateTracker:
        """A new conversation's tracker, incremental as the ones read back (bot/trackers.py)."""
        return IncrementalTracker(
            sender_id,
            self.domain.slots if self.domain is not None else None,
            max_event_history=self.max_event_history,
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest session; the one kept in memory when still current, or
        extended by the rows another process added since."""
        saved = self._saved.pop(sender_id, None)
        with self.session_scope() as session:
            marker = self._marker(session, sender_id)
            tracker: DialogueStateTracker | None = None
            if saved is not None and self._unchanged_in_memory(saved):
                if saved.marker == marker:
                    tracker = saved.tracker
                else:
                    tracker = self._extended(session, saved, marker)
            if tracker is None:
                tracker = self._load(session, sender_id, fetch_events_from_all_sessions=False)
        if tracker is not None:
            kept = _Kept(tracker, marker, len(tracker.events), time.monotonic())
            self._remember(self._handed_out, sender_id, kept)
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """Every session of the conversation, always read from the database."""
        with self.session_scope() as session:
            return self._load(session, conversation_id, fetch_events_from_all_sessions=True)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Writes the events not stored yet, then keeps the tracker for the next turn."""
        sender_id = tracker.sender_id
        known = self._known(tracker)
        with self.session_scope() as session:
            if known is not None:
                stored = known.stored
            else:  # a tracker this store did not hand out: count its rows, as Rasa does
                stored = self._event_query(
                    session, sender_id, fetch_events_from_all_sessions=False
                ).count()
            if consent_refused(tracker):
                self._redact(session, tracker, stored)
            new_events = list(tracker.events)[stored:]
            if self.event_broker is not None:
                await self._stream_new_events(self.event_broker, new_events, sender_id)
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()  # assigns the row ids, read before commit expires the rows
            ids = [row.id for row in rows]
            session.commit()
        if known is None or any(isinstance(event, SessionStarted) for event in new_events):
            # Kept from the next turn on, once a retrieve has read it: a new session is read back
            # without the previous one's events, as Rasa's own store does.
            return
        # What the database holds now, from the rows just written: any other writer since the
        # tracker was read makes it differ from the marker the next retrieve reads.
        count, highest = known.marker
        if ids:
            highest = max(ids) if highest is None else max(highest, *ids)
        marker = (count + len(ids), highest)
        kept = _Kept(tracker, marker, len(tracker.events), time.monotonic())
        self._remember(self._saved, sender_id, kept)
        self._drop_expired()

    def _redact(self, session: Any, tracker: DialogueStateTracker, stored: int) -> None:
        """Consent refused: the texts of the session's messages go (bot/redaction.py), in the
        tracker kept in memory and in the rows already written; the row count and ids stay, so
        the kept tracker still matches the database."""
        for index, event in enumerate(list(tracker.events)):
            if not needs_redaction(event):
                continue
            clean = redacted(event)
            tracker.events[index] = clean
            if index < stored:
                row = self.SQLEvent
                session.query(row).filter(
                    row.sender_id == tracker.sender_id,
                    row.type_name == event.type_name,
                    row.timestamp == event.timestamp,
                ).update({row.data: json.dumps(clean.as_dict())}, synchronize_session=False)

    def _known(self, tracker: DialogueStateTracker) -> _Kept | None:
        """What this store knows of the rows of this very tracker object, if anything.

        Handed out by `retrieve`, or already saved once during the same turn (Rasa saves when a
        new session starts, then again at the end of the turn).
        """
        for entries in (self._handed_out, self._saved):
            kept = entries.pop(tracker.sender_id, None)
            if kept is not None and kept.tracker is tracker:
                return kept
        return None

    def _keep_sqlite_connections(self) -> None:
        """One SQLite connection kept open and reused, in write-ahead-log mode.

        SQLAlchemy 1.4 opens and closes an SQLite file for every session, and closing the last
        connection of a write-ahead-logged database checkpoints it: as slow as the commit it was
        meant to spare. A pool keeps the connection, as SQLAlchemy 2 does by default.
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
        )
        _use_write_ahead_log(self.engine)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _unchanged_in_memory(self, saved: _Kept) -> bool:
        """Nothing added to the kept tracker since its save, and not kept for too long."""
        return (
            len(saved.tracker.events) == saved.stored
            and time.monotonic() - saved.kept_at <= self.cache_ttl_s
        )

    def _extended(self, session: Any, saved: _Kept, marker: Marker) -> DialogueStateTracker | None:
        """The kept tracker with the rows another process appended since it was saved, as
        reading the whole session would give it; None when the database changed otherwise.

        The rows the tracker was saved with must all be there still (row ids only grow, so
        their count up to the highest id known shows it); the new ones are read with Rasa's own
        query of the latest session, and a new session among them, or a conversation whose
        consent is now refused (its stored texts redacted), makes the caller read everything.
        """
        count, highest = saved.marker
        if highest is None or marker[0] <= count:
            return None
        sender_id = saved.tracker.sender_id
        row = self.SQLEvent
        still_there = (
            session.query(sa.func.count(row.id))
            .filter(row.sender_id == sender_id, row.id <= highest)
            .scalar()
        )
        if still_there != count:
            return None
        rows = (
            self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            .filter(row.id > highest)
            .all()
        )
        if len(rows) != marker[0] - count:
            return None
        events = [self._event(json.loads(new_row.data)) for new_row in rows]
        if any(isinstance(event, SessionStarted) for event in events):
            return None
        tracker = saved.tracker
        for event in events:
            if event is not None:
                tracker.update(event)
        return None if consent_refused(tracker) else tracker

    def _drop_expired(self) -> None:
        # Saved in time order (a save moves its conversation to the end): the oldest come first.
        now = time.monotonic()
        while self._saved:
            oldest = next(iter(self._saved.values()))
            if now - oldest.kept_at <= self.cache_ttl_s:
                break
            self._saved.popitem(last=False)

    def _marker(self, session: Any, sender_id: str) -> Marker:
        event = self.SQLEvent
        count, highest = (
            session.query(sa.func.count(event.id), sa.func.max(event.id))
            .filter(event.sender_id == sender_id)
            .one()
        )
        return int(count), highest

    def _load(
        self, session: Any, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions).all()
        if self.domain is None or not rows:
            return None
        events = [self._event(json.loads(row.data)) for row in rows]
        return IncrementalTracker.from_events(
            sender_id, [event for event in events if event is not None], self.domain.slots
        )

    def _event(self, parameters: dict[str, Any]) -> Event | None:
        """As Rasa's `Event.from_parameters`, with the event class from the table."""
        event_class = self._event_classes.get(parameters.get("event", ""))
        if event_class is None:
            return Event.from_parameters(parameters)  # Rasa's own handling of the rare cases
        return event_class._from_parameters(parameters)

    def _row(self, sender_id: str, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _remember(self, entries: OrderedDict[str, Any], sender_id: str, entry: Any) -> None:
        if self.cache_size == 0:
            return
        entries[sender_id] = entry
        entries.move_to_end(sender_id)
        while len(entries) > self.cache_size:
            entries.popitem(last=False)


def _event_classes() -> dict[str, type[Event]]:
    """Event type name → class, the first one found winning as in `Event.resolve_by_type`."""
    classes: dict[str, type[Event]] = {}
    for event_class in all_subclasses(Event):
        classes.setdefault(event_class.type_name, event_class)
    return classes


def _use_write_ahead_log(engine: sa.engine.Engine) -> None:
    """SQLite: write-ahead log, and one file sync per checkpoint instead of two per commit."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
