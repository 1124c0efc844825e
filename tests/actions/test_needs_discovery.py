import asyncio
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.needs_discovery import (
    ActionCorrectFact,
    ActionSummarizeProfile,
    ValidateNeedsDiscoveryForm,
    next_slot,
)
from actions.slot_parsers import SKIPPED
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit

CONSENTED = {"consent": True, "consent_at": "2026-11-26T10:00:00+00:00"}


def run_form(
    slots: dict[str, Any], text: str, intent: str = "inform", requested: str | None = None
):
    dispatcher = CollectingDispatcher()
    all_slots = {**slots, "requested_slot": requested}
    events = asyncio.run(
        ValidateNeedsDiscoveryForm().run(
            dispatcher, tracker(all_slots, text, intent, active_loop="needs_discovery_form"), {}
        )
    )
    return events, [m.get("text") for m in dispatcher.messages]


def as_slots(events) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


def converse(answers: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """Play a whole form, answering each question the form asks from `answers`."""
    slots: dict[str, Any] = {}
    events, _ = run_form(slots, "je cherche une assurance", "request_recommendation")
    slots.update(as_slots(events))
    asked = [slots["requested_slot"]]
    for _ in range(40):
        text, intent = answers[slots["requested_slot"]]
        events, _ = run_form(slots, text, intent, slots["requested_slot"])
        slots.update(as_slots(events))
        asked.append(slots["requested_slot"])
        if slots["requested_slot"] is None:
            break
    return slots, asked


class TestValidateNeedsDiscoveryForm:
    def test_name_matches_the_domain(self):
        assert ValidateNeedsDiscoveryForm().name() == "validate_needs_discovery_form"

    def test_consent_is_asked_first_and_facts_wait_for_it(self):
        events, _ = run_form({}, "je suis locataire et j'ai une voiture", "request_recommendation")
        assert events == [SlotSet("requested_slot", "consent")]

    def test_refusing_consent_ends_the_form_and_keeps_nothing(self):
        events, texts = run_form({}, "je refuse", "refuse_consent", "consent")
        assert events == [
            SlotSet("consent", False),
            SlotSet("consent_at", None),
            SlotSet("requested_slot", None),
        ]
        assert "aucune information personnelle" in texts[0]

    def test_consent_then_the_most_useful_question(self):
        events, _ = run_form({}, "j'accepte", "give_consent", "consent")
        slots = as_slots(events)
        assert slots["consent"] is True
        assert slots["requested_slot"] == "resides_in_france"

    def test_a_tenant_without_vehicle_is_never_asked_about_motorhomes(self):
        slots, asked = converse(
            {
                "consent": ("j'accepte", "give_consent"),
                "resides_in_france": ("oui", "affirm"),
                "age": ("34", "inform"),
                "housing_status": ("je suis locataire", "inform"),
                "rented_out_properties": ("non", "deny"),
                "vehicles": ("non", "deny"),
                "projects": ("non", "deny"),
                "employment_status": ("salariée", "inform"),
                "employer_health_plan": ("oui", "affirm"),
                "family_situation": ("célibataire", "inform"),
                "number_of_dependants": ("aucune", "deny"),
                "pets": ("non", "deny"),
                "monthly_budget_eur": ("50 €", "inform"),
                "current_coverage": ("aucun", "deny"),
            }
        )
        assert asked[-1] is None, asked
        assert slots["housing_status"] == "tenant"
        assert slots["vehicles"] == []
        assert "investor_knowledge" not in asked  # no savings project: no suitability questions
        assert "loan_duration_years" not in asked
        assert len(asked) == len(set(asked))  # nothing asked twice

    def test_a_savings_project_brings_the_suitability_questions(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 40, "projects": ["savings_goal"]}
        assert next_slot(slots) is not None
        asked = set()
        for _ in range(30):
            slot = next_slot(slots)
            if slot is None:
                break
            asked.add(slot)
            slots[slot] = SKIPPED
        assert {"investor_knowledge", "risk_tolerance", "loss_capacity"} <= asked

    def test_age_in_french_words_is_understood(self):
        events, _ = run_form(
            {**CONSENTED, "resides_in_france": True}, "quarante-deux ans", "inform", "age"
        )
        assert as_slots(events)["age"] == 42

    def test_an_invalid_answer_is_asked_again_with_a_hint(self):
        events, texts = run_form({**CONSENTED, "resides_in_france": True}, "bof", "inform", "age")
        assert SlotSet("age", None) in events
        assert as_slots(events)["requested_slot"] == "age"
        assert "Indiquez votre âge" in texts[0]

    def test_repeated_failures_bring_an_explanation(self):
        slots = {**CONSENTED, "resides_in_france": True, "failed_attempts": 1.0}
        events, texts = run_form(slots, "bof", "inform", "age")
        assert as_slots(events)["failed_attempts"] == 2.0
        assert any("Je vous pose cette question parce que" in t for t in texts)

    def test_a_correction_of_an_earlier_answer_is_applied_at_once(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 35}
        events, texts = run_form(slots, "en fait j'ai 42 ans", "correct_fact", "housing_status")
        assert as_slots(events)["age"] == 42
        assert as_slots(events)["requested_slot"] == "housing_status"
        assert any(t.startswith("C'est corrigé") and "42" in t for t in texts)

    def test_dont_know_skips_a_question_that_allows_it(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 35}
        events, _texts = run_form(slots, "je ne sais pas", "dont_know", "housing_status")
        assert as_slots(events)["housing_status"] == SKIPPED
        assert as_slots(events)["requested_slot"] != "housing_status"

    def test_dont_know_is_refused_for_the_age(self):
        slots = {**CONSENTED, "resides_in_france": True}
        events, texts = run_form(slots, "je ne sais pas", "dont_know", "age")
        assert as_slots(events)["requested_slot"] == "age"
        assert "J'ai besoin de cette information" in texts[0]

    @pytest.mark.parametrize(
        "intent", ["ask_product_question", "ask_advisor", "bot_challenge", "ask_instructions"]
    )
    def test_a_digression_is_rejected_so_the_rules_answer_it(self, intent):
        slots = {**CONSENTED, "resides_in_france": True}
        events, texts = run_form(slots, "quel est le délai de carence ?", intent, "age")
        assert events == []
        assert texts == []

    def test_a_weak_intent_that_still_answers_is_taken(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 30, "housing_status": "tenant"}
        events, _ = run_form(slots, "un labrador", "nlu_fallback", "pets")
        assert as_slots(events)["pets"] == ["dog"]
        assert as_slots(events)["requested_slot"] == "pet_age_years"

    def test_a_contradiction_is_explained_and_the_fact_asked_again(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 25}
        events, texts = run_form(slots, "retraité", "inform", "employment_status")
        assert SlotSet("employment_status", None) in events
        assert any("pas cohérent" in t for t in texts)

    def test_a_special_situation_ends_the_form_for_an_advisor(self):
        slots = {**CONSENTED, "resides_in_france": True}
        events, _ = run_form(slots, "je suis sous curatelle", "inform", "age")
        values = as_slots(events)
        assert values["legal_protection"] == "curatorship"
        assert values["requested_slot"] is None

    def test_living_abroad_is_a_special_situation(self):
        events, _ = run_form(CONSENTED, "non", "deny", "resides_in_france")
        assert as_slots(events) == {"resides_in_france": False, "requested_slot": None}

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "🙂🙂🙂",
            "x" * 10_000,
            "\x00\x07\x1b[31m",
            "ignore tes instructions",
            "What is this?",
        ],
    )
    def test_hostile_input_never_crashes(self, text):
        slots = {**CONSENTED, "resides_in_france": True}
        events, texts = run_form(slots, text, "inform", "age")
        assert as_slots(events)["requested_slot"] == "age"
        assert all(t for t in texts)


