"""The website widget's socket.io channel: Rasa's, with one event per bot message.

Rasa's socket.io output splits texts on blank lines, sends buttons as a separate message and emits
a `custom` payload as keyword arguments (so an `answer` payload with a `text` key cannot be sent at
all). The widget needs each bot message whole, with an id its rating can refer to:

    {"id": "…", "text": "…", "buttons": [{"title", "payload"}], "custom": {"type": "answer", …}}

An answer or a recommendation is one event: the text the action sends first and the payload it
sends after are joined (`channels.joining`); the widget shows the payload.

It also fixes the session request: Rasa 3.6 calls python-socketio's `enter_room` without awaiting
it, and since python-socketio 5.x made it a coroutine the socket never joins the session's room, so
with `session_persistence` the replies reach nobody. Here it is awaited, and a session id that is
not a plain token is replaced by a new one.

Same settings as Rasa's `socketio` channel (user_message_evt, bot_message_evt,
session_persistence, socketio_path, …) and the same socket.io path.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.base import OnNewMessage
from channels.joining import MessageJoiner

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def widget_event(message: dict[str, Any]) -> dict[str, Any] | None:
    """The event the widget receives for one bot message, or None when there is nothing to show."""
    event: dict[str, Any] = {}
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        event["text"] = text
    buttons = message.get("buttons") or message.get("quick_replies") or []
    clean = [
        {"title": button["title"], "payload": button["payload"]}
        for button in buttons
        if isinstance(button, dict)
        and isinstance(button.get("title"), str)
        and isinstance(button.get("payload"), str)
    ]
    if clean:
        event["buttons"] = clean
    custom = message.get("custom")
    if isinstance(custom, dict) and custom:
        event["custom"] = custom
    for key in ("image", "attachment"):
        if message.get(key):
            event[key] = message[key]
    if not event:
        return None
    event["id"] = uuid.uuid4().hex
    return event


class WidgetOutput(SocketIOOutput):
    def __init__(self, sio: Any, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.joiner = MessageJoiner(self.deliver)

    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.joiner.push(recipient_id, message)

    async def deliver(self, recipient_id: str, message: dict[str, Any]) -> None:
        event = widget_event(message)
        if event is not None:
            await self._send_message(recipient_id, event)


class WidgetSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return WidgetOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        async def handle(message: UserMessage) -> Any:
            inner = message.output_channel
            if not isinstance(inner, SocketIOOutput):
                return await on_new_message(message)
            output = WidgetOutput(inner.sio, inner.bot_message_evt)
            message.output_channel = output
            async with output.joiner.turn():
                return await on_new_message(message)

        blueprint = super().blueprint(handle)
        sio = self.sio
        if sio is None:  # pragma: no cover - set by Rasa's blueprint()
            raise RuntimeError("the socket.io server was not created")
        persistent = self.session_persistence

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            valid = isinstance(requested, str) and SESSION_ID.fullmatch(requested)
            session_id = requested if valid else uuid.uuid4().hex
            if persistent:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        sio.on("session_request", session_request, namespace=self.namespace)
        return blueprint
