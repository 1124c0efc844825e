"""The caching SQL tracker store: the same conversations as Rasa's own store, read back faster.

Run on SQLite (a file, as `make run` uses) and on the loopback PostgreSQL. Each test compares
with what Rasa's `SQLTrackerStore` reads from the same database, so a tracker kept in memory
that differs from the rows is caught.
"""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.redaction import REDACTED
from bot.tracker_store import CachingSQLTrackerStore
from tests.services import require_service

pytestmark = pytest.mark.integration

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    require_service("PostgreSQL", 5432)
    name = f"tracker_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield f"{POSTGRES}/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _dialect(url: str) -> str:
    return url.split(":", 1)[0]


@pytest.fixture
def store(database_url: str, domain: Domain) -> CachingSQLTrackerStore:
    return CachingSQLTrackerStore(domain, _dialect(database_url), host=database_url)


@pytest.fixture
def rasa_store(database_url: str, domain: Domain) -> SQLTrackerStore:
    """Rasa's own store on the same database: what the rows say."""
    return SQLTrackerStore(domain, _dialect(database_url), host=database_url)


def run(coroutine):
    return asyncio.run(coroutine)


def _turn(tracker: DialogueStateTracker, text: str, slot_value: object = None) -> None:
    """What one turn of the assistant appends: the message, a slot, a reply, listening."""
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 0.9}))
    tracker.update(ActionExecuted("validate_needs_discovery_form"))
    tracker.update(SlotSet("age", slot_value))
    tracker.update(BotUttered("Quel est votre statut ?"))
    tracker.update(ActionExecuted("action_listen"))


def _dicts(tracker: DialogueStateTracker | None) -> list[dict]:
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


async def _first_turns(store: CachingSQLTrackerStore, sender: str) -> DialogueStateTracker:
    """A conversation as Rasa starts one: created, saved, read back, one turn, saved."""
    tracker = await store.get_or_create_tracker(sender)
    tracker = await store.retrieve(sender)
    _turn(tracker, "j'ai 35 ans", 35)
    await store.save(tracker)
    return tracker


class TestSameConversationsAsRasasStore:
    def test_a_conversation_reads_back_as_rasa_reads_it(self, store, rasa_store):
        async def scenario():
            sender = "prospect-1"
            tracker = await _first_turns(store, sender)
            for age in (36, 37):
                tracker = await store.retrieve(sender)
                _turn(tracker, f"en fait j'ai {age} ans", age)
                await store.save(tracker)
            ours = await store.retrieve(sender)
            theirs = await rasa_store.retrieve(sender)
            assert _dicts(ours) == _dicts(theirs)
            assert ours.get_slot("age") == theirs.get_slot("age") == 37

        run(scenario())

    def test_rows_are_written_once(self, store, rasa_store, database_url):
        async def scenario():
            tracker = await _first_turns(store, "prospect-2")
            await store.save(tracker)  # saved again with nothing new: no row added
            return len((await rasa_store.retrieve("prospect-2")).events)

        stored = run(scenario())
        engine = sa.create_engine(database_url)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = 'prospect-2'")
            ).scalar_one()
        engine.dispose()
        assert rows == stored