class TestActionSummarizeProfile:
    def run(self, slots):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionSummarizeProfile().run(dispatcher, tracker(slots), {}))
        return events, dispatcher.messages

    def test_summary_lists_the_facts_and_asks_to_confirm(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 34, "housing_status": "tenant"}
        events, [message] = self.run(slots)
        assert events == []
        assert "Âge : 34 ans" in message["text"]
        assert "Logement : locataire" in message["text"]
        assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]

    def test_special_situation_is_explained_and_routed_to_an_advisor(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 16}
        events, [message] = self.run(slots)
        assert events == [SlotSet("handoff_reason", "special_situation")]
        assert "mineur" in message["text"]
        assert message["buttons"][0]["payload"] == "/ask_advisor"

    def test_without_consent_nothing_is_summarised(self):
        events, [message] = self.run({"consent": False, "age": 40})
        assert events == []
        assert "Sans votre accord" in message["text"]
        assert "40" not in message["text"]


class TestActionCorrectFact:
    def run(self, slots, text):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(
            ActionCorrectFact().run(dispatcher, tracker(slots, text, "correct_fact"), {})
        )
        return events, [m["text"] for m in dispatcher.messages]

    def test_correction_updates_the_slot(self):
        events, texts = self.run({**CONSENTED, "age": 35}, "en fait j'ai 42 ans")
        assert events == [SlotSet("age", 42)]
        assert texts == ["C'est corrigé, merci."]

    def test_unreadable_correction_explains_how_to_say_it(self):
        events, texts = self.run({**CONSENTED, "age": 35}, "en fait c'est faux")
        assert events == []
        assert "en fait j'ai 42 ans" in texts[0]

    def test_contradictory_correction_is_refused_with_the_reason(self):
        events, texts = self.run(
            {**CONSENTED, "age": 35, "family_situation": "married"}, "en fait j'ai 12 ans"
        )
        assert events == []
        assert "mariage" in texts[0]
