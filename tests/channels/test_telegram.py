"""The Telegram connector on a real Sanic server, against a local fake of Telegram's Bot API (the
only stand-in: Rasa's and aiogram's code run as in production): the webhook is registered with a
secret token, updates without it are refused, `/set_webhook` is not served, conversations are
`telegram:<chat id>` and a turn without reply gets the apology."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiogram.bot.api import TelegramAPIServer
from aiohttp import web
from rasa.core.channels.channel import UserMessage

from channels.base import TECHNICAL_PROBLEM
from channels.telegram import SECRET_HEADER, TelegramInput
from tests.channels.sanic_server import free_port, serving

pytestmark = pytest.mark.unit

ENV = {
    "TELEGRAM_ACCESS_TOKEN": "123456:test-token",
    "TELEGRAM_BOT_NAME": "vergemont_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.vergemont.example/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "telegram-secret-token-of-the-tests-0123456789",
}
CHAT_ID = 424242
Handler = Callable[[UserMessage], Awaitable[None]]


class FakeTelegram:
    """Telegram's Bot API as the connector uses it: getMe, setWebhook, sendMessage."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            data = dict(await request.json())
        else:
            data = dict(await request.post())
        self.calls.append((method, data))
        result: Any = True
        if method == "getMe":
            result = {
                "id": 123456,
                "is_bot": True,
                "first_name": "Vergemont",
                "username": "vergemont_bot",
            }
        elif method == "sendMessage":
            result = {
                "message_id": len(self.calls),
                "date": 0,
                "chat": {"id": int(data["chat_id"]), "type": "private"},
                "text": data["text"],
            }
        return web.json_response({"ok": True, "result": result})

    def sent(self, method: str) -> list[dict[str, Any]]:
        return [data for name, data in self.calls if name == method]


@asynccontextmanager
async def fake_telegram() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def update(text: str, chat_id: int = CHAT_ID) -> dict[str, Any]:
    return {
        "update_id": 1,
        "message": {
            "message_id": 7,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Camille"},
            "text": text,
        },
    }


async def reply(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, "Bonjour !")


def exchange(
    secret: str | None,
    handler: Handler = reply,
    path: str = "/webhooks/telegram/webhook",
) -> tuple[int, list[UserMessage], FakeTelegram]:
    """Start the connector, post one update to `path`; the status, what Rasa got, what Telegram
    was asked."""
    received: list[UserMessage] = []

    async def recording(message: UserMessage) -> None:
        received.append(message)
        await handler(message)

    async def scenario() -> tuple[int, FakeTelegram]:
        async with fake_telegram() as (fake, api):
            channel = TelegramInput.from_credentials(None)
            channel.api_server = TelegramAPIServer.from_base(api)  # type: ignore[attr-defined]
            async with serving(channel, recording) as url, aiohttp.ClientSession() as http:
                headers = {SECRET_HEADER: secret} if secret is not None else {}
                async with http.post(f"{url}{path}", json=update("Bonjour"), headers=headers) as r:
                    return r.status, fake

    status, fake = asyncio.run(scenario())
    return status, received, fake


@pytest.fixture(autouse=True)
def telegram_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CHANNELS_DOCUMENTS_URL", raising=False)


class TestSecretToken:
    def test_the_webhook_is_registered_with_the_secret_token(self) -> None:
        _, _, fake = exchange(ENV["TELEGRAM_SECRET_TOKEN"])
        [registration] = fake.sent("setWebhook")
        assert registration["url"] == ENV["TELEGRAM_WEBHOOK_URL"]
        assert registration["secret_token"] == ENV["TELEGRAM_SECRET_TOKEN"]
        assert json.loads(registration["allowed_updates"]) == [
            "message",
            "edited_message",
            "callback_query",
        ]

    @pytest.mark.parametrize(
        "secret",
        [None, "", "forged", ENV["TELEGRAM_SECRET_TOKEN"][:-1], ENV["TELEGRAM_SECRET_TOKEN"] + "x"],
    )
    def test_an_update_without_the_secret_token_is_refused(self, secret: str | None) -> None:
        status, received, fake = exchange(secret)
        assert status == 403
        assert received == []
        assert fake.sent("sendMessage") == []

    def test_an_update_from_telegram_is_answered_in_its_chat(self) -> None:
        status, received, fake = exchange(ENV["TELEGRAM_SECRET_TOKEN"])
        assert status == 200
        assert [m.text for m in received] == ["Bonjour"]
        assert [(m["chat_id"], m["text"]) for m in fake.sent("sendMessage")] == [
            (str(CHAT_ID), "Bonjour !")
        ]

    @pytest.mark.parametrize("secret", [None, ENV["TELEGRAM_SECRET_TOKEN"]])
    def test_set_webhook_is_not_served(self, secret: str | None) -> None:
        status, _, fake = exchange(secret, path="/webhooks/telegram/set_webhook")
        assert status == 404
        assert len(fake.sent("setWebhook")) == 1, "only the start-up registration"

    @pytest.mark.parametrize("value", ["short-secret", "x" * 31, "a secret with spaces " * 3])
    def test_a_weak_or_malformed_secret_leaves_the_channel_off(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", value)
        assert TelegramInput.from_credentials(None).missing == ["TELEGRAM_SECRET_TOKEN"]


class TestConversation:
    def test_the_conversation_is_the_chat_in_the_telegram_namespace(self) -> None:
        _, received, _ = exchange(ENV["TELEGRAM_SECRET_TOKEN"])
        assert [m.sender_id for m in received] == [f"telegram:{CHAT_ID}"]

    @pytest.mark.parametrize("failure", ["silence", "exception"])
    def test_the_person_is_told_when_the_assistant_cannot_answer(self, failure: str) -> None:
        async def failing(_: UserMessage) -> None:
            if failure == "exception":
                raise ConnectionError("the action server is down")

        status, _, fake = exchange(ENV["TELEGRAM_SECRET_TOKEN"], failing)
        assert status == 200
        assert [(m["chat_id"], m["text"]) for m in fake.sent("sendMessage")] == [
            (str(CHAT_ID), TECHNICAL_PROBLEM)
        ]
