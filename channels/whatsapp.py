"""WhatsApp through Twilio: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER.

WhatsApp sessions through Twilio's plain messaging API have no buttons: options are numbered and a
reply "2" is taken as the second option. Webhook: <rasa>/webhooks/twilio/webhook. When
TWILIO_WEBHOOK_URL (the public URL Twilio calls) is set, every request must carry a valid
X-Twilio-Signature; without it, anyone who knows the URL could speak for any phone number.
"""

from __future__ import annotations

import logging
import os
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


class WhatsAppInput(DegradingChannel, RasaTwilioInput):
    profile = WHATSAPP
    variables: Mapping[str, str] = {
        "account_sid": "TWILIO_ACCOUNT_SID",
        "auth_token": "TWILIO_AUTH_TOKEN",
        "twilio_number": "TWILIO_WHATSAPP_NUMBER",
    }
    webhook_url: str = ""  # TWILIO_WEBHOOK_URL, set by from_credentials

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
        channel.webhook_url = (
            (credentials or {}).get("webhook_url") or os.environ.get("TWILIO_WEBHOOK_URL", "")
        ).strip()
        channel.setup_degrading(missing)
        return channel

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        blueprint = super().blueprint(self.wrap(on_new_message))
        webhook_url = getattr(self, "webhook_url", "")
        if webhook_url and self.auth_token:
            validator = RequestValidator(self.auth_token)

            @blueprint.middleware("request")
            async def check_signature(request: Request) -> HTTPResponse | None:
                if request.method != "POST":
                    return None
                params = {key: request.form.get(key) for key in request.form}
                signature = request.headers.get("X-Twilio-Signature", "")
                if not validator.validate(webhook_url, params, signature):
                    logger.warning("twilio request refused: invalid signature")
                    return response.text("invalid signature", status=403)
                return None

        return blueprint
