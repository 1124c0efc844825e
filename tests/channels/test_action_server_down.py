"""When the action server is down, every channel still answers: a real Rasa agent (a small model
trained here, its rules calling a custom action), a real rasa-sdk action server that is stopped
and started again, and the REST and widget channels mounted as `rasa run` mounts them.

The model is the only thing made for the test: the assistant's own model is trained by `make
train` (minutes), this one in about twenty seconds, with one rule that needs the action server
(`/ask` → `action_answer`) and one that does not (`/greet` → `utter_greet`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import register
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from channels.base import TECHNICAL_PROBLEM
from channels.rest import TokenRestInput
from channels.website import WidgetSocketIOInput
from common.rasa_api import rest_headers
from tests.channels.fault_actions import ANSWER
from tests.channels.sanic_server import free_port, serving_app
from tests.channels.test_website import SESSION, WIDGET_SETTINGS, WidgetClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "rest-token-of-the-fault-tests-0123456789"
DOMAIN = """
version: "3.1"
intents: [greet, ask]
responses:
  utter_greet:
    - text: "Bonjour !"
actions: [action_answer]
"""
CONFIG = """
recipe: default.v1
assistant_id: channel-fault-tests
language: fr
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
"""
DATA = """
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - bonjour
  - intent: ask
    examples: |
      - question
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
  - rule: ask
    steps:
      - intent: ask
      - action: action_answer
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rasa.model_training import train

    root = tmp_path_factory.mktemp("fault-bot")
    for name, text in (("domain.yml", DOMAIN), ("config.yml", CONFIG), ("data.yml", DATA)):
        (root / name).write_text(text, encoding="utf-8")
    result = train(
        domain=str(root / "domain.yml"),
        config=str(root / "config.yml"),
        training_files=[str(root / "data.yml")],
        output=str(root / "models"),
        fixed_model_name="fault-bot",
    )
    assert result.code == 0, "the test model did not train"
    return Path(str(result.model))


def action_server(port: int) -> AbstractAsyncContextManager[str]:
    """The real rasa-sdk action server with tests/channels/fault_actions.py."""
    return serving_app(create_app("tests.channels.fault_actions"), port)


@asynccontextmanager
async def rasa_server(model: Path, action_port: int) -> AsyncIterator[str]:
    """A Rasa agent with the channels of credentials.yml that need no app of their own."""
    agent = Agent.load(
        str(model),
        action_endpoint=EndpointConfig(url=f"http://127.0.0.1:{action_port}/webhook"),
    )
    app = Sanic(f"fault_rasa_{free_port()}")
    register(
        [TokenRestInput(TOKEN), WidgetSocketIOInput.from_credentials(WIDGET_SETTINGS)],
        app,
        "/webhooks/",
    )
    app.ctx.agent = agent
    async with serving_app(app) as url:
        yield url


async def say(http: aiohttp.ClientSession, url: str, text: str) -> list[str]:
    async with http.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": "fault-1", "message": text},
        headers=rest_headers(TOKEN),
    ) as reply:
        assert reply.status == 200
        return [message.get("text", "") for message in await reply.json()]


class TestActionServerDown:
    def test_rest_replies_with_the_apology_then_resumes_when_the_server_is_back(
        self, model: Path
    ) -> None:
        async def scenario() -> dict[str, list[str]]:
            action_port = free_port()
            replies: dict[str, list[str]] = {}
            async with rasa_server(model, action_port) as url, aiohttp.ClientSession() as http:
                async with action_server(action_port):
                    replies["up"] = await say(http, url, "/ask")
                replies["down"] = await say(http, url, "/ask")
                replies["down, no action needed"] = await say(http, url, "/greet")
                async with action_server(action_port):
                    replies["back"] = await say(http, url, "/ask")
            return replies

        replies = asyncio.run(scenario())
        assert replies == {
            "up": [ANSWER],
            "down": [TECHNICAL_PROBLEM],
            "down, no action needed": ["Bonjour !"],
            "back": [ANSWER],
        }

    def test_the_widget_gets_the_apology(self, model: Path) -> None:
        async def scenario() -> list[dict[str, Any]]:
            async with rasa_server(model, free_port()) as url, WidgetClient(url) as widget:
                session = await widget.session(SESSION)
                return await widget.say("/ask", session)

        assert [event.get("text") for event in asyncio.run(scenario())] == [TECHNICAL_PROBLEM]
