"""Telegram (a bot from @BotFather): TELEGRAM_ACCESS_TOKEN, TELEGRAM_BOT_NAME, TELEGRAM_WEBHOOK_URL.

Buttons stay inline buttons when their payloads fit Telegram's 64-byte callback data; otherwise
they become numbered options. Webhook: <rasa>/webhooks/telegram/webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from sanic import Blueprint

from channels.base import DegradingChannel, OnNewMessage, disabled_blueprint, read_settings
from channels.formatting import TELEGRAM


class TelegramInput(DegradingChannel, RasaTelegramInput):
    profile = TELEGRAM
    variables: Mapping[str, str] = {
        "access_token": "TELEGRAM_ACCESS_TOKEN",
        "verify": "TELEGRAM_BOT_NAME",
        "webhook_url": "TELEGRAM_WEBHOOK_URL",
    }

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings(cls.variables, credentials)
        channel = cls(
            values.get("access_token"),
            values.get("verify"),
            values.get("webhook_url"),
            debug_mode=False,
        )
        channel.setup_degrading(missing)
        return channel

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        return super().blueprint(self.wrap(on_new_message))
