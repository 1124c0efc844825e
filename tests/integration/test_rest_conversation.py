"""The first vertical slice over REST, against the real Rasa server and action server."""

import httpx
import pytest
import rasa_sdk

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def texts(messages):
    return [message["text"] for message in messages if "text" in message]


class TestFirstSlice:
    def test_greeting_is_french_and_says_what_the_assistant_does(self, sqlite_stack):
        answer = sqlite_stack.say("prospect-1", "Bonjour")
        greeting, capabilities = texts(answer)
        assert greeting.startswith("Bonjour")
        assert "Vergemont Assurances" in greeting
        assert "conseiller" in capabilities
        payloads = [button["payload"] for button in answer[1]["buttons"]]
        assert "/ask_product_categories" in payloads
        assert "/request_recommendation" in payloads

    def test_categories_come_from_the_custom_action_with_a_payload(self, sqlite_stack):
        answer = sqlite_stack.say("prospect-2", "Quels produits proposez-vous ?")
        [text] = texts(answer)
        assert "Assurance emprunteur" in text
        [custom] = [message["custom"] for message in answer if "custom" in message]
        assert custom["type"] == "categories"
        assert len(custom["items"]) == 14

    def test_pinned_rasa_and_sdk_versions_work_together(self, sqlite_stack):
        # Rasa 3.6.21 (Python 3.10) calls rasa-sdk 3.21.1 (Python 3.11): the custom action above
        # answered, and these are the versions that did it.
        version = httpx.get(f"{sqlite_stack.base}/version", timeout=10).json()
        assert version["version"] == "3.6.21"
        assert rasa_sdk.__version__ == "3.21.1"

    @pytest.mark.parametrize("message", ["zxqv wplm", "Quel temps fera-t-il à Brest demain ?"])
    def test_gibberish_or_off_topic_gets_a_polite_french_redirection(self, sqlite_stack, message):
        [text] = texts(sqlite_stack.say("prospect-3", message))
        assert text.startswith(("Je n'ai pas bien compris", "Je suis l'assistant de Vergemont"))

    def test_conversation_is_stored_in_the_tracker_store(self, sqlite_stack):
        sqlite_stack.say("prospect-4", "Bonjour")
        events = sqlite_stack.tracker("prospect-4")["events"]
        user_texts = [event["text"] for event in events if event["event"] == "user"]
        assert user_texts == ["Bonjour"]
