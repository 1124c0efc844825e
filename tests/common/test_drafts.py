"""The answer drafts' side channel (common/drafts.py) against the real Redis of the session."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from common.drafts import CHANNEL, MAX_DRAFT_CHARS, Draft, DraftPublisher, relay_drafts
from tests.services import free_port, require_service

# The async tests run in asyncio through anyio's pytest plugin.
pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REDIS_URL = "redis://127.0.0.1:6379/0"
TOO_LONG = "x" * (MAX_DRAFT_CHARS + 1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _redis() -> None:
    require_service("Redis", 6379)


def conversation() -> str:
    return f"website:{uuid.uuid4().hex}"


class Relay:
    """`relay_drafts` running in the test's event loop, keeping what it delivers for one
    conversation (other tests may publish on the same channel at the same time)."""

    def __init__(self, conversation_id: str, url: str = REDIS_URL, retry_s: float = 0.1) -> None:
        self.conversation_id = conversation_id
        self.url = url
        self.retry_s = retry_s
        self.received: list[Draft] = []
        self.subscriptions = 0
        self.fail_first = False

    async def deliver(self, draft: Draft) -> None:
        if draft.conversation != self.conversation_id:
            return
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("the socket.io server failed")
        self.received.append(draft)

    def subscribed(self) -> None:
        self.subscriptions += 1

    async def until(self, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not condition():
            assert loop.time() < deadline, "the relay did not get there in time"
            await asyncio.sleep(0.01)


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    running = Relay(conversation())
    task = asyncio.create_task(
        relay_drafts(
            running.url, None, running.deliver, running.retry_s, on_subscribed=running.subscribed
        )
    )
    await running.until(lambda: running.subscriptions == 1)
    yield running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class TestDraft:
    def test_round_trips_through_json(self) -> None:
        draft = Draft("website:abc", "turn-1", 2, "Le délai est de 3 jours « accident ».")
        assert Draft.from_json(draft.to_json()) == draft
        assert Draft.from_json(draft.to_json().encode()) == draft

    @pytest.mark.parametrize(
        "raw",
        [
            "not json",
            "[1, 2]",
            json.dumps({"conversation": "website:a", "turn": "t", "index": True, "text": "x"}),
            json.dumps({"conversation": "website:a", "turn": "t", "index": -1, "text": "x"}),
            json.dumps({"conversation": "website:a", "turn": "t", "index": 0, "text": ""}),
            json.dumps({"conversation": "", "turn": "t", "index": 0, "text": "x"}),
            json.dumps({"conversation": "website:a", "turn": 3, "index": 0, "text": "x"}),
            json.dumps({"conversation": "w:a", "turn": "t", "index": 0, "text": TOO_LONG}),
        ],
    )
    def test_anything_else_is_refused_with_a_log_line(
        self, raw: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="common.drafts"):
            assert Draft.from_json(raw) is None
        assert "answer draft ignored" in caplog.text


class TestPublishAndRelay:
    async def test_a_sinks_sentences_reach_the_relay_numbered_in_order(self, relay: Relay) -> None:
        publisher = DraftPublisher(REDIS_URL)
        send = publisher.sink(relay.conversation_id, "turn-7")
        for sentence in ("Trois jours pour un accident.", "  ", "Quarante-cinq jours sinon."):
            await asyncio.to_thread(send, sentence)
        send("x" * (MAX_DRAFT_CHARS + 1))  # not a sentence: dropped
        await relay.until(lambda: len(relay.received) == 2)
        assert relay.received == [
            Draft(relay.conversation_id, "turn-7", 0, "Trois jours pour un accident."),
            Draft(relay.conversation_id, "turn-7", 1, "Quarante-cinq jours sinon."),
        ]
        publisher.close()

    async def test_a_malformed_message_or_a_failed_delivery_does_not_stop_the_relay(
        self, relay: Relay
    ) -> None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.publish(CHANNEL, b"\xff not a draft")
        client.publish(CHANNEL, json.dumps({"conversation": relay.conversation_id}))
        client.close()
        publisher = DraftPublisher(REDIS_URL)
        relay.fail_first = True
        publisher.publish(Draft(relay.conversation_id, "t", 0, "Perdue."))
        publisher.publish(Draft(relay.conversation_id, "t", 1, "Reçue."))
        await relay.until(lambda: len(relay.received) == 1)
        assert [draft.text for draft in relay.received] == ["Reçue."]
        publisher.close()

    async def test_the_relay_subscribes_again_after_losing_its_connection(
        self, relay: Relay
    ) -> None:
        import redis

        admin = redis.Redis.from_url(REDIS_URL)
        admin.client_kill_filter(_type="pubsub")
        admin.close()
        await relay.until(lambda: relay.subscriptions == 2)
        publisher = DraftPublisher(REDIS_URL)
        publisher.publish(Draft(relay.conversation_id, "t", 0, "Après la coupure."))
        await relay.until(lambda: len(relay.received) == 1)
        publisher.close()


class TestRedisDown:
    def test_the_publisher_fails_quietly_then_pauses(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        publisher = DraftPublisher(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
        attempts = 0
        publish = publisher._client.publish

        def counted(*args: object) -> object:
            nonlocal attempts
            attempts += 1
            return publish(*args)

        publisher._client.publish = counted  # type: ignore[method-assign]
        with caplog.at_level(logging.WARNING, logger="common.drafts"):
            send = publisher.sink("website:abc", "t")
            for _ in range(5):
                send("Une phrase.")  # never raises
        assert attempts == 1  # paused after the first failure: no timeout per sentence
        assert caplog.text.count("answer drafts paused") == 1

    async def test_the_relay_waits_for_redis_without_failing(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        delivered: list[Draft] = []

        async def deliver(draft: Draft) -> None:
            delivered.append(draft)

        url = f"redis://127.0.0.1:{free_port()}/0"
        with caplog.at_level(logging.WARNING, logger="common.drafts"):
            task = asyncio.create_task(relay_drafts(url, None, deliver, retry_s=0.05))
            await asyncio.sleep(0.5)  # several retries
            assert not task.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert caplog.text.count("answer drafts off until Redis is reachable") == 1
        assert delivered == []
