"""The Messenger connector on a real Sanic server: events signed with X-Hub-Signature-256 only,
the subscription handshake, `messenger:<PSID>` conversations. Only the Graph API calls of
fbmessenger's client are recorded instead of sent."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import aiohttp
import pytest
from fbmessenger import MessengerClient
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import Messenger

from channels.base import TECHNICAL_PROBLEM, OnNewMessage
from channels.messenger import MessengerInput, body_signature
from tests.channels.sanic_server import serving

pytestmark = pytest.mark.unit

ENV = {
    "FACEBOOK_VERIFY_TOKEN": "verify-token-of-the-tests",
    "FACEBOOK_APP_SECRET": "app-secret-of-the-tests",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "page-token",
}
PSID = "6024301234567890"
EVENT = json.dumps(
    {
        "object": "page",
        "entry": [
            {
                "id": "page-1",
                "time": 0,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": "page-1"},
                        "message": {"text": "Bonjour"},
                    }
                ],
            }
        ],
    }
).encode()


class RecordingClient(MessengerClient):  # type: ignore[misc]
    """fbmessenger's client; only the Graph API calls are replaced."""

    def __init__(self) -> None:
        super().__init__(ENV["FACEBOOK_PAGE_ACCESS_TOKEN"])
        self.sent: list[tuple[str, str]] = []

    def send(self, payload: dict[str, Any], recipient_id: str, *args: Any, **kw: Any) -> None:
        self.sent.append((recipient_id, payload.get("text", "")))

    def send_action(self, sender_action: str, recipient_id: str, *args: Any, **kw: Any) -> None:
        return None


class RecordingMessengerInput(MessengerInput):
    client: RecordingClient

    def messenger(self, on_new_message: OnNewMessage) -> Messenger:
        messenger = super().messenger(on_new_message)
        messenger.client = self.client
        return messenger


@pytest.fixture(autouse=True)
def messenger_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CHANNELS_DOCUMENTS_URL", raising=False)


async def greet(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, "Bonjour !")


def post(
    headers: dict[str, str], body: bytes = EVENT, handler: Any = greet
) -> tuple[int, list[UserMessage], list[tuple[str, str]]]:
    received: list[UserMessage] = []

    async def recording(message: UserMessage) -> None:
        received.append(message)
        await handler(message)

    async def scenario() -> tuple[int, list[tuple[str, str]]]:
        channel = RecordingMessengerInput.from_credentials(None)
        assert isinstance(channel, RecordingMessengerInput)
        channel.client = RecordingClient()
        async with (
            serving(channel, recording) as url,
            aiohttp.ClientSession() as http,
            http.post(
                f"{url}/webhooks/facebook/webhook",
                data=body,
                headers={"Content-Type": "application/json", **headers},
            ) as reply,
        ):
            return reply.status, channel.client.sent

    status, sent = asyncio.run(scenario())
    return status, received, sent


def sha256_header(body: bytes = EVENT, secret: str = ENV["FACEBOOK_APP_SECRET"]) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


def sha1_header(body: bytes = EVENT) -> dict[str, str]:
    digest = hmac.new(ENV["FACEBOOK_APP_SECRET"].encode(), body, hashlib.sha1).hexdigest()
    return {"X-Hub-Signature": f"sha1={digest}"}


class TestSignature:
    def test_an_event_signed_with_hmac_sha256_is_answered_to_its_sender(self) -> None:
        status, received, sent = post(sha256_header())
        assert status == 200
        assert [m.text for m in received] == ["Bonjour"]
        assert sent == [(PSID, "Bonjour !")]

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            sha1_header(),  # the legacy SHA-1 signature Rasa accepted
            sha256_header(secret="another-secret"),
            sha256_header(body=EVENT + b" "),
            {"X-Hub-Signature-256": sha256_header()["X-Hub-Signature-256"].upper()},
            {"X-Hub-Signature-256": sha256_header()["X-Hub-Signature-256"][7:]},
        ],
        ids=["none", "sha1", "other-secret", "other-body", "upper-case", "no-prefix"],
    )
    def test_an_event_without_a_valid_sha256_signature_is_refused(
        self, headers: dict[str, str]
    ) -> None:
        status, received, sent = post(headers)
        assert (status, received, sent) == (403, [], [])

    def test_the_signature_is_the_one_meta_documents(self) -> None:
        expected = hmac.new(b"s", b"{}", hashlib.sha256).hexdigest()
        assert body_signature("s", b"{}") == f"sha256={expected}"

    def test_a_signed_body_that_is_not_an_event_is_refused(self) -> None:
        body = b'{"object": "page"}'
        status, received, _ = post(sha256_header(body), body)
        assert (status, received) == (400, [])


class TestSubscription:
    def handshake(self, params: dict[str, str]) -> tuple[int, str]:
        async def scenario() -> tuple[int, str]:
            channel = MessengerInput.from_credentials(None)
            async with (
                serving(channel, greet) as url,
                aiohttp.ClientSession() as http,
                http.get(f"{url}/webhooks/facebook/webhook", params=params) as reply,
            ):
                return reply.status, await reply.text()

        return asyncio.run(scenario())

    def test_the_verify_token_answers_the_challenge(self) -> None:
        params = {"hub.mode": "subscribe", "hub.verify_token": ENV["FACEBOOK_VERIFY_TOKEN"]}
        assert self.handshake({**params, "hub.challenge": "1158201444"}) == (200, "1158201444")

    @pytest.mark.parametrize(
        "params",
        [
            {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
            {"hub.mode": "subscribe", "hub.challenge": "1"},
            {"hub.verify_token": ENV["FACEBOOK_VERIFY_TOKEN"], "hub.challenge": "1"},
        ],
    )
    def test_a_wrong_handshake_is_refused(self, params: dict[str, str]) -> None:
        status, text = self.handshake(params)
        assert status == 403
        assert text != "1"


class TestConversation:
    def test_the_conversation_is_the_psid_in_the_messenger_namespace(self) -> None:
        _, received, _ = post(sha256_header())
        assert [m.sender_id for m in received] == [f"messenger:{PSID}"]

    def test_the_person_is_told_when_the_assistant_cannot_answer(self) -> None:
        async def silent(_: UserMessage) -> None:
            return None

        status, _, sent = post(sha256_header(), handler=silent)
        assert status == 200
        assert sent == [(PSID, TECHNICAL_PROBLEM)]
