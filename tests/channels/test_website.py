"""The widget's socket.io channel on a real Sanic server, with a real socket.io client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from channels.website import WidgetSocketIOInput, widget_event
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


async def conversation(session_id: Any, text: str = "Bonjour") -> tuple[str, list[dict[str, Any]]]:
    channel = WidgetSocketIOInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        }
    )
    received: list[dict[str, Any]] = []
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    async with serving(channel, processor) as url:
        client = socketio.AsyncClient()
        client.on("session_confirm", lambda sid: confirmed.set_result(sid))
        client.on("bot_uttered", lambda data: received.append(data))
        # polling: the Rasa env's aiohttp is too old for python-engineio's websocket client
        await client.connect(url, socketio_path="/socket.io", transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": session_id})
            session = await asyncio.wait_for(confirmed, 10)
            await client.emit("user_uttered", {"message": text, "session_id": session})
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # nothing else should follow
        finally:
            # abort: a clean disconnect waits for the pending long poll (up to the 25 s ping)
            await client.eio.disconnect(abort=True)
    return session, received


class TestWidgetChannel:
    def test_each_bot_message_arrives_whole_in_the_session_room(self) -> None:
        session, received = asyncio.run(conversation("a1b2c3d4e5f6a7b8"))
        assert session == "a1b2c3d4e5f6a7b8"
        assert len(received) == 1, "the reply reached the room once, in one event"
        event = received[0]
        assert event["text"] == "Vous avez dit : Bonjour\n\nDeuxième paragraphe"
        assert event["buttons"] == [{"title": "Oui", "payload": "/affirm"}]
        assert event["custom"] == ANSWER
        assert len(event["id"]) == 32

    def test_an_answer_is_one_event_holding_its_text_and_payload(self) -> None:
        _, received = asyncio.run(
            conversation("a1b2c3d4e5f6a7b8", "Quel est le délai de renonciation ?")
        )
        assert [(event.get("text"), event.get("custom")) for event in received] == [
            ("30 jours.\n\nSource : cg.pdf, page 3", ANSWER),
            ("Quel âge avez-vous ?", None),
        ]

    @pytest.mark.parametrize("requested", ["../etc", "x" * 200, 42, None, ""])
    def test_a_session_id_that_is_not_a_token_gets_a_new_one(self, requested: Any) -> None:
        session, received = asyncio.run(conversation(requested))
        assert session != requested
        assert len(session) == 32
        assert received, "the new session still gets its replies"


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
