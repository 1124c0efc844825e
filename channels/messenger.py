"""Facebook Messenger: FACEBOOK_VERIFY_TOKEN, FACEBOOK_APP_SECRET, FACEBOOK_PAGE_ACCESS_TOKEN.

Buttons become Messenger quick replies (up to 13, titles of at most 20 characters), else numbered
options. Webhook: <rasa>/webhooks/facebook/webhook (Rasa checks the X-Hub-Signature).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.facebook import FacebookInput as RasaFacebookInput
from sanic import Blueprint

from channels.base import DegradingChannel, OnNewMessage, disabled_blueprint, read_settings
from channels.formatting import MESSENGER


class MessengerInput(DegradingChannel, RasaFacebookInput):
    profile = MESSENGER
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

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        return super().blueprint(self.wrap(on_new_message))
