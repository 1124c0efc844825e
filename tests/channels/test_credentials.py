"""credentials.yml as `rasa run` loads it: every channel there, mounted together on a real Sanic
server, refuses a request that does not prove where it comes from."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from tests.channels.sanic_server import serving_app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CONFIGURED = {
    "RASA_REST_TOKEN": "rest-token-of-the-credentials-test-0123456789",
    "TELEGRAM_ACCESS_TOKEN": "123456:test-token",
    "TELEGRAM_BOT_NAME": "vergemont_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.vergemont.example/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-token-of-the-tests-0123456789",
    "FACEBOOK_VERIFY_TOKEN": "verify-me",
    "FACEBOOK_APP_SECRET": "app-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "TWILIO_WEBHOOK_URL": "https://bot.vergemont.example/webhooks/twilio/webhook",
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "slack-secret",
}
WEBHOOKS = ["rest", "telegram", "facebook", "twilio", "slack"]


def statuses(monkeypatch: pytest.MonkeyPatch, configured: bool) -> dict[str, int]:
    for name, value in CONFIGURED.items():
        if configured:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        "channels.telegram.TelegramInput.register_webhook", lambda self: asyncio.sleep(0)
    )
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    Sanic.test_mode = True
    app = Sanic(f"credentials_{uuid.uuid4().hex[:8]}")
    register(channels, app, "/webhooks/")

    async def scenario() -> dict[str, int]:
        found: dict[str, int] = {}
        async with serving_app(app) as url, aiohttp.ClientSession() as http:
            for name in WEBHOOKS:
                async with http.post(
                    f"{url}/webhooks/{name}/webhook",
                    data=b'{"sender": "x", "message": "Bonjour"}',
                    headers={"Content-Type": "application/json"},
                ) as reply:
                    found[name] = reply.status
        return found

    return asyncio.run(scenario())


def test_rasas_open_rest_channel_is_not_configured() -> None:
    text = (ROOT / "credentials.yml").read_text(encoding="utf-8")
    assert not any(line.strip() in ("rest:", "socketio:") for line in text.splitlines())


def test_configured_channels_refuse_unauthenticated_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = statuses(monkeypatch, configured=True)
    assert found == {"rest": 401, "telegram": 403, "facebook": 403, "twilio": 403, "slack": 400}


def test_unconfigured_channels_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert statuses(monkeypatch, configured=False) == dict.fromkeys(WEBHOOKS, 503)
