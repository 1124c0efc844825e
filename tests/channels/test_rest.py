"""The REST channel (channels/rest.py) on a real Sanic server: a bearer token, its own sender
namespace, clear refusals, and the apology when the turn brings nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from channels.base import MAX_MESSAGE_CHARS, TECHNICAL_PROBLEM
from channels.rest import MIN_TOKEN_LENGTH, NAMESPACE, TOKEN_VARIABLE, TokenRestInput
from common.rasa_api import REST_NAMESPACE, rest_conversation_id, rest_headers
from tests.channels.sanic_server import serving

pytestmark = pytest.mark.unit

TOKEN = "rest-token-of-the-channel-tests-0123456789"
Handler = Callable[[UserMessage], Awaitable[None]]


async def echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"Reçu : {message.text}")


def post(
    body: Any,
    headers: dict[str, str] | None = None,
    handler: Handler = echo,
    raw: bytes | None = None,
) -> tuple[int, Any, list[UserMessage]]:
    """POST to /webhooks/rest/webhook; the status, the JSON answer and the messages Rasa got."""
    received: list[UserMessage] = []

    async def recording(message: UserMessage) -> None:
        received.append(message)
        await handler(message)

    async def scenario() -> tuple[int, Any]:
        channel = TokenRestInput.from_credentials(None)
        async with serving(channel, recording) as url, aiohttp.ClientSession() as http:
            kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
            async with http.post(
                f"{url}/webhooks/rest/webhook", headers=headers or {}, **kwargs
            ) as reply:
                return reply.status, await reply.json(content_type=None)

    status, answer = asyncio.run(scenario())
    return status, answer, received


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    return TOKEN


class TestConfiguration:
    def test_without_the_token_the_channel_is_off_and_names_the_variable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(TOKEN_VARIABLE, raising=False)
        status, answer, received = post({"sender": "a", "message": "Bonjour"}, rest_headers("x"))
        assert status == 503
        assert TOKEN_VARIABLE in answer["error"]
        assert received == []

    def test_a_short_token_is_not_a_secret_and_leaves_the_channel_off(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        short = "t" * (MIN_TOKEN_LENGTH - 1)
        monkeypatch.setenv(TOKEN_VARIABLE, short)
        status, _, received = post({"sender": "a", "message": "Bonjour"}, rest_headers(short))
        assert (status, received) == (503, [])

    def test_the_harness_helpers_agree_with_the_channel(self) -> None:
        assert REST_NAMESPACE == NAMESPACE
        assert rest_conversation_id("bench-1") == "rest:bench-1"
        assert rest_headers(TOKEN) == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.usefixtures("token")
class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": TOKEN},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": "Bearer "},
            rest_headers(TOKEN[:-1]),
            rest_headers(TOKEN + "0"),
            rest_headers("another-token-of-the-same-length-0123456789"),
        ],
        ids=["none", "no-scheme", "basic", "empty", "prefix", "longer", "other"],
    )
    def test_a_request_without_the_token_is_refused_before_rasa(
        self, headers: dict[str, str]
    ) -> None:
        status, answer, received = post({"sender": "a", "message": "Bonjour"}, headers)
        assert status == 401
        assert "Authorization" in answer["error"]
        assert received == []

    def test_the_token_opens_the_channel(self) -> None:
        status, answer, received = post(
            {"sender": "bench-1", "message": "Bonjour"}, rest_headers(TOKEN)
        )
        assert status == 200
        assert answer == [{"recipient_id": "bench-1", "text": "Reçu : Bonjour"}]
        assert [m.text for m in received] == ["Bonjour"]


@pytest.mark.usefixtures("token")
class TestSenderNamespace:
    @pytest.mark.parametrize(
        "sender",
        ["bench-1", "whatsapp:+33612345678", "website:a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "42"],
    )
    def test_the_conversation_is_the_sender_in_the_rest_namespace(self, sender: str) -> None:
        """Even an id that looks like another channel's stays a REST conversation."""
        status, answer, received = post(
            {"sender": sender, "message": "Bonjour"}, rest_headers(TOKEN)
        )
        assert status == 200
        assert [m.sender_id for m in received] == [f"rest:{sender}"]
        assert [m.input_channel for m in received] == ["rest"]
        assert answer[0]["recipient_id"] == sender

    def test_the_caller_cannot_choose_the_input_channel(self) -> None:
        body = {"sender": "a", "message": "Bonjour", "input_channel": "twilio"}
        _, _, received = post(body, rest_headers(TOKEN))
        assert received[0].input_channel == "rest"


