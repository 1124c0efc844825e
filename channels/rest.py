"""The REST channel for server-to-server use (test harnesses, benchmarks, simulators, an
integration of the insurer's own): RASA_REST_TOKEN.

`POST <rasa>/webhooks/rest/webhook` with `Authorization: Bearer <RASA_REST_TOKEN>` and
`{"sender": "…", "message": "…", "metadata": {…}}` answers the turn's bot messages as a JSON list,
as Rasa's `rest` channel does. Unlike Rasa's, which anyone could call for any sender:

- the token is a shared secret of at least 32 characters, compared in constant time; without
  it the request is refused (401), and until RASA_REST_TOKEN is set the channel is off (503,
  naming the variable), like the messaging connectors;
- the sender chosen by the caller only names a conversation of this channel: the tracker key is
  `rest:<sender>`, so no caller can reach a widget, Telegram, WhatsApp… conversation;
- the sender is a plain id (`SENDER`), the message a string, the metadata an object or nothing;
  anything else is a 400 that says what is wrong;
- when the turn brings no bot message (the action server is down, an action failed), the answer
  is the French apology every channel sends (`channels.base.TECHNICAL_PROBLEM`).

Harnesses build the header and the tracker key with `common.rasa_api.rest_headers` and
`rest_conversation_id`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    TECHNICAL_PROBLEM,
    OnNewMessage,
    answered_or_apologised,
    as_typed,
    disabled_blueprint,
    namespaced,
    read_settings,
    same_secret,
    too_long,
)

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "RASA_REST_TOKEN"  # noqa: S105 - the name of the variable
MIN_TOKEN_LENGTH = 32
NAMESPACE = "rest"
SENDER = re.compile(r"^[A-Za-z0-9._@+-][A-Za-z0-9._@:+-]{0,127}$")


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def refused(status: int, error: str, **headers: str) -> HTTPResponse:
    return response.json({"error": error}, status=status, headers=headers or None)


class TokenRestInput(InputChannel):
    """Rasa's REST channel behind a bearer token, with its own sender namespace."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings({"token": TOKEN_VARIABLE}, credentials)
        token = values.get("token", "")
        if token and len(token) < MIN_TOKEN_LENGTH:
            logger.warning(
                "%s is shorter than %d characters: ignored", TOKEN_VARIABLE, MIN_TOKEN_LENGTH
            )
            token, missing = "", [TOKEN_VARIABLE]
        if missing:
            logger.warning(
                "rest channel not configured, its webhook answers 503: set %s", TOKEN_VARIABLE
            )
        return cls(token)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if not self.token:
            return disabled_blueprint(self.name(), [TOKEN_VARIABLE])
        blueprint = Blueprint("rest_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not same_secret(bearer_token(request), self.token):
                return refused(
                    401,
                    "a valid 'Authorization: Bearer <token>' header is required",
                    **{"WWW-Authenticate": 'Bearer realm="rest"'},
                )
            try:
                body = request.json
            except Exception:  # Sanic raises on a body that is not JSON
                body = None
            if not isinstance(body, dict):
                return refused(400, "the body must be a JSON object")
            sender, text, metadata = body.get("sender"), body.get("message"), body.get("metadata")
            if not isinstance(sender, str) or not SENDER.fullmatch(sender):
                return refused(
                    400, "'sender' must be 1 to 128 letters, digits or . _ @ : + - characters"
                )
            if not isinstance(text, str):
                return refused(400, "'message' must be a string")
            if metadata is not None and not isinstance(metadata, dict):
                return refused(400, "'metadata' must be an object")
            return response.json(await self.turn(on_new_message, sender, text, metadata))

        return blueprint

    async def turn(
        self,
        on_new_message: OnNewMessage,
        sender: str,
        text: str,
        metadata: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """The bot messages of one turn, addressed to `sender` (the apology if there are none)."""
        collector = CollectingOutputChannel()
        conversation_id = namespaced(NAMESPACE, sender)
        refusal = too_long(text)
        if refusal is not None:
            return [{"recipient_id": sender, "text": refusal}]
        message = UserMessage(
            as_typed(text), collector, conversation_id, input_channel=self.name(), metadata=metadata
        )

        async def run() -> Any:
            return await on_new_message(message)

        async def apologise() -> None:
            await collector.send_text_message(conversation_id, TECHNICAL_PROBLEM)

        try:
            await answered_or_apologised(run, lambda: bool(collector.messages), apologise, "rest")
        except Exception:
            logger.exception("rest channel: the turn failed")
        return [{**reply, "recipient_id": sender} for reply in collector.messages]
