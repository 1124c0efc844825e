"""One message per answer: the text an action sends and the payload it sends after, joined.

The actions send an answer or a recommendation as its text (what messaging apps show), then its
`custom` payload (what the widget shows) as a second bot message (docs/conversation.md, "Chat
messages"). Rasa hands a turn's bot messages to the output channel one after the other;
`MessageJoiner` holds a text back until the next message and, when that message is only the
payload repeating the text, sends the two as one, so that no channel shows an answer twice.

Standard library only (with `channels.formatting`): importable by the actions' tests as well as in
the Rasa environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from actions.messages import ANSWER_TYPE, RECOMMENDATIONS_TYPE
from channels.formatting import repeats_payload

Message = dict[str, Any]
Deliver = Callable[[str, Message], Awaitable[None]]


def _text_of(message: Mapping[str, Any]) -> str:
    text = message.get("text")
    return text.strip() if isinstance(text, str) else ""


def holds_text_only(message: Mapping[str, Any]) -> bool:
    """A text (with buttons or not) and nothing a payload could be joined to."""
    rich = ("custom", "image", "attachment", "elements")
    return bool(_text_of(message)) and not any(message.get(key) for key in rich)


def joined_message(
    text_message: Mapping[str, Any], next_message: Mapping[str, Any]
) -> Message | None:
    """The text message with the payload of `next_message`, when that message is only an `answer`
    or `recommendations` payload repeating the text; None otherwise."""
    custom = next_message.get("custom")
    if (
        not holds_text_only(text_message)
        or _text_of(next_message)
        or not isinstance(custom, dict)
        or custom.get("type") not in (ANSWER_TYPE, RECOMMENDATIONS_TYPE)
        or any(next_message.get(key) for key in ("image", "attachment", "elements"))
        or not repeats_payload(_text_of(text_message), custom)
    ):
        return None
    joined = dict(text_message)
    joined["custom"] = custom
    if not joined.get("buttons") and next_message.get("buttons"):
        joined["buttons"] = next_message["buttons"]
    return joined


class MessageJoiner:
    """Sends a turn's bot messages in order, one per answer.

    Inside `turn()`, a message holding only a text waits for the next one: when that one is the
    payload repeating it (`joined_message`), the two leave as one message. The turn's end sends
    what is still held; outside a turn (a message sent later, by a reminder) nothing waits.
    """

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver
        self.holding = False
        self.held: tuple[str, Message] | None = None

    async def push(self, recipient_id: str, message: Message) -> None:
        held, self.held = self.held, None
        if held is not None:
            joined = joined_message(held[1], message) if held[0] == recipient_id else None
            if joined is not None:
                await self.deliver(recipient_id, joined)
                return
            await self.deliver(*held)
        if self.holding and holds_text_only(message):
            self.held = (recipient_id, message)
        else:
            await self.deliver(recipient_id, message)

    async def flush(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            await self.deliver(*held)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            await self.flush()
