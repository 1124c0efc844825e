"""What the messaging connectors share: settings from the environment and degraded replies.

Each connector subclasses Rasa's own and mixes in `DegradingChannel`, which:
- reads its settings from environment variables (credentials.yml names none of the secrets);
  when one is missing, the channel stays off: its webhook answers 503 and says which variable
  is missing, and the Rasa server starts anyway;
- wraps every incoming message so that the replies go through `DegradingOutputChannel`, which
  sends each bot message as the text and buttons `channels.formatting.render` gives for the app,
  one message per answer (`channels.joining`), and turns a bare number back into the payload of
  the numbered option it stands for.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.formatting import ChannelProfile, Option, render
from channels.joining import Message, MessageJoiner
from channels.options import NumberedOptions

logger = logging.getLogger(__name__)

DOCUMENTS_URL_VARIABLE = "CHANNELS_DOCUMENTS_URL"
# Rasa's connectors send each paragraph of a text as a message of its own; a blank line holding a
# no-break space looks the same in the apps and keeps the bot message whole.
BLANK_LINE = re.compile(r"\n[ \t]*\n")
KEPT_BLANK_LINE = "\n\u00a0\n"


def read_settings(
    variables: Mapping[str, str], credentials: Mapping[str, Any] | None
) -> tuple[dict[str, str], list[str]]:
    """Values of `{setting: ENV_VARIABLE}`: from credentials.yml if set there, else the environment.

    Returns the values found and the names of the variables still missing.
    """
    credentials = credentials or {}
    values: dict[str, str] = {}
    missing: list[str] = []
    for setting, variable in variables.items():
        value = credentials.get(setting) or os.environ.get(variable, "")
        if isinstance(value, str) and value.strip():
            values[setting] = value.strip()
        else:
            missing.append(variable)
    return values, missing


def disabled_blueprint(name: str, missing: list[str]) -> Blueprint:
    """The webhook of a channel that is not configured: it says so instead of failing."""
    blueprint = Blueprint(f"{name}_webhook", __name__)
    detail = f"the {name} channel is not configured: set {', '.join(missing)}"

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "not configured", "missing": missing})

    @blueprint.route("/webhook", methods=["GET", "POST"])
    async def webhook(_: Request) -> HTTPResponse:
        return response.json({"error": detail}, status=503)

    return blueprint


class DegradingOutputChannel(OutputChannel):
    """Sends bot messages through another output channel, as that app can show them: one message
    per answer during a turn (`async with output.joiner.turn()`)."""

    def __init__(
        self,
        inner: OutputChannel,
        profile: ChannelProfile,
        options: NumberedOptions,
        documents_url: str = "",
        quick_replies: bool = False,
    ) -> None:
        self.inner = inner
        self.profile = profile
        self.options = options
        self.documents_url = documents_url
        # Messenger shows up to 13 quick replies, but only 3 buttons of at most 640 characters.
        self.quick_replies = quick_replies
        self.joiner = MessageJoiner(self.deliver)

    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.joiner.push(recipient_id, message)

    async def deliver(self, recipient_id: str, message: Message) -> None:
        reply = render(message, self.profile, self.documents_url)
        if reply.numbered:
            self.options.remember(str(recipient_id), reply.numbered)
        elif reply.buttons:
            self.options.forget(str(recipient_id))
        for position, text in enumerate(reply.texts):
            whole = BLANK_LINE.sub(KEPT_BLANK_LINE, text)
            last = position == len(reply.texts) - 1
            if last and reply.buttons:
                await self.send_with_buttons(recipient_id, whole, reply.buttons)
            else:
                await self.inner.send_text_message(recipient_id, whole)
        for key in ("image", "attachment"):
            if message.get(key):
                await self.inner.send_response(recipient_id, {key: message[key]})

    async def send_with_buttons(self, recipient_id: str, text: str, buttons: list[Option]) -> None:
        raw = [{"title": b.title, "payload": b.payload} for b in buttons]
        if self.quick_replies:
            await self.inner.send_quick_replies(recipient_id, text, raw)
        else:
            await self.inner.send_text_with_buttons(recipient_id, text, raw)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class DegradingChannel:
    """Mixin for a Rasa input channel: env settings, degraded replies, numbered answers."""

    profile: ChannelProfile
    quick_replies = False
    # {constructor argument: environment variable}
    variables: Mapping[str, str] = {}
    missing: list[str]

    def setup_degrading(self, missing: list[str]) -> None:
        self.missing = missing
        self.numbered = NumberedOptions()
        self.documents_url = os.environ.get(DOCUMENTS_URL_VARIABLE, "").strip()
        if missing:
            logger.warning(
                "%s channel not configured, its webhook answers 503: set %s",
                self.profile.name,
                ", ".join(missing),
            )

    def output_for(self, inner: OutputChannel) -> DegradingOutputChannel:
        return DegradingOutputChannel(
            inner, self.profile, self.numbered, self.documents_url, self.quick_replies
        )

    def wrap(self, on_new_message: OnNewMessage) -> OnNewMessage:
        async def handle(message: UserMessage) -> Any:
            payload = self.numbered.resolve(str(message.sender_id), message.text)
            if payload is not None:
                message.text = payload
            output = self.output_for(message.output_channel)
            message.output_channel = output
            async with output.joiner.turn():
                return await on_new_message(message)

        return handle
