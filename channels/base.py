"""What the connectors share: settings from the environment, sender namespaces, degraded replies
and the apology when the assistant cannot answer.

Each messaging connector subclasses Rasa's own and mixes in `DegradingChannel`, which:
- reads its settings from environment variables (credentials.yml names none of the secrets);
  when one is missing, the channel stays off: its webhook answers 503 and says which variable
  is missing, and the Rasa server starts anyway;
- keys each conversation by the channel's namespace and the app's own id (`telegram:<chat id>`,
  `messenger:<PSID>`, …): every channel shares one tracker store, and an id typed into one channel
  can never reach a conversation of another;
- wraps every incoming message so that the replies go through `DegradingOutputChannel`, which
  sends each bot message as the text and buttons `channels.formatting.render` gives for the app,
  one message per answer (`channels.joining`), and turns a bare number back into the payload of
  the numbered option it stands for;
- sends `TECHNICAL_PROBLEM` when a turn ends without any bot message (the action server is down,
  an action failed, the tracker or lock store is unreachable): the person always gets an answer.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

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
# What a person reads when the assistant could not answer their message at all.
TECHNICAL_PROBLEM = (
    "Je rencontre un problème technique, pouvez-vous réessayer dans quelques minutes ?"
)
# Longer messages are not read (the language model would hold the server for seconds, and no
# question needs more): the person is asked to shorten it, on every channel.
MAX_MESSAGE_CHARS = 4_000


def too_long(text: str) -> str | None:
    """The French reply to a message too long to read, or None when it may be read."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return None
    return (
        f"Votre message est trop long ({len(text):,} caractères, {MAX_MESSAGE_CHARS:,} au plus) : "
        "pouvez-vous le résumer en quelques phrases ?"
    ).replace(",", " ")


# Rasa's own conversation commands (its default intents with a special action: a new session,
# the conversation wiped, the last turn undone). A message such as "/session_start" would run
# them; no button of this assistant sends one (starting over is the `start_over` intent).
CONTROL_COMMAND = re.compile(r"^\s*/(?:session_start|restart|back)\b", re.IGNORECASE)


def as_typed(text: str) -> str:
    """A message that names one of Rasa's conversation commands is read as words, not run."""
    if CONTROL_COMMAND.match(text):
        return text.strip().lstrip("/")
    return text


T = TypeVar("T")


def namespaced(namespace: str, sender: str) -> str:
    """The tracker key of `sender` on the channel `namespace`: `namespace:sender`."""
    return f"{namespace}:{sender}"


def without_namespace(namespace: str, conversation_id: str) -> str:
    """The app's own id in a tracker key made by `namespaced` (unchanged if it holds none)."""
    prefix = f"{namespace}:"
    return conversation_id[len(prefix) :] if conversation_id.startswith(prefix) else conversation_id


def same_secret(given: str | None, expected: str) -> bool:
    """Whether `given` equals the configured secret, in constant time (no timing oracle)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


async def answered_or_apologised(
    turn: Callable[[], Awaitable[T]],
    replied: Callable[[], bool],
    apologise: Callable[[], Awaitable[None]],
    channel: str,
) -> T | None:
    """Run one turn; when it fails, or ends without any bot message, `apologise()`.

    A failed turn (the tracker or lock store unreachable, the conversation lock not taken) may
    have been cut short after a first message, so it is apologised for in any case. Rasa itself
    catches a failing custom action and goes on without its events: that shows as a turn with no
    message.
    The exception is raised again after the apology, for the connector's own handling (Rasa's
    connectors log it and still answer the app's webhook).
    """
    try:
        result = await turn()
    except Exception:
        await _apologise(apologise, channel, "the turn failed")
        raise
    if not replied():
        await _apologise(apologise, channel, "no bot message came back")
        return None
    return result


async def _apologise(apologise: Callable[[], Awaitable[None]], channel: str, why: str) -> None:
    logger.warning("%s channel: %s, the person is told of a technical problem", channel, why)
    try:
        await apologise()
    except Exception:  # the app itself may be unreachable: nothing more can be done
        logger.exception("%s channel: the apology could not be sent either", channel)


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
        recipient: Callable[[str], str] = str,
    ) -> None:
        self.inner = inner
        self.profile = profile
        self.options = options
        self.documents_url = documents_url
        # Messenger shows up to 13 quick replies, but only 3 buttons of at most 640 characters.
        self.quick_replies = quick_replies
        # The app's own id for a tracker key (the namespace taken off).
        self.recipient = recipient
        self.joiner = MessageJoiner(self.deliver)
        self.delivered = 0

    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.joiner.push(recipient_id, message)

    async def deliver(self, recipient_id: str, message: Message) -> None:
        """Send one bot message; `recipient_id` is the tracker key, options are kept under it."""
        reply = render(message, self.profile, self.documents_url)
        if reply.numbered:
            self.options.remember(str(recipient_id), reply.numbered)
        elif reply.buttons:
            self.options.forget(str(recipient_id))
        app_id = self.recipient(str(recipient_id))
        for position, text in enumerate(reply.texts):
            whole = BLANK_LINE.sub(KEPT_BLANK_LINE, text)
            last = position == len(reply.texts) - 1
            if last and reply.buttons:
                await self.send_with_buttons(app_id, whole, reply.buttons)
            else:
                await self.inner.send_text_message(app_id, whole)
            self.delivered += 1
        for key in ("image", "attachment"):
            if message.get(key):
                await self.inner.send_response(app_id, {key: message[key]})
                self.delivered += 1

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
    """Mixin for a Rasa input channel: env settings, sender namespace, degraded replies, numbered
    answers, and an apology when a turn brings no reply."""

    profile: ChannelProfile
    # The prefix of this channel's tracker keys (`namespace:<the app's id>`).
    namespace: str
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

    def conversation_id(self, sender: str) -> str:
        """The tracker key of the app's sender id."""
        return namespaced(self.namespace, sender)

    def recipient(self, conversation_id: str) -> str:
        """The app's id of a tracker key (`conversation_id` taken back apart)."""
        return without_namespace(self.namespace, conversation_id)

    def output_for(self, inner: OutputChannel) -> DegradingOutputChannel:
        return DegradingOutputChannel(
            inner,
            self.profile,
            self.numbered,
            self.documents_url,
            self.quick_replies,
            recipient=self.recipient,
        )

    def wrap(self, on_new_message: OnNewMessage) -> OnNewMessage:
        async def handle(message: UserMessage) -> Any:
            message.sender_id = self.conversation_id(str(message.sender_id))
            payload = self.numbered.resolve(message.sender_id, message.text)
            if payload is not None:
                message.text = payload
            elif message.text:
                message.text = as_typed(message.text)
            output = self.output_for(message.output_channel)
            message.output_channel = output
            conversation_id = message.sender_id
            refusal = too_long(message.text or "")
            if refusal is not None:
                await output.deliver(conversation_id, {"text": refusal})
                return None

            async def turn() -> Any:
                async with output.joiner.turn():
                    return await on_new_message(message)

            async def apologise() -> None:
                await output.deliver(conversation_id, {"text": TECHNICAL_PROBLEM})

            return await answered_or_apologised(
                turn, lambda: output.delivered > 0, apologise, self.profile.name
            )

        return handle
