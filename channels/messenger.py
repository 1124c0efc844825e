"""Facebook Messenger: FACEBOOK_VERIFY_TOKEN, FACEBOOK_APP_SECRET, FACEBOOK_PAGE_ACCESS_TOKEN.

Buttons become Messenger quick replies (up to 13, titles of at most 20 characters), else numbered
options. Webhook: <rasa>/webhooks/facebook/webhook.

Every event must carry `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body under the app
secret>`, compared in constant time; Rasa's own webhook checked the legacy SHA-1 `X-Hub-Signature`
with `==`, so it is replaced here (the events themselves are still parsed by Rasa's `Messenger`).
The subscription handshake compares FACEBOOK_VERIFY_TOKEN in constant time too. Conversations are
keyed `messenger:<page-scoped id>`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.facebook import FacebookInput as RasaFacebookInput
from rasa.core.channels.facebook import Messenger
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    DegradingChannel,
    OnNewMessage,
    disabled_blueprint,
    read_settings,
    same_secret,
)
from channels.formatting import MESSENGER

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def body_signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends with `body`."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_by_meta(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the HMAC-SHA256 signature of `body` under the app secret."""
    return same_secret(header, body_signature(app_secret, body))


class MessengerInput(DegradingChannel, RasaFacebookInput):
    profile = MESSENGER
    namespace = "messenger"
    quick_replies = True
    variables: Mapping[str, str] = {
        "verify": "FACEBOOK_VERIFY_TOKEN",
        "secret": "FACEBOOK_APP_SECRET",
        "page-access-token": "FACEBOOK_PAGE_ACCESS_TOKEN",
    }

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings(cls.variables, credentials)
        channel = cls(
            values.get("verify", ""), values.get("secret", ""), values.get("page-access-token", "")
        )
        channel.setup_degrading(missing)
        return channel

    def messenger(self, on_new_message: OnNewMessage) -> Messenger:
        """Rasa's parser of Messenger events, whose replies go through the Graph API client."""
        return Messenger(self.fb_access_token, on_new_message)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        blueprint = Blueprint("fb_webhook", __name__)
        handle = self.wrap(on_new_message)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["GET"])
        async def verify_subscription(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and same_secret(
                request.args.get("hub.verify_token"), self.fb_verify
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("messenger subscription refused: wrong verify token")
            return response.text("invalid verify token", status=403)

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not signed_by_meta(
                self.fb_secret, request.body, request.headers.get(SIGNATURE_HEADER)
            ):
                logger.warning("messenger event refused: missing or wrong %s", SIGNATURE_HEADER)
                return response.text("invalid signature", status=403)
            payload = request.json
            if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
                return response.text("not a Messenger event", status=400)
            # Entries without messages (page changes, standby…) are not the assistant's.
            entries = [
                entry
                for entry in payload["entry"]
                if isinstance(entry, dict) and isinstance(entry.get("messaging"), list)
            ]
            await self.messenger(handle).handle({"entry": entries}, self.get_metadata(request))
            return response.text("success")

        return blueprint
