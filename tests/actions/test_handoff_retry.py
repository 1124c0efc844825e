"""A handoff while the lead store is down: quick retries within the turn, then the request kept in
the spool (the person told it is recorded, without a reference), and handed to the store once it
is back, as one lead."""

import asyncio
import json
import logging
import stat
import threading
import time
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from actions.handoff import ActionHandOff
from actions.handoff_spool import HandoffSpool
from actions.serving import flush_handoff_spool
from advisor.database import open_engine
from advisor.handoff import HandoffReceipt, HandoffRequest, HandoffUnavailableError
from advisor.service import SqlHandoffService, open_handoff_service
from tests.actions.conftest import FakeHandoffService, tracker
from tests.actions.test_handoff import HISTORY, READY

pytestmark = pytest.mark.unit

SENDER = "whatsapp:+33612345678"


class FlakyService:
    """A lead store that is down (`HandoffUnavailableError`) until `up` is set."""

    def __init__(self) -> None:
        self.up = False
        self.calls = 0
        self.stored: list[HandoffRequest] = []

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        self.calls += 1
        if not self.up:
            raise HandoffUnavailableError("lead store down")
        self.stored.append(request)
        return HandoffReceipt(lead_reference="VG-BACK01", created=True)


class HangingService:
    """A lead store whose connection hangs (a black-holed database)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        time.sleep(self.seconds)
        raise HandoffUnavailableError("timed out")


def conversation(sender: str = SENDER) -> Tracker:
    return tracker(READY, "", None, events=HISTORY, sender_id=sender)


def hand_off(sender: str = SENDER) -> tuple[list, list[str]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandOff().run(dispatcher, conversation(sender), {}))
    return events, [message["text"] for message in dispatcher.messages]


@pytest.fixture
def spool(services, tmp_path: Path) -> HandoffSpool:
    services.spool = HandoffSpool(tmp_path / "spool")
    return services.spool


class TestStoreDownAtHandoff:
    def test_the_person_is_told_the_request_is_recorded_without_a_reference(self, services, spool):
        services.advisor = FlakyService()
        events, [said] = hand_off()
        assert events == []
        assert "votre demande est bien enregistrée" in said
        assert "dès que possible" in said
        assert "demain matin" in said  # when the advisor will call
        assert "VG-" not in said
        assert "réessayez" not in said
        [path] = spool.pending()
        request = HandoffRequest.model_validate(json.loads(path.read_bytes())["request"])
        assert request.conversation_id == SENDER
        assert request.contact.email == "camille.martin@exemple.fr"
        assert [turn.speaker for turn in request.transcript] == ["user", "bot", "user"]

    def test_the_spooled_request_reaches_the_store_once_it_is_back(self, services, spool):
        store = FlakyService()
        services.advisor = store
        hand_off()
        assert spool.flush(store).waiting == 1  # still down: kept
        assert len(spool.pending()) == 1

        store.up = True
        report = spool.flush(store)
        assert (report.stored, report.waiting) == (1, 0)
        assert spool.pending() == []
        [stored] = store.stored
        assert stored.contact.name == "Camille Martin"

    def test_a_hanging_store_does_not_hold_the_turn(self, services, spool):
        services.advisor = HangingService(seconds=2)
        services.handoff_timeout_s = 0.3
        dispatcher = CollectingDispatcher()

        async def turn() -> float:
            started = time.monotonic()
            await ActionHandOff().run(dispatcher, conversation(), {})
            return time.monotonic() - started

        # (asyncio.run then waits for the hanging thread; a server's loop does not.)
        assert asyncio.run(turn()) < 1.0
        [said] = [message["text"] for message in dispatcher.messages]
        assert "bien enregistrée" in said
        assert len(spool.pending()) == 1

    def test_without_a_writable_spool_the_person_is_asked_to_retry(self, services, tmp_path: Path):
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("")
        services.spool = HandoffSpool(blocked / "spool")
        services.advisor = FakeHandoffService(fail=True)
        events, [said] = hand_off()
        assert events == []
        assert "réessayez" in said
        assert "bien enregistrée" not in said

    def test_logs_hold_neither_the_phone_nor_the_email(self, services, spool, caplog):
        store = FlakyService()
        services.advisor = store
        with caplog.at_level(logging.DEBUG):
            hand_off()
            store.up = True
            spool.flush(store)
        assert caplog.text
        for secret in ("612345678", "camille.martin@exemple.fr", "06 12 34 56 78", "Camille"):
            assert secret not in caplog.text


class TestSpoolFiles:
    def test_a_request_is_written_whole_and_readable_by_its_owner_only(self, services, spool):
        services.advisor = FlakyService()
        hand_off()
        [path] = spool.pending()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(spool.directory.stat().st_mode) == 0o700
        assert [p.name for p in spool.directory.iterdir()] == [path.name]  # no temporary left
        assert "612345678" not in path.name

    def test_an_unreadable_file_is_set_aside_for_an_operator(self, spool):
        spool.directory.mkdir()
        (spool.directory / "00000000000000000001-broken.json").write_text("{not json")
        store = FlakyService()
        store.up = True
        assert spool.flush(store).rejected == 1
        assert spool.pending() == []
        assert [p.name for p in (spool.directory / "rejected").iterdir()] == [
            "00000000000000000001-broken.json"
        ]
        assert store.calls == 0

    def test_two_flushes_at_once_hand_each_request_over_once(self, services, spool):
        services.advisor = FlakyService()
        for n in range(5):
            hand_off(f"rest:conversation-{n}")

        class SlowStore(FlakyService):
            def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
                time.sleep(0.05)
                return super().hand_off(request)

        store = SlowStore()
        store.up = True
        threads = [threading.Thread(target=spool.flush, args=(store,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(r.conversation_id for r in store.stored) == [
            f"rest:conversation-{n}" for n in range(5)
        ]
        assert spool.pending() == []


class TestBackgroundFlush:
    def test_the_action_server_task_flushes_the_spool_by_itself(self, services, spool):
        store = FlakyService()
        services.advisor = store
        hand_off()
        store.up = True

        async def scenario() -> None:
            task = asyncio.create_task(flush_handoff_spool(0.05))
            try:
                for _ in range(100):
                    await asyncio.sleep(0.05)
                    if not spool.pending():
                        return
            finally:
                task.cancel()

        asyncio.run(scenario())
        assert spool.pending() == []
        assert len(store.stored) == 1


def leads(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT conversation_id, contact_name FROM advisor_leads")
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        engine.dispose()


class TestNoDuplicateLead:
    def test_a_request_spooled_twice_and_one_stored_meanwhile_make_one_lead(
        self, services, spool, tmp_path: Path
    ):
        url = f"sqlite:///{tmp_path / 'advisor.db'}"
        services.advisor = FlakyService()
        hand_off()
        hand_off()  # the person asked again while the store was still down
        service = open_handoff_service(url)
        try:
            services.advisor = service
            hand_off()  # and once more after it came back: stored at once
            report = spool.flush(service)
        finally:
            service.close()
        assert report.stored == 2
        assert leads(url) == [(SENDER, "Camille Martin")]

    def test_in_turn_retries_ride_out_a_short_outage(self, services, spool, tmp_path: Path):
        url = f"sqlite:///{tmp_path / 'advisor.db'}"
        service = SqlHandoffService(open_engine(url), attempts=3, backoff_s=0.05)
        store_hand_off = service.store.hand_off
        failures = iter([True, True])  # the first two attempts find the database gone

        def flaky(request: HandoffRequest) -> HandoffReceipt:
            if next(failures, False):
                raise OperationalError("INSERT", {}, ConnectionRefusedError("refused"))
            return store_hand_off(request)

        service.store.hand_off = flaky  # type: ignore[method-assign]
        services.advisor = service
        try:
            events, [said] = hand_off()
        finally:
            service.close()
        [event] = events
        assert event["value"] in said
        assert spool.pending() == []
        assert leads(url) == [(SENDER, "Camille Martin")]
