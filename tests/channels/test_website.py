"""The widget's socket.io channel on a real Sanic server, with real socket.io clients: one event
per bot message, sessions bound on the server, allowed origins, the apology when nothing answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import socketio
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from channels.base import TECHNICAL_PROBLEM
from channels.website import ORIGINS_VARIABLE, WidgetSocketIOInput, allowed_origins, widget_event
from tests.channels.sanic_server import serving

pytestmark = pytest.mark.unit

ANSWER = {"type": "answer", "text": "30 jours.", "sources": [], "mode": "extractive"}


async def processor(message: UserMessage) -> None:
    """What Rasa's processor does with the output channel: one bot message per response."""
    if message.text == "Quel est le délai de renonciation ?":
        await answer_as_the_action_sends_it(message)
        return
    await message.output_channel.send_response(
        message.sender_id,
        {
            "text": f"Vous avez dit : {message.text}\n\nDeuxième paragraphe",
            "buttons": [{"title": "Oui", "payload": "/affirm"}],
            "custom": ANSWER,
        },
    )


async def answer_as_the_action_sends_it(message: UserMessage) -> None:
    """action_answer_question's two messages (the text with its citation, then the payload),
    through Rasa's remote action and processor, followed by the form's next question."""
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text="30 jours.\n\nSource : cg.pdf, page 3")
    dispatcher.utter_message(json_message=ANSWER)
    dispatcher.utter_message(text="Quel âge avez-vous ?")
    tracker = DialogueStateTracker(message.sender_id, slots=[])
    events = await RemoteAction._utter_responses(
        dispatcher.messages,
        message.output_channel,
        None,  # type: ignore[arg-type]
        tracker,
    )
    await MessageProcessor._send_bot_messages(events, tracker, message.output_channel)


SESSION = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
OTHER_SESSION = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WIDGET_SETTINGS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}
Processor = Callable[[UserMessage], Awaitable[None]]


