"""The website widget's socket.io channel: Rasa's, with one event per bot message.

Rasa's socket.io output splits texts on blank lines, sends buttons as a separate message and emits
a `custom` payload as keyword arguments (so an `answer` payload with a `text` key cannot be sent at
all). The widget needs each bot message whole, with an id its rating can refer to:

    {"id": "…", "text": "…", "buttons": [{"title", "payload"}], "custom": {"type": "answer", …}}

An answer or a recommendation is one event: the text the action sends first and the payload it
sends after are joined (`channels.joining`); the widget shows the payload.

It also makes the session safe to resume. A conversation is the session id the server confirms
(`session_request` → `session_confirm`): 32 hexadecimal characters, drawn at random by the
server (uuid4) or by the widget (crypto.randomUUID); anything else is replaced by a new random
id, so an id is never short or guessable. The socket is bound to that session on the server:
the sender of its messages is the session it was confirmed, never a `session_id` the message
names, so a client cannot speak in a conversation whose id it does not hold (Rasa took the session
id from each message). The tracker key is `website:<session id>`. Rasa 3.6 also called
python-socketio's `enter_room` without awaiting it (a coroutine since python-socketio 5.x), so
with `session_persistence` the replies reached nobody; here it is awaited.

Origins: a browser page may open the socket only from the origins in SOCKETIO_ALLOWED_ORIGINS
(comma-separated, e.g. `https://www.vergemont.fr,https://vergemont.fr`), or, when it is not set,
from the Rasa server's own origin only; Rasa allowed every origin. `*` is refused.

When a turn brings no bot message (the action server is down, an action failed), the widget gets
the French apology of every channel (`channels.base.TECHNICAL_PROBLEM`).

Answer drafts: with ANSWER_DRAFTS_URL set (Redis), the channel relays the checked sentences
of an answer still being written (common/drafts.py) to the conversation's room as
`answer_draft` events, {"turn", "index", "text"}; the widget shows them until the final
message arrives. Only website conversations with a valid session id get them.

Same settings as Rasa's `socketio` channel (user_message_evt, bot_message_evt,
session_persistence, socketio_path, metadata_key) and the same socket.io path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.base import (
    TECHNICAL_PROBLEM,
    OnNewMessage,
    answered_or_apologised,
    as_typed,
    namespaced,
    too_long,
    without_namespace,
)
from channels.joining import MessageJoiner
from common.drafts import (
    WIDGET_NAMESPACE,
    Draft,
    drafts_settings_from_environment,
    relay_drafts,
)

logger = logging.getLogger(__name__)

NAMESPACE = WIDGET_NAMESPACE
DRAFT_EVENT = "answer_draft"
ORIGINS_VARIABLE = "SOCKETIO_ALLOWED_ORIGINS"
# 128 random bits in hexadecimal, as uuid4().hex and the widget's crypto.randomUUID() give.
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


def new_session_id() -> str:
    """A session id nobody can guess: 122 random bits from the OS generator (uuid4)."""
    return uuid.uuid4().hex


def allowed_origins(value: str | None) -> list[str] | None:
    """The origins of SOCKETIO_ALLOWED_ORIGINS, or None (the server's own origin only) when it
    is empty. `*` and what is not a `scheme://host[:port]` origin are left out, with a warning."""
    origins: list[str] = []
    for item in (value or "").split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if (
            origin == "*"
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
        ):
            logger.warning(
                "%s: %r is not an origin (scheme://host[:port]): ignored", ORIGINS_VARIABLE, item
            )
            continue
        origins.append(origin)
    return origins or None


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
        self.delivered = 0

    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.joiner.push(recipient_id, message)

    async def deliver(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Send one bot message to the session's room (`recipient_id`: the tracker key)."""
        event = widget_event(message)
        if event is not None:
            await self._send_message(without_namespace(NAMESPACE, recipient_id), event)
            self.delivered += 1


class WidgetSocketIOInput(SocketIOInput):
    allowed_origins: list[str] | None = None

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        if not isinstance(channel, WidgetSocketIOInput):  # pragma: no cover - Rasa builds cls
            raise TypeError("the socket.io channel was not built by its own class")
        channel.allowed_origins = allowed_origins(os.environ.get(ORIGINS_VARIABLE))
        return channel

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return WidgetOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        if sio is None:  # pragma: no cover - set by Rasa's blueprint()
            raise RuntimeError("the socket.io server was not created")
        # Rasa turns the origin check off ([]); None is the server's own origin only.
        sio.eio.cors_allowed_origins = self.allowed_origins
        persistent = self.session_persistence
        # The session each connected socket was confirmed (socket id → session id).
        sessions: dict[str, str] = {}

        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = (
                requested
                if isinstance(requested, str) and SESSION_ID.fullmatch(requested)
                else new_session_id()
            )
            if persistent:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
                sessions[sid] = session_id
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: Any) -> None:
            session_id = sessions.get(sid) if persistent else sid
            if session_id is None:
                logger.warning("socket.io message before its session was confirmed: ignored")
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):
                logger.warning("socket.io message without a text: ignored")
                return
            metadata = data.get(self.metadata_key) if self.metadata_key else None
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = None
            output = WidgetOutput(sio, self.bot_message_evt)
            conversation_id = namespaced(NAMESPACE, session_id)
            refusal = too_long(text)
            if refusal is not None:
                await output.deliver(conversation_id, {"text": refusal})
                return
            message = UserMessage(
                as_typed(text),
                output,
                conversation_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )

            async def turn() -> Any:
                async with output.joiner.turn():
                    return await on_new_message(message)

            async def apologise() -> None:
                await output.deliver(conversation_id, {"text": TECHNICAL_PROBLEM})

            try:
                await answered_or_apologised(
                    turn, lambda: output.delivered > 0, apologise, "website"
                )
            except Exception:
                logger.exception("website channel: the turn failed")

        async def disconnect(sid: str, *_: Any) -> None:
            sessions.pop(sid, None)

        async def deliver_draft(draft: Draft) -> None:
            if not draft.conversation.startswith(f"{NAMESPACE}:"):
                return
            session_id = without_namespace(NAMESPACE, draft.conversation)
            if not SESSION_ID.fullmatch(session_id):
                return
            event = {"turn": draft.turn, "index": draft.index, "text": draft.text}
            await sio.emit(DRAFT_EVENT, event, room=session_id, namespace=self.namespace)

        drafts_url, drafts_password = drafts_settings_from_environment()
        if drafts_url and persistent:
            relays: list[asyncio.Task[None]] = []

            @blueprint.listener("after_server_start")
            async def start_drafts(_: Any, __: Any) -> None:
                relay = relay_drafts(drafts_url, drafts_password, deliver_draft)
                relays.append(asyncio.get_running_loop().create_task(relay))

            @blueprint.listener("before_server_stop")
            async def stop_drafts(_: Any, __: Any) -> None:
                for relay_task in relays:
                    relay_task.cancel()

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        sio.on("disconnect", disconnect, namespace=self.namespace)
        return blueprint
