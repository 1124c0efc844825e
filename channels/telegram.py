"""Telegram (a bot from @BotFather): TELEGRAM_ACCESS_TOKEN, TELEGRAM_BOT_NAME, TELEGRAM_WEBHOOK_URL
and TELEGRAM_SECRET_TOKEN.

Buttons stay inline buttons when their payloads fit Telegram's 64-byte callback data; otherwise
they become numbered options. Webhook: <rasa>/webhooks/telegram/webhook.

Only Telegram can speak for a chat: when the Rasa server starts, the connector registers its
webhook URL with TELEGRAM_SECRET_TOKEN (Bot API `setWebhook`, `secret_token`), and Telegram sends
that token back in the `X-Telegram-Bot-Api-Secret-Token` header of every update; an update
without it is refused (403) before Rasa reads it. Rasa's public `/set_webhook` route, which let
anyone re-register the webhook, is not served. Conversations are keyed `telegram:<chat id>`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from rasa.core.channels.channel import InputChannel
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    DegradingChannel,
    OnNewMessage,
    disabled_blueprint,
    read_settings,
    same_secret,
)
from channels.formatting import TELEGRAM

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Telegram accepts 1 to 256 of these characters; 32 at least, so that it cannot be guessed.
SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,256}$")
# The updates the connector handles (Rasa's: messages, their edits, inline button presses).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class TelegramInput(DegradingChannel, RasaTelegramInput):
    profile = TELEGRAM
    namespace = "telegram"
    variables: Mapping[str, str] = {
        "access_token": "TELEGRAM_ACCESS_TOKEN",
        "verify": "TELEGRAM_BOT_NAME",
        "webhook_url": "TELEGRAM_WEBHOOK_URL",
        "secret_token": "TELEGRAM_SECRET_TOKEN",
    }
    # The Bot API server (tests point it at a local fake of Telegram).
    api_server: TelegramAPIServer = TELEGRAM_PRODUCTION
    secret_token: str = ""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings(cls.variables, credentials)
        secret = values.get("secret_token", "")
        if secret and not SECRET_TOKEN.fullmatch(secret):
            logger.warning(
                "TELEGRAM_SECRET_TOKEN must be 32 to 256 letters, digits, '_' or '-': ignored"
            )
            missing.append(cls.variables["secret_token"])
        channel = cls(
            values.get("access_token"),
            values.get("verify"),
            values.get("webhook_url"),
            debug_mode=False,
        )
        channel.secret_token = secret
        channel.setup_degrading(missing)
        return channel

    def get_output_channel(self) -> TelegramOutput:
        """Telegram's client, without Rasa's webhook registration (done at start-up, with the
        secret token: `register_webhook`)."""
        output = TelegramOutput(self.access_token)
        output.server = self.api_server
        return output

    async def register_webhook(self) -> bool:
        """Tell Telegram where to send updates and the secret token to send with them."""
        bot = self.get_output_channel()
        try:
            result = await bot.request(
                "setWebhook",
                {
                    "url": self.webhook_url,
                    "secret_token": self.secret_token,
                    "allowed_updates": json.dumps(ALLOWED_UPDATES),
                },
            )
        except Exception as error:  # the server still starts; the log says why
            logger.error("telegram webhook not registered: %s", error)
            return False
        finally:
            await bot.session.close()
        logger.info("telegram webhook registered with its secret token")
        return bool(result)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        blueprint = super().blueprint(self.wrap(on_new_message))
        secret = self.secret_token

        @blueprint.middleware("request")
        async def check_secret_token(request: Request) -> HTTPResponse | None:
            path = request.path.rstrip("/")
            if path.endswith("/set_webhook"):
                return response.json({"error": "not found"}, status=404)
            forged = not same_secret(request.headers.get(SECRET_HEADER), secret)
            if path.endswith("/webhook") and request.method == "POST" and forged:
                logger.warning("telegram update refused: missing or wrong secret token")
                return response.json({"error": "invalid secret token"}, status=403)
            return None

        @blueprint.listener("after_server_start")
        async def register(_: Sanic, __: Any) -> None:
            await self.register_webhook()

        return blueprint
