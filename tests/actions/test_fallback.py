import asyncio

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionHandleMisunderstanding
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit


def user(intent):
    return {"event": "user", "text": "xx", "parse_data": {"intent": {"name": intent}}}


def run(events):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(
        ActionHandleMisunderstanding().run(
            dispatcher, tracker({}, "xx", "nlu_fallback", events=events), {}
        )
    )
    return result, dispatcher.messages


class TestActionHandleMisunderstanding:
    def test_first_miss_suggests_what_to_do(self):
        events, [message] = run(
            [user("greet"), {"event": "bot", "text": "Bonjour"}, user("nlu_fallback")]
        )
        assert events == []
        assert message["text"].startswith("Je n'ai pas bien compris")
        assert "/request_recommendation" in [b["payload"] for b in message["buttons"]]

    def test_second_miss_in_a_row_offers_an_advisor(self):
        events, [message] = run(
            [user("nlu_fallback"), {"event": "bot", "text": "?"}, user("nlu_fallback")]
        )
        assert events == [SlotSet("handoff_reason", "misunderstanding")]
        assert message["buttons"][0]["payload"] == "/ask_advisor"

    def test_an_understood_message_in_between_resets_the_count(self):
        events, _ = run([user("nlu_fallback"), user("greet"), user("nlu_fallback")])
        assert events == []
