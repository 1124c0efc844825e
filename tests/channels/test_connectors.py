"""The messaging connectors: settings from the environment, degraded replies, numbered answers,
Twilio signatures — on Rasa's own output channels and a real Sanic server."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from fbmessenger import MessengerClient
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.facebook import MessengerBot
from rasa.core.channels.twilio import TwilioOutput
from twilio.request_validator import RequestValidator

from channels.base import DegradingOutputChannel
from channels.formatting import MESSENGER, TELEGRAM, WHATSAPP, Option
from channels.messenger import MessengerInput
from channels.options import NumberedOptions
from channels.slack import SlackInput
from channels.telegram import TelegramInput
from channels.whatsapp import WhatsAppInput
from tests.channels.sanic_server import serving

pytestmark = pytest.mark.unit

ENV = {
    "TELEGRAM_ACCESS_TOKEN": "123456:test-token",
    "TELEGRAM_BOT_NAME": "vergemont_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.vergemont.example/webhooks/telegram/webhook",
    "FACEBOOK_VERIFY_TOKEN": "verify-me",
    "FACEBOOK_APP_SECRET": "app-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token",
    "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "slack-secret",
}
RECOMMENDATION = {
    "text": "Voici ce que je vous propose.",
    "custom": {
        "type": "recommendations",
        "items": [
            {
                "code": "VG-AUTO",
                "name": "Vergemont Auto",
                "category": "auto",
                "reasons": ["Vous avez une voiture"],
                "warnings": [],
                "sources": [],
            }
        ],
    },
    "buttons": [
        {"title": "En savoir plus", "payload": "/ask_more"},
        {"title": "Parler à un conseiller", "payload": "/request_advisor"},
    ],
}


@pytest.fixture
def no_channel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV, "TWILIO_WEBHOOK_URL", "SLACK_CHANNEL", "CHANNELS_DOCUMENTS_URL"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def channel_env(monkeypatch: pytest.MonkeyPatch, no_channel_env: None) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


class TestSettingsFromTheEnvironment:
    def test_every_connector_reads_its_secrets_from_the_environment(
        self, channel_env: None
    ) -> None:
        telegram = TelegramInput.from_credentials(None)
        assert (telegram.access_token, telegram.verify) == ("123456:test-token", "vergemont_bot")
        messenger = MessengerInput.from_credentials(None)
        assert (messenger.fb_verify, messenger.fb_secret, messenger.fb_access_token) == (
            "verify-me",
            "app-secret",
            "page-token",
        )
        whatsapp = WhatsAppInput.from_credentials(None)
        assert (whatsapp.account_sid, whatsapp.twilio_number) == (
            "AC00000000000000000000000000000000",
            "whatsapp:+14155238886",
        )
        slack = SlackInput.from_credentials(None)
        assert (slack.slack_token, slack.slack_signing_secret) == ("xoxb-test", "slack-secret")
        for channel in (telegram, messenger, whatsapp, slack):
            assert channel.missing == []

    def test_an_unconfigured_channel_starts_and_says_what_is_missing(
        self, no_channel_env: None
    ) -> None:
        async def scenario() -> tuple[Any, ...]:
            channel = TelegramInput.from_credentials(None)
            async with serving(channel, None) as url, aiohttp.ClientSession() as http:
                async with http.get(f"{url}/webhooks/telegram/") as health:
                    status = await health.json()
                async with http.post(f"{url}/webhooks/telegram/webhook", json={}) as webhook:
                    return status, webhook.status, await webhook.json()

        status, code, body = asyncio.run(scenario())
        assert status == {
            "status": "not configured",
            "missing": ["TELEGRAM_ACCESS_TOKEN", "TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL"],
        }
        assert code == 503
        assert "TELEGRAM_ACCESS_TOKEN" in body["error"]

    @pytest.mark.parametrize("connector", [MessengerInput, WhatsAppInput, SlackInput])
    def test_other_connectors_are_off_without_their_variables(
        self, no_channel_env: None, connector: Any
    ) -> None:
        assert connector.from_credentials(None).missing


class TestDegradedReplies:
    def send(
        self, profile: Any, message: dict[str, Any], **kwargs: Any
    ) -> tuple[CollectingOutputChannel, NumberedOptions]:
        inner = CollectingOutputChannel()
        options = NumberedOptions()
        output = DegradingOutputChannel(inner, profile, options, **kwargs)
        asyncio.run(output.send_response("user-1", dict(message)))
        return inner, options

    def test_whatsapp_receives_texts_only_and_remembers_the_numbers(self) -> None:
        inner, options = self.send(WHATSAPP, RECOMMENDATION)
        texts = [m["text"] for m in inner.messages]
        assert texts[0] == "Voici ce que je vous propose."
        assert texts[1].startswith("Contrats proposés :\n1. *Vergemont Auto* (Automobile)")
        assert texts[2].endswith("1. En savoir plus\n2. Parler à un conseiller")
        assert all("buttons" not in m and "quick_replies" not in m for m in inner.messages)
        assert options.resolve("user-1", "2") == "/request_advisor"

    def test_telegram_keeps_the_buttons_on_the_last_message(self) -> None:
        inner, options = self.send(TELEGRAM, RECOMMENDATION)
        assert "buttons" not in inner.messages[0]
        assert [b["payload"] for b in inner.messages[-1]["buttons"]] == [
            "/ask_more",
            "/request_advisor",
        ]
        assert options.resolve("user-1", "1") is None

    def test_messenger_gets_real_quick_replies(self) -> None:
        class RecordingClient(MessengerClient):  # the Graph API call is the only fake
            def __init__(self) -> None:
                super().__init__("page-token")
                self.sent: list[dict[str, Any]] = []

            def send(
                self, payload: dict[str, Any], recipient_id: str, *args: Any, **kw: Any
            ) -> None:
                self.sent.append(payload)

        client = RecordingClient()
        output = DegradingOutputChannel(
            MessengerBot(client), MESSENGER, NumberedOptions(), quick_replies=True
        )
        message = {
            "text": "D'accord ?",
            "buttons": [
                {"title": "Oui", "payload": "/affirm"},
                {"title": "Non", "payload": "/deny"},
            ],
        }
        asyncio.run(output.send_response("user-1", message))
        assert client.sent == [
            {
                "text": "D'accord ?",
                "quick_replies": [
                    {"content_type": "text", "title": "Oui", "payload": "/affirm"},
                    {"content_type": "text", "title": "Non", "payload": "/deny"},
                ],
            }
        ]


class TestWhatsAppWebhook:
    def post(
        self, channel: WhatsAppInput, form: dict[str, str], signature: str | None
    ) -> tuple[int, list[UserMessage]]:
        received: list[UserMessage] = []

        async def on_new_message(message: UserMessage) -> None:
            received.append(message)

        async def scenario() -> int:
            async with serving(channel, on_new_message) as url, aiohttp.ClientSession() as http:
                headers = {"X-Twilio-Signature": signature} if signature is not None else {}
                async with http.post(
                    f"{url}/webhooks/twilio/webhook", data=form, headers=headers
                ) as r:
                    return r.status

        return asyncio.run(scenario()), received

    def test_a_numbered_answer_becomes_the_options_payload(self, channel_env: None) -> None:
        channel = WhatsAppInput.from_credentials(None)
        channel.numbered.remember(
            "whatsapp:+33612345678",
            [
                Option("En savoir plus", "/ask_more"),
                Option("Parler à un conseiller", "/request_advisor"),
            ],
        )
        status, received = self.post(channel, {"From": "whatsapp:+33612345678", "Body": "2"}, None)
        assert status == 204
        assert received[0].text == "/request_advisor"
        output = received[0].output_channel
        assert isinstance(output, DegradingOutputChannel)
        assert isinstance(output.inner, TwilioOutput)
        assert output.profile is WHATSAPP

    def test_with_a_webhook_url_only_signed_requests_are_accepted(
        self, channel_env: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        public_url = "https://bot.vergemont.example/webhooks/twilio/webhook"
        monkeypatch.setenv("TWILIO_WEBHOOK_URL", public_url)
        form = {"From": "whatsapp:+33612345678", "Body": "Bonjour"}
        good = RequestValidator(ENV["TWILIO_AUTH_TOKEN"]).compute_signature(public_url, form)
        status, received = self.post(WhatsAppInput.from_credentials(None), form, "forged")
        assert (status, received) == (403, [])
        status, received = self.post(WhatsAppInput.from_credentials(None), form, None)
        assert (status, received) == (403, [])
        status, received = self.post(WhatsAppInput.from_credentials(None), form, good)
        assert status == 204
        assert [m.text for m in received] == ["Bonjour"]
