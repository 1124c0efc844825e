"""WhatsApp through Twilio: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER and
TWILIO_WEBHOOK_URL.

WhatsApp sessions through Twilio's plain messaging API have no buttons: options are numbered and a
reply "2" is taken as the second option. Webhook: <rasa>/webhooks/twilio/webhook.

Every request must carry a valid X-Twilio-Signature, computed by Twilio with the auth token over
the public URL it calls (TWILIO_WEBHOOK_URL) and the form: without that check, anyone who knows the
URL could speak for any phone number and read the replies. There is no way to turn it off: until
all four variables are set, the webhook answers 503 and names the missing ones. Conversations are
keyed by Twilio's own `whatsapp:+<number>`; a sender of any other form is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.base import DegradingChannel, OnNewMessage, disabled_blueprint, read_settings
from channels.formatting import WHATSAPP

logger = logging.getLogger(__name__)

# Twilio's WhatsApp addresses: `whatsapp:` and an E.164 number.
WHATSAPP_SENDER = re.compile(r"^whatsapp:\+[1-9][0-9]{5,14}$")


class WhatsAppInput(DegradingChannel, RasaTwilioInput):
    profile = WHATSAPP
    namespace = "whatsapp"
    variables: Mapping[str, str] = {
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
        "twilio_number": "TWILIO_WHATSAPP_NUMBER",
        "webhook_url": "TWILIO_WEBHOOK_URL",
    }
    webhook_url: str = ""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings(cls.variables, credentials)
        channel = cls(
            values.get("account_sid"),
            values.get("auth_token"),
            values.get("twilio_number"),
            debug_mode=False,
        )
        channel.webhook_url = values.get("webhook_url", "")
        channel.setup_degrading(missing)
        return channel

    def conversation_id(self, sender: str) -> str:
        """Twilio's `whatsapp:+<number>` is already namespaced: it is the tracker key as is."""
        return sender

    def recipient(self, conversation_id: str) -> str:
        return conversation_id

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing or not self.auth_token or not self.webhook_url:
            return disabled_blueprint(self.name(), self.missing)
        blueprint = super().blueprint(self.wrap(on_new_message))
        validator = RequestValidator(self.auth_token)
        webhook_url = self.webhook_url

        @blueprint.middleware("request")
        async def check_signature(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            params = {key: request.form.get(key) for key in request.form}
            signature = request.headers.get("X-Twilio-Signature", "")
            if not validator.validate(webhook_url, params, signature):
                logger.warning("twilio request refused: invalid signature")
                return response.text("invalid signature", status=403)
            if not WHATSAPP_SENDER.fullmatch(params.get("From") or ""):
                logger.warning("twilio request refused: the sender is not a WhatsApp number")
                return response.text("not a WhatsApp sender", status=400)
            return None

        return blueprint
