import asyncio

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.recommend import NOT_AN_OFFER, ActionRecommendProducts
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit

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


def run(slots):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRecommendProducts().run(dispatcher, tracker(slots), {}))
    return events, dispatcher.messages


class TestActionRecommendProducts:
    def test_name_matches_the_domain(self):
        assert ActionRecommendProducts().name() == "action_recommend_products"

    def test_text_payload_and_buttons_for_up_to_three_products(self, answerer):
        events, [message, card] = run(TENANT_DRIVER)
        payload = card["custom"]
        assert payload["type"] == "recommendations"
        codes = [item["code"] for item in payload["items"]]
        assert 1 <= len(codes) <= 3
        assert {"VG-AUTO", "VG-HAB-LOC"} <= set(codes)
        assert events == [SlotSet("recommended_products", codes)]
        for item in payload["items"]:
            assert set(item) == {"code", "name", "category", "reasons", "warnings", "sources"}
            assert item["reasons"]
            assert item["sources"] == [
                {"document": f"CG_{item['code']}.pdf", "page": 3, "passage": "Le passage cité."}
            ]
            assert item["name"] in message["text"]
        assert f"CG_{codes[0]}.pdf, page 3" in message["text"]
        assert NOT_AN_OFFER in message["text"]
        payloads = [button["payload"] for button in message["buttons"]]
        assert payloads[-1] == "/ask_advisor"
        assert f'/ask_product_question{{"product": "{codes[0]}"}}' in payloads

    def test_supporting_passages_are_searched_once_per_product(self, answerer):
        run(TENANT_DRIVER)
        run(TENANT_DRIVER)
        products = [product for _, product in answerer.calls]
        assert len(products) == len(set(products))

    def test_without_consent_no_recommendation(self):
        events, [message] = run({"consent": False})
        assert events == []
        assert "votre accord" in message["text"]

    def test_nothing_suitable_offers_an_advisor(self):
        minor = {"consent": True, "resides_in_france": True, "age": 10, "vehicles": []}
        events, [message] = run({**minor, "projects": [], "housing_status": "hosted"})
        assert events == [SlotSet("recommended_products", [])]
        assert message["buttons"] == [
            {"title": "Parler à un conseiller", "payload": "/ask_advisor"}
        ]
