import asyncio
import logging

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandOff, ValidateHandoffForm
from tests.actions.conftest import FakeHandoffService, tracker

pytestmark = pytest.mark.unit

READY = {
    "consent": True,
    "consent_at": "2026-11-26T10:00:00+00:00",
    "resides_in_france": True,
    "age": 34,
    "housing_status": "tenant",
    "vehicles": ["car"],
    "contact_name": "Camille Martin",
    "contact": "e-mail et téléphone",
    "contact_email": "camille.martin@exemple.fr",
    "contact_phone": "06 12 34 56 78",
    "callback_slot": "demain matin",
}
HISTORY = [
    {"event": "user", "text": "Bonjour", "timestamp": 1764150000.0},
    {"event": "bot", "text": "Bonjour ! Je suis l'assistant", "timestamp": 1764150001.0},
    {"event": "user", "text": "je veux parler à un conseiller", "timestamp": 1764150002.0},
]


def validate(slots, text, intent="inform", requested=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ValidateHandoffForm().run(
            dispatcher, tracker({**slots, "requested_slot": requested}, text, intent), {}
        )
    )
    return events, [m["text"] for m in dispatcher.messages]


def hand_off(slots, events=HISTORY):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(
        ActionHandOff().run(dispatcher, tracker(slots, "", None, events=events), {})
    )
    return result, [m["text"] for m in dispatcher.messages]


class TestValidateHandoffForm:
    def test_consent_is_asked_when_not_given_yet(self):
        events, _ = validate({}, "je veux un conseiller", "ask_advisor")
        assert events == [SlotSet("requested_slot", "consent")]

    def test_name_then_contact_then_callback(self):
        events, _ = validate(
            {"consent": True}, "je m'appelle camille martin", "inform", "contact_name"
        )
        assert events == [
            SlotSet("contact_name", "Camille Martin"),
            SlotSet("requested_slot", "contact"),
        ]
        events, _ = validate(
            {"consent": True, "contact_name": "Camille Martin"},
            "camille@exemple.fr ou le 06.12.34.56.78", "inform", "contact",
        )  # fmt: skip
        assert events == [
            SlotSet("contact_email", "camille@exemple.fr"),
            SlotSet("contact_phone", "06 12 34 56 78"),
            SlotSet("contact", "e-mail et téléphone"),
            SlotSet("requested_slot", "callback_slot"),
        ]

    @pytest.mark.parametrize(
        ("text", "hint"),
        [
            ("camille@exemple", "adresse e-mail ne semble pas valide"),
            ("06 12 34", "numéro ne semble pas valide"),
            ("appelez-moi", "adresse e-mail ou un numéro"),
        ],
    )
    def test_invalid_contact_is_asked_again_with_the_reason(self, text, hint):
        events, texts = validate({"consent": True, "contact_name": "C"}, text, "inform", "contact")
        assert events == [SlotSet("contact", None), SlotSet("requested_slot", "contact")]
        assert hint in texts[0]

    def test_a_name_with_digits_is_refused(self):
        events, texts = validate({"consent": True}, "camille 0612", "inform", "contact_name")
        assert events == [SlotSet("contact_name", None), SlotSet("requested_slot", "contact_name")]
        assert texts

    def test_a_product_question_is_left_to_the_rules(self):
        events, texts = validate(
            {"consent": True}, "le vol est-il couvert ?", "ask_product_question", "contact_name"
        )
        assert events == []
        assert texts == []

    def test_callback_dont_know_means_as_soon_as_possible(self):
        slots = {"consent": True, "contact_name": "C", "contact": "e-mail"}
        events, _ = validate(slots, "je ne sais pas", "dont_know", "callback_slot")
        assert events == [
            SlotSet("callback_slot", "dès que possible"),
            SlotSet("requested_slot", None),
        ]


class TestActionHandOff:
    def test_reference_is_confirmed_once_the_lead_is_stored(self, advisor):
        events, [text] = hand_off(READY)
        assert events == [SlotSet("lead_reference", "VG-LEAD-0001")]
        assert "VG-LEAD-0001" in text
        [request] = advisor.requests
        assert request.conversation_id == "test-conversation"
        assert request.contact.email == "camille.martin@exemple.fr"
        assert request.contact.preferred_slot == "demain matin"
        assert request.profile["housing_status"] == "tenant"
        assert {r.code for r in request.recommendations} >= {"VG-AUTO", "VG-HAB-LOC"}
        assert request.recommendations[0].sources[0].page == 3
        assert [t.speaker for t in request.transcript] == ["user", "bot", "user"]
        assert request.consent.given_at.isoformat() == "2026-11-26T10:00:00+00:00"
        assert request.reason == "asked"

    def test_store_down_gives_no_reference_and_keeps_the_details(self, services):
        services.advisor = FakeHandoffService(fail=True)
        events, [text] = hand_off(READY)
        assert events == []
        assert "réessayez" in text
        assert "VG-LEAD" not in text

    def test_without_consent_nothing_is_sent(self, advisor):
        events, [text] = hand_off({**READY, "consent": False})
        assert events == []
        assert advisor.requests == []
        assert "Sans votre accord" in text

    def test_logs_never_hold_the_email_or_phone(self, caplog):
        with caplog.at_level(logging.DEBUG):
            hand_off(READY)
        assert "camille.martin@exemple.fr" not in caplog.text
        assert "06 12 34 56 78" not in caplog.text
        assert "VG-LEAD-0001" in caplog.text
