import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue import ActionListProductCategories
from product_catalog.categories import CATEGORY_CODES

pytestmark = pytest.mark.unit


def _tracker(text: str) -> Tracker:
    return Tracker(
        sender_id="test-user",
        slots={},
        latest_message={"text": text, "intent": {"name": "ask_product_categories"}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


class TestActionListProductCategories:
    def test_name_matches_the_domain(self):
        assert ActionListProductCategories().name() == "action_list_product_categories"

    def test_sends_french_text_and_structured_payload(self):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(
            ActionListProductCategories().run(dispatcher, _tracker("Quels produits ?"), {})
        )
        assert events == []
        [message] = dispatcher.messages
        assert "Vergemont Assurances propose" in message["text"]
        assert "Assurance emprunteur" in message["text"]
        payload = message["custom"]
        assert payload["type"] == "categories"
        assert {item["code"] for item in payload["items"]} == CATEGORY_CODES
