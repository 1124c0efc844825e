"""The messaging connectors: settings from the environment, degraded replies, one message per
answer, numbered answers, Twilio signatures — on Rasa's own output channels and a real Sanic
server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from fbmessenger import MessengerClient
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import MessengerBot
from rasa.core.channels.slack import SlackBot
from rasa.core.channels.telegram import TelegramOutput
from rasa.core.channels.twilio import TwilioOutput
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher
from twilio.request_validator import RequestValidator

from actions.messages import (
    ADVISOR_BUTTON,
    answer_payload,
    cited,
    recommendations_payload,
)
from channels.base import TECHNICAL_PROBLEM, DegradingChannel, DegradingOutputChannel
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
    for name in [*ENV, "SLACK_CHANNEL", "CHANNELS_DOCUMENTS_URL", "SOCKETIO_ALLOWED_ORIGINS"]:
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
            "missing": [
                "TELEGRAM_ACCESS_TOKEN",
                "TELEGRAM_BOT_NAME",
                "TELEGRAM_WEBHOOK_URL",
                "TELEGRAM_SECRET_TOKEN",
            ],
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

    def test_whatsapp_receives_one_text_and_remembers_the_numbers(self) -> None:
        inner, options = self.send(WHATSAPP, RECOMMENDATION)
        [text] = [m["text"] for m in inner.messages]
        assert text.startswith("Voici ce que je vous propose.\n\u00a0\nContrats proposés :\n")
        assert "1. *Vergemont Auto* (Automobile)" in text
        assert text.endswith("1. En savoir plus\n2. Parler à un conseiller")
        assert all("buttons" not in m and "quick_replies" not in m for m in inner.messages)
        assert options.resolve("user-1", "2") == "/request_advisor"

    def test_telegram_keeps_the_buttons_on_the_message(self) -> None:
        inner, options = self.send(TELEGRAM, RECOMMENDATION)
        [message] = inner.messages
        assert [b["payload"] for b in message["buttons"]] == ["/ask_more", "/request_advisor"]
        assert options.resolve("user-1", "1") is None

    def test_a_text_longer_than_the_app_allows_is_cut_at_line_ends(self) -> None:
        text = "\n".join(f"Ligne {i} " + "x" * 80 for i in range(40))
        inner, _ = self.send(WHATSAPP, {"text": text})
        assert len(inner.messages) == 3
        assert all(len(m["text"]) <= WHATSAPP.max_text for m in inner.messages)

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


def twilio_signature(form: dict[str, str], url: str = ENV["TWILIO_WEBHOOK_URL"]) -> str:
    """The X-Twilio-Signature Twilio computes for `form` posted to `url`."""
    return str(RequestValidator(ENV["TWILIO_AUTH_TOKEN"]).compute_signature(url, form))


class TestWhatsAppWebhook:
    def post(
        self, channel: WhatsAppInput, form: dict[str, str], signature: str | None
    ) -> tuple[int, list[UserMessage]]:
        received: list[UserMessage] = []

        async def on_new_message(message: UserMessage) -> None:
            received.append(message)
            await message.output_channel.send_text_message(message.sender_id, "Bien reçu.")

        async def scenario() -> int:
            async with serving(channel, on_new_message) as url, aiohttp.ClientSession() as http:
                headers = {"X-Twilio-Signature": signature} if signature is not None else {}
                async with http.post(
                    f"{url}/webhooks/twilio/webhook", data=form, headers=headers
                ) as r:
                    return r.status

        return asyncio.run(scenario()), received

    def channel(self) -> WhatsAppInput:
        """The connector, its replies recorded instead of sent to Twilio's API."""
        channel = WhatsAppInput.from_credentials(None)
        channel.get_output_channel = RecordingTwilio  # type: ignore[method-assign]
        return channel  # type: ignore[return-value]

    def test_a_numbered_answer_becomes_the_options_payload(self, channel_env: None) -> None:
        channel = self.channel()
        channel.numbered.remember(
            "whatsapp:+33612345678",
            [
                Option("En savoir plus", "/ask_more"),
                Option("Parler à un conseiller", "/request_advisor"),
            ],
        )
        form = {"From": "whatsapp:+33612345678", "Body": "2"}
        status, received = self.post(channel, form, twilio_signature(form))
        assert status == 204
        assert received[0].text == "/request_advisor"
        assert received[0].sender_id == "whatsapp:+33612345678"
        output = received[0].output_channel
        assert isinstance(output, DegradingOutputChannel)
        assert isinstance(output.inner, TwilioOutput)
        assert output.profile is WHATSAPP

    def test_only_requests_signed_by_twilio_are_accepted(self, channel_env: None) -> None:
        form = {"From": "whatsapp:+33612345678", "Body": "Bonjour"}
        good = twilio_signature(form)
        other_url = twilio_signature(form, "https://elsewhere.example/webhooks/twilio/webhook")
        for signature in ("forged", None, other_url):
            status, received = self.post(self.channel(), form, signature)
            assert (status, received) == (403, []), signature
        status, received = self.post(self.channel(), form, good)
        assert status == 204
        assert [m.text for m in received] == ["Bonjour"]

    @pytest.mark.parametrize("missing", ["TWILIO_WEBHOOK_URL", "TWILIO_AUTH_TOKEN"])
    def test_without_the_url_or_the_token_the_channel_is_off_not_unchecked(
        self, channel_env: None, monkeypatch: pytest.MonkeyPatch, missing: str
    ) -> None:
        monkeypatch.delenv(missing)
        form = {"From": "whatsapp:+33612345678", "Body": "Bonjour"}
        status, received = self.post(WhatsAppInput.from_credentials(None), form, None)
        assert (status, received) == (503, [])

        async def error() -> dict[str, Any]:
            channel = WhatsAppInput.from_credentials(None)
            async with (
                serving(channel, None) as url,
                aiohttp.ClientSession() as http,
                http.post(f"{url}/webhooks/twilio/webhook", data=form) as r,
            ):
                return dict(await r.json())

        assert missing in asyncio.run(error())["error"]

    @pytest.mark.parametrize(
        "sender", ["+33612345678", "telegram:42", "whatsapp:+33 6 12", "whatsapp:"]
    )
    def test_a_sender_that_is_not_a_whatsapp_number_is_refused(
        self, channel_env: None, sender: str
    ) -> None:
        form = {"From": sender, "Body": "Bonjour"}
        status, received = self.post(self.channel(), form, twilio_signature(form))
        assert (status, received) == (400, [])