class TestTrackersKeptInMemory:
    def test_the_next_turn_gets_the_saved_tracker_without_reading_the_rows(self, store):
        async def scenario():
            tracker = await _first_turns(store, "prospect-3")
            assert await store.retrieve("prospect-3") is tracker

        run(scenario())

    def test_a_tracker_is_handed_out_once(self, store, rasa_store):
        async def scenario():
            tracker = await _first_turns(store, "prospect-4")
            first = await store.retrieve("prospect-4")
            second = await store.retrieve("prospect-4")
            assert first is tracker
            assert second is not tracker
            assert _dicts(second) == _dicts(await rasa_store.retrieve("prospect-4"))

        run(scenario())

    def test_a_turn_that_fails_before_saving_leaves_nothing_behind(self, store, rasa_store):
        async def scenario():
            await _first_turns(store, "prospect-5")
            broken = await store.retrieve("prospect-5")
            _turn(broken, "j'ai 99 ans", 99)  # then an exception: Rasa does not save
            again = await store.retrieve("prospect-5")
            assert again is not broken
            assert again.get_slot("age") == 35
            assert _dicts(again) == _dicts(await rasa_store.retrieve("prospect-5"))

        run(scenario())

    def test_a_tracker_changed_after_its_last_save_is_not_served(self, store, rasa_store):
        async def scenario():
            tracker = await _first_turns(store, "prospect-13")
            _turn(tracker, "j'ai 99 ans", 99)  # changed by its holder, never saved
            again = await store.retrieve("prospect-13")
            assert again is not tracker
            assert again.get_slot("age") == 35

        run(scenario())

    def test_events_written_by_another_process_are_read(self, store, rasa_store, domain):
        async def scenario():
            kept = await _first_turns(store, "prospect-6")
            before = kept.past_states(domain)  # what the policies asked for in that turn
            # Another Rasa process (here Rasa's own store) adds a turn to the conversation.
            elsewhere = await rasa_store.retrieve("prospect-6")
            _turn(elsewhere, "j'ai 50 ans", 50)
            await rasa_store.save(elsewhere)
            tracker = await store.retrieve("prospect-6")
            assert tracker.get_slot("age") == 50
            assert _dicts(tracker) == _dicts(elsewhere)
            # The kept tracker, extended by the new rows: what it derived stays and grows.
            assert tracker is kept
            assert tracker.past_states(domain)[: len(before) - 1] == before[:-1]
            assert tracker.past_states(domain) == elsewhere.past_states(domain)
            assert tracker.applied_events() == elsewhere.applied_events()

        run(scenario())

    def test_rows_removed_elsewhere_make_it_read_everything(self, store, rasa_store, database_url):
        async def scenario():
            kept = await _first_turns(store, "prospect-14")
            elsewhere = await rasa_store.retrieve("prospect-14")
            _turn(elsewhere, "j'ai 50 ans", 50)
            await rasa_store.save(elsewhere)
            engine = sa.create_engine(database_url)
            with engine.begin() as connection:  # the first row goes, as a partial erasure would
                connection.execute(
                    sa.text(
                        "DELETE FROM events WHERE id = (SELECT min(id) FROM events "
                        "WHERE sender_id = 'prospect-14')"
                    )
                )
            engine.dispose()
            tracker = await store.retrieve("prospect-14")
            assert tracker is not kept
            assert _dicts(tracker) == _dicts(await rasa_store.retrieve("prospect-14"))

        run(scenario())

    def test_a_session_started_elsewhere_is_read_as_rasa_reads_it(self, store, rasa_store):
        async def scenario():
            kept = await _first_turns(store, "prospect-15")
            elsewhere = await rasa_store.retrieve("prospect-15")
            for event in (
                ActionExecuted("action_session_start"),
                SessionStarted(),
                ActionExecuted("action_listen"),
            ):
                elsewhere.update(event)
            _turn(elsewhere, "bonjour")
            await rasa_store.save(elsewhere)
            tracker = await store.retrieve("prospect-15")
            assert tracker is not kept
            assert _dicts(tracker) == _dicts(await rasa_store.retrieve("prospect-15"))

        run(scenario())

    def test_a_consent_refused_elsewhere_brings_the_redacted_texts(
        self, store, rasa_store, database_url, domain
    ):
        other_replica = CachingSQLTrackerStore(domain, _dialect(database_url), host=database_url)

        async def scenario():
            kept = await _first_turns(store, "prospect-16")
            elsewhere = await other_replica.retrieve("prospect-16")
            elsewhere.update(SlotSet("consent", False))
            _turn(elsewhere, "non merci")
            await other_replica.save(elsewhere)  # redacts the stored texts of the session
            tracker = await store.retrieve("prospect-16")
            assert tracker is not kept
            assert "j'ai 35 ans" not in [
                event.text for event in tracker.events if isinstance(event, UserUttered)
            ]
            assert _dicts(tracker) == _dicts(await rasa_store.retrieve("prospect-16"))

        run(scenario())

    def test_an_erased_conversation_is_not_served_from_memory(self, store, database_url):
        async def scenario():
            await _first_turns(store, "prospect-7")
            engine = sa.create_engine(database_url)
            with engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'prospect-7'"))
            engine.dispose()
            assert await store.retrieve("prospect-7") is None

        run(scenario())

    def test_a_conversation_saved_twice_in_a_turn_stays_kept(self, store):
        async def scenario():
            tracker = await _first_turns(store, "prospect-8")
            tracker = await store.retrieve("prospect-8")
            _turn(tracker, "je suis locataire")
            await store.save(tracker)
            tracker.update(ActionExecuted("action_listen"))  # the rest of the same turn
            await store.save(tracker)
            assert await store.retrieve("prospect-8") is tracker

        run(scenario())

    def test_a_new_session_is_read_back_from_the_rows(self, store, rasa_store):
        async def scenario():
            tracker = await _first_turns(store, "prospect-9")
            tracker = await store.retrieve("prospect-9")
            tracker.update(ActionExecuted("action_session_start"))
            tracker.update(SessionStarted())
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            again = await store.retrieve("prospect-9")
            assert again is not tracker
            assert _dicts(again) == _dicts(await rasa_store.retrieve("prospect-9"))

        run(scenario())

    def test_memory_is_bounded(self, database_url, domain):
        store = CachingSQLTrackerStore(
            domain, _dialect(database_url), host=database_url, cache_size="2"
        )

        async def scenario():
            kept = {sender: await _first_turns(store, sender) for sender in ("a", "b", "c")}
            assert await store.retrieve("a") is not kept["a"]  # the oldest went out
            assert await store.retrieve("c") is kept["c"]

        run(scenario())

    def test_an_idle_conversation_is_read_again(self, database_url, domain):
        store = CachingSQLTrackerStore(
            domain, _dialect(database_url), host=database_url, cache_ttl_s="0"
        )

        async def scenario():
            tracker = await _first_turns(store, "prospect-10")
            assert await store.retrieve("prospect-10") is not tracker

        run(scenario())

    @pytest.mark.parametrize(
        "settings",
        [
            {"cache_size": -1},
            {"cache_ttl_s": "-5"},
            {"cache_size": "beaucoup"},
            {"cache_ttl_s": ""},
        ],
    )
    def test_invalid_settings_are_refused(self, settings, database_url, domain):
        with pytest.raises(ValueError, match="must be numbers and must not be negative"):
            CachingSQLTrackerStore(domain, _dialect(database_url), host=database_url, **settings)


