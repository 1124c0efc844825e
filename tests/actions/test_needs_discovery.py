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
                "goals": ("je ne sais pas, faisons le point", "dont_know"),
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
        slots = {**CONSENTED, "resides_in_france": True, "age": 35, "goals": []}
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


ADULT_IN_FRANCE: dict[str, Any] = {**CONSENTED, "resides_in_france": True, "age": 40}


class TestFewerQuestions:
    """What the prospect wants comes first, then only what could change the products shown."""

    def test_what_matters_is_asked_right_after_residence_and_age(self):
        assert next_slot(ADULT_IN_FRANCE) == "goals"

    def test_a_goal_stated_earlier_is_not_asked_again(self):
        assert next_slot({**ADULT_IN_FRANCE, "goals": ["pet_costs"]}) != "goals"

    def test_a_topic_answers_the_goals_question(self):
        events, _ = run_form(ADULT_IN_FRANCE, "ma santé et la retraite", "inform", "goals")
        assert as_slots(events)["goals"] == ["health_costs", "retirement"]

    def test_no_goal_in_the_answer_is_not_asked_again(self):
        events, _ = run_form(
            ADULT_IN_FRANCE, "je ne sais pas trop, un peu tout", "dont_know", "goals"
        )
        slots = as_slots(events)
        assert slots["goals"] == []
        assert slots["requested_slot"] not in (None, "goals")

    def test_a_goal_is_covered_after_the_questions_its_products_need(self):
        slots = {**ADULT_IN_FRANCE, "goals": ["pet_costs"]}
        asked = []
        answers = {"pets": [{"species": "dog", "age_years": 3}]}
        for _ in range(20):
            slot = next_slot(slots)
            if slot is None:
                break
            asked.append(slot)
            slots[slot] = answers.get(slot, SKIPPED)
        assert "pets" in asked
        # nothing about vehicles, housing or savings: they serve no stated goal
        assert not {"vehicles", "housing_status", "projects", "investor_knowledge"} & set(asked)

    def test_refining_asks_what_the_goals_left_aside(self):
        covered = {**ADULT_IN_FRANCE, "goals": ["pet_costs"], "pets": ["dog"], "pet_age_years": 3.0}
        covered.update(
            {"monthly_budget_eur": 50.0, "current_coverage": [], "legal_protection": "none"}
        )
        assert next_slot(covered) is None
        assert next_slot({**covered, "recommended_products": ["VG-ANI"]}) is not None

    def test_a_goal_no_product_can_answer_opens_the_whole_situation(self):
        too_old = {
            **ADULT_IN_FRANCE,
            "goals": ["pet_costs"],
            "pets": ["dog"],
            "pet_age_years": 12.0,
        }
        too_old.update(
            {"monthly_budget_eur": 50.0, "current_coverage": [], "legal_protection": "none"}
        )
        assert next_slot(too_old) is not None

    def test_a_first_recommendation_comes_after_at_most_fourteen_questions(self):
        slots = {**ADULT_IN_FRANCE, "goals": [], "questions_asked": 14.0}
        assert next_slot(slots) is None
        assert next_slot({**slots, "recommended_products": []}) is not None  # "Affiner"

    def test_each_new_question_is_counted(self):
        events, _ = run_form(
            {**ADULT_IN_FRANCE, "goals": []}, "je suis locataire", "inform", "housing_status"
        )
        assert as_slots(events)["questions_asked"] == 1.0

    def test_the_investor_questions_come_as_a_whole_block_or_not_at_all(self):
        retirement = {**ADULT_IN_FRANCE, "goals": ["retirement"], "legal_protection": "none"}
        retirement.update({"monthly_budget_eur": 100.0, "employment_status": "employee"})
        assert next_slot({**retirement, "questions_asked": 4.0}) == "investor_knowledge"
        assert next_slot({**retirement, "questions_asked": 10.0}) is None  # 9 would not fit
        started = {**retirement, "questions_asked": 10.0, "investor_knowledge": "basic"}
        assert next_slot(started) is None or next_slot(started).startswith(
            ("invest", "annual", "financial", "monthly", "risk", "loss")
        )

    def test_a_second_dont_know_leaves_the_investor_questions_to_the_advisor(self):
        slots = {**ADULT_IN_FRANCE, "goals": ["retirement"], "investor_knowledge": SKIPPED}
        events, texts = run_form(slots, "je ne sais pas", "dont_know", "investor_experience")
        set_slots = as_slots(events)
        assert set_slots["investor_experience"] == SKIPPED
        assert set_slots["loss_capacity"] == SKIPPED
        assert any("conseiller établira votre profil" in text for text in texts)

    def test_a_short_answer_taken_for_a_goodbye_still_answers(self):
        events, _ = run_form({}, "Oui, allez-y.", "goodbye", "consent")
        assert as_slots(events)["consent"] is True

    def test_a_real_goodbye_is_left_to_the_rules(self):
        events, _ = run_form(
            {**ADULT_IN_FRANCE, "goals": []}, "au revoir", "goodbye", "housing_status"
        )
        assert events == []

    def test_leaving_the_goals_to_an_advisor_goes_on_with_the_questions(self):
        events, texts = run_form(
            ADULT_IN_FRANCE,
            "je ne sais pas, je préférerais en parler avec quelqu'un",
            "ask_advisor",
            "goals",
        )
        assert as_slots(events)["goals"] == []
        assert any("un conseiller pourra tout reprendre" in text for text in texts)

    def test_the_investor_questions_can_be_left_to_the_advisor(self):
        slots = {**ADULT_IN_FRANCE, "goals": ["retirement"], "investor_knowledge": None}
        events, texts = run_form(
            slots, "je préfère voir ça avec un conseiller", "ask_advisor", "investor_knowledge"
        )
        set_slots = as_slots(events)
        assert set_slots["investor_knowledge"] == SKIPPED
        assert set_slots["risk_tolerance"] == SKIPPED
        assert not (set_slots["requested_slot"] or "").startswith("invest")
        assert any("conseiller établira votre profil" in text for text in texts)

    def test_an_advisor_request_that_defers_nothing_stays_a_digression(self):
        slots = {**ADULT_IN_FRANCE, "goals": ["retirement"]}
        events, _ = run_form(
            slots, "je veux parler à un conseiller", "ask_advisor", "investor_knowledge"
        )
        assert events == []  # the rules hand over to the advisor form


def test_an_answer_the_classifier_hesitated_over_is_read_as_the_answer():
    dispatcher = CollectingDispatcher()
    slots = {**ADULT_IN_FRANCE, "goals": ["retirement"], "requested_slot": "investor_knowledge"}
    hesitant = tracker(
        slots, "des bases, sans plus", "ask_instructions", active_loop="needs_discovery_form"
    )
    hesitant.latest_message["intent"]["confidence"] = 0.35
    events = asyncio.run(ValidateNeedsDiscoveryForm().run(dispatcher, hesitant, {}))
    assert as_slots(events)["investor_knowledge"] == "basic"
    sure = tracker(
        slots, "des bases, sans plus", "ask_instructions", active_loop="needs_discovery_form"
    )
    sure.latest_message["intent"]["confidence"] = 1.0  # as the guardrail component sets it
    assert asyncio.run(ValidateNeedsDiscoveryForm().run(CollectingDispatcher(), sure, {})) == []
