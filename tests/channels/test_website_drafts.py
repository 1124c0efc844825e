"""The website channel relays answer drafts (common/drafts.py) from the real Redis to the right
socket.io room, and only there."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from channels.website import DRAFT_EVENT, WidgetSocketIOInput
from common.drafts import CHANNEL, URL_VARIABLE, Draft, DraftPublisher
from tests.channels.sanic_server import serving
from tests.channels.test_website import OTHER_SESSION, SESSION, WIDGET_SETTINGS, WidgetClient
from tests.services import require_service

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


async def silent(message: UserMessage) -> None:
    """A turn that sends nothing (the drafts come from the side channel)."""


def subscribers() -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(dict(client.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0))
    finally:
        client.close()


async def subscribers_while_serving(settings: dict[str, Any]) -> int:
    """The drafts channel's subscribers half a second after a channel started serving."""
    channel = WidgetSocketIOInput.from_credentials(settings)
    async with serving(channel, silent):
        await asyncio.sleep(0.5)
        return subscribers()


async def drafts_received(
    publish: list[Draft], settings: dict[str, Any] = WIDGET_SETTINGS
) -> list[dict[str, Any]]:
    """Serve the channel, open the widget's session SESSION, publish `publish`, and return the
    drafts the widget received."""
    before = subscribers()
    channel = WidgetSocketIOInput.from_credentials(settings)
    async with serving(channel, silent) as url, WidgetClient(url) as widget:
        received: list[dict[str, Any]] = []
        widget.client.on(DRAFT_EVENT, received.append)
        assert await widget.session(SESSION) == SESSION
        for _ in range(200):  # the relay subscribes once the server has started
            if subscribers() > before:
                break
            await asyncio.sleep(0.05)
        publisher = DraftPublisher(REDIS_URL)
        for draft in publish:
            assert publisher.publish(draft)
        publisher.close()
        await asyncio.sleep(0.5)  # what is on its way arrives
        return received


class TestDraftRelay:
    @pytest.fixture(autouse=True)
    def _drafts_on(self, monkeypatch: pytest.MonkeyPatch) -> None:
        require_service("Redis", 6379)
        monkeypatch.setenv(URL_VARIABLE, REDIS_URL)

    def test_only_the_sessions_own_drafts_reach_it_in_order(self) -> None:
        published = [
            Draft(f"website:{SESSION}", "turn-1", 0, "Trois jours en cas d'accident."),
            Draft(f"website:{OTHER_SESSION}", "turn-9", 0, "Pas pour vous."),
            Draft(f"telegram:{SESSION}", "turn-9", 0, "Un autre canal."),
            Draft("website:../../etc", "turn-9", 0, "Pas une session."),
            Draft(f"website:{SESSION}", "turn-1", 1, "Quarante-cinq jours en cas de maladie."),
        ]
        received = asyncio.run(drafts_received(published))
        assert received == [
            {"turn": "turn-1", "index": 0, "text": "Trois jours en cas d'accident."},
            {"turn": "turn-1", "index": 1, "text": "Quarante-cinq jours en cas de maladie."},
        ]

    def test_without_session_persistence_there_is_no_room_and_no_relay(self) -> None:
        before = subscribers()
        settings = {**WIDGET_SETTINGS, "session_persistence": False}
        assert asyncio.run(subscribers_while_serving(settings)) == before


def test_without_the_variable_the_channel_does_not_subscribe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_service("Redis", 6379)
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    before = subscribers()
    assert asyncio.run(subscribers_while_serving(WIDGET_SETTINGS)) == before