class TestTwoLiveReplicas:
    """Two Rasa servers on one database, each with its own memory, turns alternating between
    them (the replicas of a deployment; tests/integration/test_replicas.py runs the real ones)."""

    def test_each_replica_reads_the_turns_the_other_wrote(
        self, store, rasa_store, database_url, domain
    ):
        other = CachingSQLTrackerStore(domain, _dialect(database_url), host=database_url)

        async def scenario():
            sender = "prospect-14"
            kept_by = {"A": await _first_turns(store, sender)}
            for turn, (name, replica) in enumerate([("B", other), ("A", store)] * 2):
                tracker = await replica.retrieve(sender)
                # Its own copy is behind (the other replica wrote a turn since it saved it):
                # extended by the rows written since, it reads as the database does.
                if name in kept_by:
                    assert tracker is kept_by[name]
                assert _dicts(tracker) == _dicts(await rasa_store.retrieve(sender))
                _turn(tracker, f"en fait j'ai {40 + turn} ans", 40 + turn)
                await replica.save(tracker)
                kept_by[name] = tracker
            final = await store.retrieve(sender)
            assert final is kept_by["A"]  # A wrote last: its own copy is still the truth
            assert final.get_slot("age") == 43
            assert _dicts(final) == _dicts(await rasa_store.retrieve(sender))
            assert [e.text for e in final.events if isinstance(e, UserUttered)] == [
                "j'ai 35 ans",
                *(f"en fait j'ai {age} ans" for age in range(40, 44)),
            ]

        run(scenario())