@pytest.mark.usefixtures("token")
class TestMalformedRequests:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"message": "Bonjour"}, "sender"),
            ({"sender": "", "message": "Bonjour"}, "sender"),
            ({"sender": 42, "message": "Bonjour"}, "sender"),
            ({"sender": "a b", "message": "Bonjour"}, "sender"),
            ({"sender": ":a", "message": "Bonjour"}, "sender"),
            ({"sender": "x" * 129, "message": "Bonjour"}, "sender"),
            ({"sender": "a"}, "message"),
            ({"sender": "a", "message": ["Bonjour"]}, "message"),
            ({"sender": "a", "message": "Bonjour", "metadata": "x"}, "metadata"),
            (["a", "Bonjour"], "JSON object"),
        ],
    )
    def test_a_malformed_request_says_what_is_wrong(self, body: Any, field: str) -> None:
        status, answer, received = post(body, rest_headers(TOKEN))
        assert status == 400
        assert field in answer["error"]
        assert received == []

    def test_a_body_that_is_not_json_is_refused(self) -> None:
        headers = {**rest_headers(TOKEN), "Content-Type": "application/json"}
        status, answer, received = post(None, headers, raw=b"{not json")
        assert (status, received) == (400, [])
        assert "JSON object" in answer["error"]

    def test_an_empty_message_is_still_a_turn(self) -> None:
        status, answer, received = post({"sender": "a", "message": ""}, rest_headers(TOKEN))
        assert status == 200
        assert [m.text for m in received] == [""]
        assert answer[0]["text"].startswith("Reçu")


@pytest.mark.usefixtures("token")
class TestTechnicalProblem:
    def test_a_turn_without_any_bot_message_gets_the_apology(self) -> None:
        async def silent(_: UserMessage) -> None:
            return None

        status, answer, _ = post({"sender": "a", "message": "Bonjour"}, rest_headers(TOKEN), silent)
        assert status == 200
        assert answer == [{"recipient_id": "a", "text": TECHNICAL_PROBLEM}]

    def test_a_failing_turn_gets_the_apology(self) -> None:
        async def failing(_: UserMessage) -> None:
            raise ConnectionError("the action server is down")

        status, answer, _ = post(
            {"sender": "a", "message": "Bonjour"}, rest_headers(TOKEN), failing
        )
        assert status == 200
        assert answer == [{"recipient_id": "a", "text": TECHNICAL_PROBLEM}]

    def test_a_turn_cut_short_keeps_what_was_said_and_apologises(self) -> None:
        async def half(message: UserMessage) -> None:
            await message.output_channel.send_text_message(message.sender_id, "Un instant.")
            raise ConnectionError("the action server is down")

        _, answer, _ = post({"sender": "a", "message": "Bonjour"}, rest_headers(TOKEN), half)
        assert [reply["text"] for reply in answer] == ["Un instant.", TECHNICAL_PROBLEM]


@pytest.mark.usefixtures("token")
class TestOversizedMessages:
    def test_a_message_too_long_to_read_is_answered_without_reaching_rasa(self) -> None:
        text = "mutuelle santé famille " * 400  # 9,200 characters
        status, answer, received = post({"sender": "a", "message": text}, rest_headers(TOKEN))
        assert status == 200
        assert received == []
        [reply] = answer
        assert reply["text"].startswith("Votre message est trop long (9 200 caractères")

    def test_a_long_message_within_the_limit_is_read(self) -> None:
        text = "x" * MAX_MESSAGE_CHARS
        _, _, received = post({"sender": "a", "message": text}, rest_headers(TOKEN))
        assert [m.text for m in received] == [text]


@pytest.mark.usefixtures("token")
class TestConversationCommands:
    @pytest.mark.parametrize(
        ("typed", "read"),
        [
            ("/session_start", "session_start"),
            (" /restart", "restart"),
            ("/back", "back"),
            ('/SESSION_START{"x": 1}', 'SESSION_START{"x": 1}'),
        ],
    )
    def test_rasas_commands_are_read_as_words_not_run(self, typed: str, read: str) -> None:
        _, _, received = post({"sender": "a", "message": typed}, rest_headers(TOKEN))
        assert [m.text for m in received] == [read]

    @pytest.mark.parametrize("payload", ["/affirm", "/ask_advisor", "/restarting", "/backup"])
    def test_button_payloads_and_other_words_pass_unchanged(self, payload: str) -> None:
        _, _, received = post({"sender": "a", "message": payload}, rest_headers(TOKEN))
        assert [m.text for m in received] == [payload]
