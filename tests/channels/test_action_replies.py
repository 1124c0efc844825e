"""The real actions' answer and recommendations, as the channels send them: one message each.

`action_answer_question` and `action_recommend_products` run here with the catalogue engine and a
fake knowledge base (tests/actions/conftest.py); their messages go through what Rasa makes of
them, the channels' joiner and each messaging app's rendering. Needs the action server's packages,
so it runs in `.venv` only (tests/channels/conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import CatalogueAdapter, KnowledgeAdapter, Services, install_services
from actions.answer import ActionAnswerQuestion
from actions.recommend import ActionRecommendProducts
from channels.formatting import MESSENGER, SLACK, TELEGRAM, WHATSAPP, ChannelProfile, render
from channels.joining import MessageJoiner
from product_catalog.loader import load_catalogue
from tests.actions.conftest import FakeAnswerer, FakeHandoffService, tracker

pytestmark = pytest.mark.unit

APPS = [TELEGRAM, WHATSAPP, MESSENGER, SLACK]
# Rasa's BotUttered keys (rasa.core.actions.action.create_bot_utterance).
BOT_UTTERED_KEYS = ("elements", "quick_replies", "buttons", "attachment", "image", "custom")
TENANT_DRIVER = {
    "consent": True,
    "resides_in_france": True,
    "age": 34,
    "housing_status": "tenant",
    "rented_out_properties": 0,
    "vehicles": ["car"],
    "projects": [],
    "employment_status": "self_employed",
}


@pytest.fixture(scope="module", autouse=True)
def services() -> Iterator[None]:
    catalogue = CatalogueAdapter(load_catalogue())
    install_services(
        Services(
            catalogue=catalogue,
            knowledge=KnowledgeAdapter(FakeAnswerer()),
            advisor=FakeHandoffService(),
        )
    )
    yield
    install_services(None)


def as_rasa_sends(message: dict[str, Any]) -> dict[str, Any]:
    """A dispatcher message as Rasa hands it to the output channel: empty values dropped by the
    remote action, then the BotUttered event's keys."""
    kept = {key: value for key, value in message.items() if value}
    return {
        "text": kept.pop("text", None),
        **{key: kept.pop(key, None) for key in BOT_UTTERED_KEYS},
        **kept,
    }


def bot_messages(action: Action, slots: dict[str, Any], text: str) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker(slots, text, "ask_product_question"), {}))
    return [as_rasa_sends(message) for message in dispatcher.messages]


def through_the_channel(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    delivered: list[dict[str, Any]] = []

    async def deliver(_: str, message: dict[str, Any]) -> None:
        delivered.append(message)

    async def turn() -> None:
        joiner = MessageJoiner(deliver)
        async with joiner.turn():
            for message in messages:
                await joiner.push("user-1", message)

    asyncio.run(turn())
    return delivered


@pytest.fixture(scope="module")
def answer(services: None) -> list[dict[str, Any]]:
    return bot_messages(ActionAnswerQuestion(), {}, "Le bris de glace est-il couvert ?")


@pytest.fixture(scope="module")
def recommendation(services: None) -> list[dict[str, Any]]:
    return bot_messages(ActionRecommendProducts(), TENANT_DRIVER, "/request_recommendation")


class TestOneMessagePerAnswer:
    def test_the_answer_is_one_message_holding_its_payload(self, answer: list[Any]) -> None:
        [message] = through_the_channel(answer)
        assert message["custom"]["type"] == "answer"
        assert message["text"].startswith(message["custom"]["text"])

    def test_the_recommendation_is_one_message_holding_its_payload(
        self, recommendation: list[Any]
    ) -> None:
        [message] = through_the_channel(recommendation)
        assert message["custom"]["type"] == "recommendations"
        assert message["buttons"], "the products' and the advisor's buttons stay with it"

    @pytest.mark.parametrize("app", APPS, ids=lambda app: app.name)
    def test_each_app_gets_the_answer_once_in_one_text(
        self, app: ChannelProfile, answer: list[Any]
    ) -> None:
        [message] = through_the_channel(answer)
        [text] = render(message, app).texts
        assert text.count(message["custom"]["text"]) == 1
        assert text.count("CG_GENERAL.pdf") == 1, "the citation is given once"

    @pytest.mark.parametrize("app", APPS, ids=lambda app: app.name)
    def test_each_app_gets_the_recommendation_once_in_one_text(
        self, app: ChannelProfile, recommendation: list[Any]
    ) -> None:
        [message] = through_the_channel(recommendation)
        [text] = render(message, app).texts
        items = message["custom"]["items"]
        assert len(items) >= 2
        for item in items:
            for reason in item["reasons"]:
                assert text.count(reason) == 1, (app.name, reason)
        assert "Contrats proposés" not in text, "the cards are not written out a second time"