# ------------------------------------------------------------------ one message per answer

ANSWER_SOURCE = SimpleNamespace(
    document="vg-epargne-conditions-generales.pdf",
    page=4,
    passage="Le souscripteur peut renoncer au contrat dans un délai de trente jours.",
)
PRODUCTS = [
    {
        "code": "VG-AUTO",
        "name": "Vergemont Auto",
        "category": "auto",
        "reasons": ["Vous avez une voiture : l'assurance au tiers est obligatoire."],
        "warnings": [],
        "sources": [{"document": "vg-auto-ipid.pdf", "page": 2, "passage": "Garanties."}],
    },
    {
        "code": "VG-HAB-LOC",
        "name": "Vergemont Habitation Locataire",
        "category": "habitation",
        "reasons": ["Vous êtes locataire : la responsabilité locative est exigée par le bail."],
        "warnings": ["Les objets de valeur sont couverts jusqu'à 5 000 €."],
        "sources": [],
    },
]


def answer_turn() -> list[dict[str, Any]]:
    """What action_answer_question sends: the answer with its citation, then the payload."""
    answer = SimpleNamespace(
        text="Vous disposez de 30 jours pour renoncer au contrat.",
        sources=(ANSWER_SOURCE,),
        mode="extractive",
        validated=True,
    )
    payload = answer_payload(answer)  # type: ignore[arg-type]
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text=f"{answer.text}\n\nSource : {cited(payload['sources'])}")
    dispatcher.utter_message(json_message=payload)
    return dispatcher.messages


def recommendation_turn() -> list[dict[str, Any]]:
    """What action_recommend_products sends: the products in words with their buttons, then the
    payload."""
    text = (
        "Voici les produits qui correspondent à votre situation :\n\n"
        f"1. Vergemont Auto (Automobile)\n   • {PRODUCTS[0]['reasons'][0]}\n"
        "   Source : vg-auto-ipid.pdf, page 2\n\n"
        f"2. Vergemont Habitation Locataire (Habitation)\n   • {PRODUCTS[1]['reasons'][0]}\n"
        f"   ⚠ {PRODUCTS[1]['warnings'][0]}\n\n"
        "Ces propositions sont indicatives : elles ne valent ni devis ni engagement."
    )
    buttons = [
        {"title": f"En savoir plus sur {p['name']}", "payload": f"/ask_product_question{p['code']}"}
        for p in PRODUCTS
    ] + [ADVISOR_BUTTON]
    dispatcher = CollectingDispatcher()
    dispatcher.utter_message(text=text, buttons=buttons)
    dispatcher.utter_message(json_message=recommendations_payload(PRODUCTS, "v1", "fp"))  # type: ignore[arg-type]
    return dispatcher.messages


