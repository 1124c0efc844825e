import asyncio
import logging

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandOff, ValidateHandoffForm
from actions.recommend import ActionRecommendProducts
from advisor.handoff import HandoffReceipt, HandoffRequest
from common.logging import sender_hash
from common.pseudonym import log_tag
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

    def test_details_given_before_the_form_are_kept_when_it_starts_again(self):
        # A second handoff: Rasa has the form validate the slots already filled, then ends it.
        given = ["consent", "contact_name", "contact", "callback_slot"]
        message = {"text": "un conseiller", "intent": {"name": "ask_advisor"}, "entities": []}
        events = [{"event": "user", "text": "un conseiller", "parse_data": message}]
        events += [SlotSet(name, READY[name]) for name in given]
        dispatcher = CollectingDispatcher()
        validated = asyncio.run(
            ValidateHandoffForm().run(
                dispatcher, tracker(READY, "un conseiller", "ask_advisor", events=events), {}
            )
        )
        assert {e["name"]: e["value"] for e in validated} == {
            **{name: READY[name] for name in given},
            "consent_at": READY["consent_at"],
            "requested_slot": None,
        }
        assert dispatcher.messages == []


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


def shown_recommendation(slots):
    """The recommendation message `action_recommend_products` sends, as the tracker keeps it."""
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionRecommendProducts().run(dispatcher, tracker(slots), {}))
    [payload] = [message["custom"] for message in dispatcher.messages if message.get("custom")]
    event = {"event": "bot", "text": None, "data": {"custom": payload}, "timestamp": 1764150003.0}
    return payload, event


@pytest.fixture
def engine_runs(services, monkeypatch):
    """The profiles the catalogue engine is run on, from here on."""
    runs = []
    recommend = services.catalogue.recommend

    def counting(profile):
        runs.append(profile)
        return recommend(profile)

    monkeypatch.setattr(services.catalogue, "recommend", counting)
    return runs


class TestTheRecommendationInTheLead:
    def test_the_recommendation_shown_is_handed_off_when_the_profile_is_unchanged(
        self, advisor, engine_runs
    ):
        payload, event = shown_recommendation(READY)
        events, _ = hand_off(READY, events=[*HISTORY, event])
        assert events == [SlotSet("lead_reference", "VG-LEAD-0001")]
        assert len(engine_runs) == 1  # the recommendation's run only: not again for the lead
        [request] = advisor.requests
        assert [r.model_dump(mode="json", exclude_none=True) for r in request.recommendations] == (
            payload["items"]
        )
        assert request.catalogue_version == payload["catalogue_version"]

    def test_the_recommendation_is_computed_again_when_the_profile_changed(
        self, advisor, engine_runs
    ):
        payload, event = shown_recommendation({**READY, "vehicles": []})  # before "une voiture"
        hand_off(READY, events=[*HISTORY, event])
        assert len(engine_runs) == 2
        [request] = advisor.requests
        assert "VG-AUTO" not in {item["code"] for item in payload["items"]}
        assert "VG-AUTO" in {r.code for r in request.recommendations}

    def test_a_recommendation_shown_before_a_restart_is_not_reused(self, advisor, engine_runs):
        _, event = shown_recommendation(READY)
        hand_off(READY, events=[event, {"event": "restart"}, *HISTORY])
        assert len(engine_runs) == 2
        [request] = advisor.requests
        assert {r.code for r in request.recommendations} >= {"VG-AUTO", "VG-HAB-LOC"}


class ReceiptService:
    """A lead store stand-in that answers with a given receipt."""

    def __init__(self, receipt: HandoffReceipt) -> None:
        self.receipt = receipt

    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        return self.receipt


class TestPersonalDataInLogs:
    @pytest.mark.parametrize("fail", [False, True])
    def test_the_conversation_id_is_logged_as_a_keyed_tag_only(
        self, services, caplog, monkeypatch, fail
    ):
        monkeypatch.setenv("LOG_HASH_KEY", "clé-de-test-des-journaux")
        services.advisor = FakeHandoffService(fail=fail)
        sender = "whatsapp:+33612345678"
        dispatcher = CollectingDispatcher()
        with caplog.at_level(logging.DEBUG):
            asyncio.run(
                ActionHandOff().run(
                    dispatcher, tracker(READY, "", None, events=HISTORY, sender_id=sender), {}
                )
            )
        assert "612345678" not in caplog.text
        assert log_tag(sender) in caplog.text
        assert log_tag(sender) == sender_hash(sender)  # the tag its request ids start with
        assert log_tag(sender) != sender_hash(sender, b"another-key")  # keyed


class TestConfirmation:
    def test_an_updated_open_request_is_said_so_honestly(self, services):
        services.advisor = ReceiptService(
            HandoffReceipt(lead_reference="VG-OPEN01", created=False, contact_updated=True)
        )
        events, [text] = hand_off(READY)
        assert events == [SlotSet("lead_reference", "VG-OPEN01")]
        assert "déjà une demande en cours" in text
        assert "mis à jour vos coordonnées" in text
        assert "C'est enregistré" not in text

    def test_an_unchanged_open_request_is_not_announced_as_new(self, services):
        services.advisor = ReceiptService(HandoffReceipt(lead_reference="VG-OPEN01", created=False))
        _, [text] = hand_off(READY)
        assert "VG-OPEN01" in text
        assert "rien n'a changé" in text
        assert "C'est enregistré" not in text