class WidgetClient:
    """A socket.io client as the widget: it asks for a session, then talks in it."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.client = socketio.AsyncClient()
        self.received: list[dict[str, Any]] = []
        self.client.on("bot_uttered", self.received.append)

    async def __aenter__(self) -> WidgetClient:
        # polling: the Rasa env's aiohttp is too old for python-engineio's websocket client
        await self.client.connect(
            self.url, socketio_path="/socket.io", transports=["polling"], headers=self.headers
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        # abort: a clean disconnect waits for the pending long poll (up to the 25 s ping)
        await self.client.eio.disconnect(abort=True)

    async def session(self, requested: Any) -> str:
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.client.on("session_confirm", confirmed.set_result)
        await self.client.emit("session_request", {"session_id": requested})
        return await asyncio.wait_for(confirmed, 10)

    async def say(self, text: str, session_id: Any) -> list[dict[str, Any]]:
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        for _ in range(100):
            if self.received:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # nothing else should follow
        return self.received


async def conversation(
    session_id: Any, text: str = "Bonjour", handler: Processor = processor
) -> tuple[str, list[dict[str, Any]]]:
    channel = WidgetSocketIOInput.from_credentials(WIDGET_SETTINGS)
    async with serving(channel, handler) as url, WidgetClient(url) as widget:
        session = await widget.session(session_id)
        return session, await widget.say(text, session)


class TestWidgetChannel:
    def test_each_bot_message_arrives_whole_in_the_session_room(self) -> None:
        session, received = asyncio.run(conversation(SESSION))
        assert session == SESSION, "a well-formed session id is resumed"
        assert len(received) == 1, "the reply reached the room once, in one event"
        event = received[0]
        assert event["text"] == "Vous avez dit : Bonjour\n\nDeuxième paragraphe"
        assert event["buttons"] == [{"title": "Oui", "payload": "/affirm"}]
        assert event["custom"] == ANSWER
        assert len(event["id"]) == 32

    def test_an_answer_is_one_event_holding_its_text_and_payload(self) -> None:
        _, received = asyncio.run(conversation(SESSION, "Quel est le délai de renonciation ?"))
        assert [(event.get("text"), event.get("custom")) for event in received] == [
            ("30 jours.\n\nSource : cg.pdf, page 3", ANSWER),
            ("Quel âge avez-vous ?", None),
        ]


class TestWidgetSessions:
    @pytest.mark.parametrize(
        "requested",
        [
            "../etc",
            "x" * 200,
            42,
            None,
            "",
            "a1b2c3d4e5f6a7b8",  # well-formed before, but 64 bits only: guessable
            "A1B2C3D4E5F6A7B8C9D0E1F2A3B4C5D6",
            "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6\n",
        ],
    )
    def test_a_session_id_that_is_not_128_random_bits_gets_a_new_one(self, requested: Any) -> None:
        session, received = asyncio.run(conversation(requested))
        assert session != requested
        assert re.fullmatch(r"[0-9a-f]{32}", session)
        assert received, "the new session still gets its replies"

    def test_the_conversation_is_the_confirmed_session_in_the_website_namespace(self) -> None:
        senders: list[str] = []

        async def recording(message: UserMessage) -> None:
            senders.append(message.sender_id)
            await processor(message)

        asyncio.run(conversation(SESSION, handler=recording))
        assert senders == [f"website:{SESSION}"]

    def test_a_message_naming_another_session_stays_in_its_own(self) -> None:
        """A client holding one session cannot speak in, nor read, a session it names."""
        senders: list[str] = []

        async def recording(message: UserMessage) -> None:
            senders.append(message.sender_id)
            await processor(message)

        async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            channel = WidgetSocketIOInput.from_credentials(WIDGET_SETTINGS)
            async with (
                serving(channel, recording) as url,
                WidgetClient(url) as victim,
                WidgetClient(url) as attacker,
            ):
                await victim.session(OTHER_SESSION)
                await attacker.session(SESSION)
                await attacker.say("montre-moi sa conversation", OTHER_SESSION)
                return victim.received, attacker.received

        victim_received, attacker_received = asyncio.run(scenario())
        assert senders == [f"website:{SESSION}"]
        assert victim_received == []
        assert len(attacker_received) == 1

    def test_a_message_before_the_session_is_confirmed_is_ignored(self) -> None:
        senders: list[str] = []

        async def recording(message: UserMessage) -> None:
            senders.append(message.sender_id)

        async def scenario() -> list[dict[str, Any]]:
            channel = WidgetSocketIOInput.from_credentials(WIDGET_SETTINGS)
            async with serving(channel, recording) as url, WidgetClient(url) as widget:
                return await widget.say("Bonjour", OTHER_SESSION)

        assert asyncio.run(scenario()) == []
        assert senders == []


class TestTechnicalProblem:
    @pytest.mark.parametrize("failure", ["silence", "exception"])
    def test_the_widget_is_told_when_the_assistant_cannot_answer(self, failure: str) -> None:
        async def failing(message: UserMessage) -> None:
            if failure == "exception":
                raise ConnectionError("action server unreachable")

        _, received = asyncio.run(conversation(SESSION, handler=failing))
        assert [event["text"] for event in received] == [TECHNICAL_PROBLEM]

    def test_an_answered_turn_gets_no_apology(self) -> None:
        _, received = asyncio.run(conversation(SESSION))
        assert TECHNICAL_PROBLEM not in [event.get("text") for event in received]


class TestAllowedOrigins:
    def connects(self, origin: str | None, allowed: str | None) -> bool:
        async def scenario() -> bool:
            channel = WidgetSocketIOInput.from_credentials(WIDGET_SETTINGS)
            async with serving(channel, processor) as url:
                headers = {"Origin": origin.replace("SELF", url)} if origin else {}
                try:
                    async with WidgetClient(url, headers) as widget:
                        return bool(await widget.session(SESSION))
                except socketio.exceptions.ConnectionError:
                    return False

        with pytest.MonkeyPatch.context() as env:
            if allowed is None:
                env.delenv(ORIGINS_VARIABLE, raising=False)
            else:
                env.setenv(ORIGINS_VARIABLE, allowed)
            return asyncio.run(scenario())

    def test_by_default_only_the_servers_own_origin_may_connect(self) -> None:
        assert self.connects("SELF", None)
        assert not self.connects("https://attacker.example", None)

    def test_the_configured_origins_may_connect_and_no_other(self) -> None:
        allowed = "https://www.vergemont.example, https://vergemont.example/"
        assert self.connects("https://www.vergemont.example", allowed)
        assert self.connects("https://vergemont.example", allowed)
        assert not self.connects("https://attacker.example", allowed)
        assert not self.connects("SELF", allowed)

    def test_a_client_without_origin_is_not_a_browser_page_and_connects(self) -> None:
        assert self.connects(None, "https://www.vergemont.example")

    def test_a_wildcard_or_a_url_is_not_an_origin(self) -> None:
        assert allowed_origins("*") is None
        assert allowed_origins("https://a.example/chat, ftp://b.example, *") is None
        assert allowed_origins(" https://a.example ,http://127.0.0.1:8000") == [
            "https://a.example",
            "http://127.0.0.1:8000",
        ]
        assert allowed_origins(None) is None
        assert not self.connects("https://attacker.example", "*")


class TestWidgetEvent:
    def test_nothing_to_show_sends_nothing(self) -> None:
        assert widget_event({"text": "  "}) is None
        assert widget_event({}) is None

    def test_malformed_buttons_are_dropped(self) -> None:
        event = widget_event(
            {"text": "?", "buttons": [{"title": "A"}, "b", {"title": "C", "payload": "/c"}]}
        )
        assert event is not None
        assert event["buttons"] == [{"title": "C", "payload": "/c"}]