class RecordingTelegram(TelegramOutput):
    """Rasa's Telegram output; only the Bot API call is replaced."""

    def __init__(self) -> None:
        super().__init__(ENV["TELEGRAM_ACCESS_TOKEN"])
        self.sent: list[str] = []

    async def send_message(self, chat_id: Any, text: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.sent.append(text)


class RecordingTwilio(TwilioOutput):
    """Rasa's Twilio output; only the REST call creating a message is replaced."""

    def __init__(self) -> None:
        super().__init__(
            ENV["TWILIO_ACCOUNT_SID"], ENV["TWILIO_AUTH_TOKEN"], ENV["TWILIO_WHATSAPP_NUMBER"]
        )
        self.sent: list[str] = []

    @property
    def messages(self) -> Any:  # type: ignore[override]
        return SimpleNamespace(create=lambda **data: self.sent.append(data["body"]) or data)


class RecordingMessengerClient(MessengerClient):  # type: ignore[misc]
    """fbmessenger's client; only the Graph API call is replaced."""

    def __init__(self) -> None:
        super().__init__("page-token")
        self.sent: list[str] = []

    def send(self, payload: dict[str, Any], recipient_id: str, *args: Any, **kw: Any) -> None:
        self.sent.append(payload.get("text") or payload["attachment"]["payload"]["text"])


def recording_slack() -> tuple[SlackBot, list[str]]:
    """Rasa's Slack output; only the Web API call is replaced."""
    bot = SlackBot(ENV["SLACK_BOT_TOKEN"])
    sent: list[str] = []

    async def chat_post_message(**kwargs: Any) -> None:
        sent.append(kwargs["text"])

    bot.client.chat_postMessage = chat_post_message  # type: ignore[method-assign]
    return bot, sent


def app_output(name: str) -> tuple[DegradingChannel, OutputChannel, list[str]]:
    """The connector as credentials.yml configures it, and the app's recorded messages."""
    if name == "telegram":
        telegram = RecordingTelegram()
        return TelegramInput.from_credentials(None), telegram, telegram.sent  # type: ignore[return-value]
    if name == "whatsapp":
        twilio = RecordingTwilio()
        return WhatsAppInput.from_credentials(None), twilio, twilio.sent  # type: ignore[return-value]
    if name == "messenger":
        client = RecordingMessengerClient()
        return MessengerInput.from_credentials(None), MessengerBot(client), client.sent  # type: ignore[return-value]
    slack, sent = recording_slack()
    return SlackInput.from_credentials(None), slack, sent  # type: ignore[return-value]


def app_messages(name: str, turn: list[dict[str, Any]]) -> list[str]:
    """The messages the app receives for one turn of one action, sent as Rasa sends them: the
    remote action's BotUttered events, then the processor's `_send_bot_messages`."""

    async def processor(message: UserMessage) -> None:
        tracker = DialogueStateTracker(message.sender_id, slots=[])
        responses = [dict(response) for response in turn]
        events = await RemoteAction._utter_responses(
            responses,
            message.output_channel,
            None,
            tracker,  # type: ignore[arg-type]
        )
        await MessageProcessor._send_bot_messages(events, tracker, message.output_channel)

    async def scenario() -> list[str]:
        channel, output, sent = app_output(name)
        handle = channel.wrap(processor)
        await handle(UserMessage("Bonjour", output, "user-1"))
        return sent

    return asyncio.run(scenario())


APPS = ["telegram", "whatsapp", "messenger", "slack"]


@pytest.mark.usefixtures("channel_env")
class TestOneMessagePerAnswer:
    @pytest.mark.parametrize("app", APPS)
    def test_an_answer_is_one_message_with_its_sources(self, app: str) -> None:
        [message] = app_messages(app, answer_turn())
        assert message.count("Vous disposez de 30 jours pour renoncer au contrat.") == 1
        assert message.count("vg-epargne-conditions-generales.pdf") == 1
        assert "« Le souscripteur peut renoncer" in message

    @pytest.mark.parametrize("app", APPS)
    def test_a_recommendation_is_one_message(self, app: str) -> None:
        [message] = app_messages(app, recommendation_turn())
        for product in PRODUCTS:
            for sentence in [*product["reasons"], *product["warnings"]]:
                assert message.count(sentence) == 1, sentence
        assert "Contrats proposés" not in message
        assert "ni devis ni engagement" in message

    def test_the_paragraphs_of_a_message_stay_in_it(self) -> None:
        [message] = app_messages("telegram", recommendation_turn())
        assert "\n\u00a0\n2. Vergemont Habitation Locataire" in message


# ------------------------------------------------------------------ namespaces and the apology

CONNECTORS = [
    (TelegramInput, "424242", "telegram:424242"),
    (WhatsAppInput, "whatsapp:+33612345678", "whatsapp:+33612345678"),
    (MessengerInput, "6024301234567890", "messenger:6024301234567890"),
    (SlackInput, "U024BE7LH", "slack:U024BE7LH"),
]


def one_turn(
    connector: Any, app_id: str, processor: Any
) -> tuple[list[str], list[tuple[str, str]]]:
    """One message from `app_id` through the connector's wrapper: the tracker keys Rasa got, and
    the (app id, text) of each message sent back to the app."""
    channel = connector.from_credentials(None)
    seen: list[str] = []

    async def recording(message: UserMessage) -> None:
        seen.append(message.sender_id)
        await processor(message)

    inner = CollectingOutputChannel()
    asyncio.run(channel.wrap(recording)(UserMessage("Bonjour", inner, app_id)))
    return seen, [(m["recipient_id"], m["text"]) for m in inner.messages]


async def greeting(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, "Bonjour !")


@pytest.mark.usefixtures("channel_env")
class TestSenderNamespaces:
    @pytest.mark.parametrize(("connector", "app_id", "conversation"), CONNECTORS)
    def test_the_conversation_is_the_app_id_in_the_channels_namespace(
        self, connector: Any, app_id: str, conversation: str
    ) -> None:
        seen, sent = one_turn(connector, app_id, greeting)
        assert seen == [conversation]
        assert sent == [(app_id, "Bonjour !")], "the app gets its own id back"

    def test_one_id_on_several_channels_is_several_conversations(self) -> None:
        conversations = {
            one_turn(connector, "42", greeting)[0][0]
            for connector in (TelegramInput, MessengerInput, SlackInput)
        }
        assert conversations == {"telegram:42", "messenger:42", "slack:42"}

    def test_numbered_options_follow_the_conversation(self) -> None:
        channel = TelegramInput.from_credentials(None)
        inner = CollectingOutputChannel()
        output = channel.output_for(inner)  # type: ignore[attr-defined]
        asyncio.run(
            output.deliver(
                "telegram:42", {"text": "?", "buttons": [{"title": "A" * 80, "payload": "/a" * 40}]}
            )
        )
        assert channel.numbered.resolve("telegram:42", "1") == "/a" * 40  # type: ignore[attr-defined]
        assert channel.numbered.resolve("42", "1") is None  # type: ignore[attr-defined]


@pytest.mark.usefixtures("channel_env")
class TestTechnicalProblem:
    @pytest.mark.parametrize(("connector", "app_id", "conversation"), CONNECTORS)
    def test_a_turn_without_any_bot_message_gets_the_apology(
        self, connector: Any, app_id: str, conversation: str
    ) -> None:
        async def silent(_: UserMessage) -> None:
            return None

        _, sent = one_turn(connector, app_id, silent)
        assert sent == [(app_id, TECHNICAL_PROBLEM)]

    @pytest.mark.parametrize(("connector", "app_id", "conversation"), CONNECTORS)
    def test_a_failed_turn_gets_the_apology_and_the_error_goes_on(
        self, connector: Any, app_id: str, conversation: str
    ) -> None:
        async def failing(_: UserMessage) -> None:
            raise ConnectionError("the lock store is unreachable")

        channel = connector.from_credentials(None)
        inner = CollectingOutputChannel()
        with pytest.raises(ConnectionError):
            asyncio.run(channel.wrap(failing)(UserMessage("Bonjour", inner, app_id)))
        assert [(m["recipient_id"], m["text"]) for m in inner.messages] == [
            (app_id, TECHNICAL_PROBLEM)
        ]

    def test_an_answered_turn_gets_no_apology(self) -> None:
        _, sent = one_turn(TelegramInput, "42", greeting)
        assert [text for _, text in sent] == ["Bonjour !"]

    def test_the_apology_is_short_french_and_asks_to_retry(self) -> None:
        assert TECHNICAL_PROBLEM == (
            "Je rencontre un problème technique, pouvez-vous réessayer dans quelques minutes ?"
        )
