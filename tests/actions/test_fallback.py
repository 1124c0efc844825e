import asyncio

import pytest
from rasa_sdk.events import FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionHandleMisunderstanding, ActionRestartIfMeant
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


def restart(text, slots=None, active_loop=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionRestartIfMeant().run(
            dispatcher, tracker(slots or {}, text, "start_over", active_loop=active_loop), {}
        )
    )
    return events, dispatcher.messages


class TestActionRestartIfMeant:
    def test_a_request_in_words_starts_again(self):
        events, [message] = restart("on reprend tout depuis le début")
        assert events == [Restarted()]
        assert message["response"] == "utter_restart"

    def test_an_answer_taken_for_a_restart_goes_back_to_the_form(self):
        slots = {"consent": True, "requested_slot": "number_of_dependants"}
        events, messages = restart("zéro", slots, "needs_discovery_form")
        assert events == [FollowupAction("needs_discovery_form")]
        assert messages == []

    def test_neither_an_answer_nor_a_request_says_how_to_start_again(self):
        slots = {"consent": True, "requested_slot": "housing_status"}
        events, [message] = restart("zéro", slots, "needs_discovery_form")
        assert events == [FollowupAction("action_listen")]
        assert "recommencer" in message["text"]