class _RecordingBroker(EventBroker):
    """Keeps what would be published (no message broker runs in the tests)."""

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


def test_the_event_broker_gets_each_event_once(tmp_path, domain):
    broker = _RecordingBroker()
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = CachingSQLTrackerStore(domain, "sqlite", host=url, event_broker=broker)

    async def scenario():
        tracker = await _first_turns(store, "prospect-11")
        return [event.as_dict() for event in tracker.events]

    events = run(scenario())
    assert [
        {key: value for key, value in body.items() if key != "sender_id"}
        for body in broker.published
    ] == events
    assert {body["sender_id"] for body in broker.published} == {"prospect-11"}


def test_endpoints_yml_selects_this_store(tmp_path, monkeypatch, domain):
    # Rasa silently falls back to an in-memory store when the class cannot be imported.
    monkeypatch.setenv("RASA_ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("RASA_TRACKER_DIALECT", "sqlite")
    monkeypatch.setenv("RASA_TRACKER_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    for name in ("TYPE", "HOST", "PORT", "DB", "PASSWORD"):
        monkeypatch.setenv(f"RASA_LOCK_STORE_{name}", "")
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")
    store = create_tracker_store(config, domain)
    inner = getattr(store, "_tracker_store", store)  # Rasa wraps it in a fail-safe store
    assert isinstance(inner, CachingSQLTrackerStore)
    assert (inner.cache_size, inner.cache_ttl_s) == (500, 900.0)


def test_events_read_back_are_rasas_own_classes(store, database_url, domain):
    # Another store on the same database (a restarted server) reads the rows themselves.
    restarted = CachingSQLTrackerStore(domain, _dialect(database_url), host=database_url)

    async def scenario():
        tracker = await _first_turns(store, "prospect-12")
        return tracker, await restarted.retrieve("prospect-12")

    written, read = run(scenario())
    assert read is not written
    assert [type(event) for event in read.events] == [type(event) for event in written.events]
    assert all(isinstance(event, Event) for event in read.events)


class TestConsentRefused:
    """A refusal removes the texts of the conversation from every row (bot/redaction.py)."""

    @staticmethod
    def _texts(tracker: DialogueStateTracker | None) -> list[str]:
        assert tracker is not None
        return [
            str(event.text)
            for event in tracker.events
            if isinstance(event, (UserUttered, BotUttered))
        ]

    def test_a_refusal_redacts_what_was_said_before_and_after(self, store, rasa_store):
        sender = "rest:refuse"
        tracker = run(_first_turns(store, sender))  # "j'ai 35 ans", stored before the refusal
        tracker.update(
            UserUttered(
                "non, je suis sous tutelle et je refuse",
                {"name": "refuse_consent", "confidence": 0.9},
                [{"entity": "legal_protection", "value": "tutelle", "start": 15, "end": 22}],
            )
        )
        tracker.update(SlotSet("consent", False))
        tracker.update(BotUttered("Vous êtes sous tutelle : un conseiller vous accompagnera."))
        run(store.save(tracker))

        from_rows = run(rasa_store.retrieve(sender))
        assert set(self._texts(from_rows)) == {REDACTED}
        said = [e for e in from_rows.events if isinstance(e, UserUttered)][-1]
        assert said.intent["name"] == "refuse_consent"  # what the policies read is kept
        assert said.entities == [{"entity": "legal_protection"}]
        assert "tutelle" not in str([e.as_dict() for e in from_rows.events])
        # the tracker kept in memory matches the rows
        assert _dicts(run(store.retrieve(sender))) == _dicts(from_rows)

        kept = run(store.retrieve(sender))
        _turn(kept, "mon numéro est le 06 12 34 56 78")
        run(store.save(kept))
        assert set(self._texts(run(rasa_store.retrieve(sender)))) == {REDACTED}

    def test_nothing_is_redacted_with_consent(self, store, rasa_store):
        sender = "rest:consent"
        tracker = run(_first_turns(store, sender))
        tracker.update(SlotSet("consent", True))
        run(store.save(tracker))
        assert "j'ai 35 ans" in self._texts(run(rasa_store.retrieve(sender)))
