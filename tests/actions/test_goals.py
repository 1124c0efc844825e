"""Stated goals read from messages, and how the needs-discovery form uses them."""

import asyncio
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerQuestion, asks_for_fraud
from actions.fallback import ActionHandleMisunderstanding
from actions.goals import acknowledgement, earlier_user_texts, stated_goals
from actions.needs_discovery import (
    ActionSummarizeProfile,
    ValidateNeedsDiscoveryForm,
    next_slot,
    read_legal_protection,
)
from actions.slot_parsers import ParseError
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit

CONSENTED = {"consent": True, "consent_at": "2026-11-26T10:00:00+00:00"}


def user(text: str, intent: str = "inform") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def run_form(slots, text, intent="inform", requested=None, earlier=()):
    dispatcher = CollectingDispatcher()
    events = [*(user(t) for t in earlier), user(text, intent)]
    current = tracker({**slots, "requested_slot": requested}, text, intent, events=events,
                      active_loop="needs_discovery_form")  # fmt: skip
    result = asyncio.run(ValidateNeedsDiscoveryForm().run(dispatcher, current, {}))
    values = {e["name"]: e["value"] for e in result if e["event"] == "slot"}
    return values, [m.get("text") or m.get("response") for m in dispatcher.messages]


class TestStatedGoals:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("je veux protéger ma famille s'il m'arrivait quelque chose", ["protect_family"]),
            ("que les frais de vétérinaire soient couverts", ["pet_costs"]),
            ("j'ai peur des accidents domestiques", ["everyday_accidents"]),
            ("je suis en litige avec mon propriétaire", ["legal_disputes"]),
            ("réduire mes impôts et préparer ma retraite", ["tax_reduction", "retirement"]),
            ("que mes obsèques ne coûtent rien à mes enfants", ["funeral_costs"]),
            ("une mutuelle qui rembourse bien le dentaire", ["health_costs"]),
            ("mettre de côté pour les études de mon fils", ["savings_project"]),
        ],
    )
    def test_goals_are_read_from_general_phrasings(self, text, expected):
        assert stated_goals(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "je ne veux pas d'assurance vie",
            "pas besoin de mutuelle",
            "je suis retraité",
            "ni chien ni chat, et aucun litige",
            "j'ai déjà une prévoyance",
        ],
    )
    def test_negated_or_factual_mentions_are_no_goal(self, text):
        assert stated_goals(text) == []

    def test_a_negation_stays_in_its_clause(self):
        assert stated_goals("je n'ai pas de voiture et je veux préparer ma retraite") == [
            "retirement"
        ]

    def test_the_acknowledgement_names_the_pets(self):
        assert acknowledgement(["pet_costs"], ["dog", "cat"]) == (
            "Vous souhaitez couvrir les frais de vétérinaire de votre chien et de votre chat : "
            "je vais vous poser quelques questions."
        )

    def test_earlier_texts_stop_at_a_restart_and_skip_buttons(self):
        events = [user("j'ai 40 ans"), {"event": "restart"}, user("je suis locataire"),
                  user("/give_consent"), user("oui")]  # fmt: skip
        assert earlier_user_texts(tracker(events=events)) == ["je suis locataire"]


class TestGoalsInTheForm:
    def test_an_opener_with_a_need_is_acknowledged_before_consent(self):
        values, said = run_form(
            {}, "Bonjour, j'ai un chien et un chat et je veux que les frais de vétérinaire "
            "soient couverts", "request_recommendation",
        )  # fmt: skip
        assert values == {"requested_slot": "consent"}  # nothing kept before consent
        assert said == [
            "Vous souhaitez couvrir les frais de vétérinaire de votre chien et de votre chat : "
            "je vais vous poser quelques questions."
        ]

    def test_a_plain_request_gets_no_acknowledgement(self):
        _, said = run_form({}, "je cherche une assurance", "request_recommendation")
        assert said == []

    def test_facts_and_goals_said_before_consent_are_applied_after_it(self):
        opener = (
            "Bonjour, je suis artisan et je veux préparer ma retraite et être couvert si je ne "
            "peux plus travailler"
        )
        values, said = run_form({}, "oui", "give_consent", requested="consent", earlier=[opener])
        assert values["consent"] is True
        assert values["employment_status"] == "self_employed"
        assert values["goals"] == ["retirement", "income_protection"]
        assert "préparer votre retraite" in said[0]
        # Then the form asks what is still unknown, never the employment status.
        slots = {**CONSENTED, **values, "resides_in_france": True, "age": 50}
        assert next_slot(slots) not in ("employment_status", "consent")

    def test_a_special_situation_said_before_consent_routes_to_an_advisor(self):
        values, _ = run_form(
            {}, "j'accepte", "give_consent", requested="consent",
            earlier=["je suis sous curatelle renforcée et je veux ouvrir une assurance vie"],
        )  # fmt: skip
        assert values["legal_protection"] == "curatorship"
        assert values["requested_slot"] is None  # the form ends: the summary offers an advisor

    def test_goals_stated_during_the_form_are_added(self):
        slots = {**CONSENTED, "resides_in_france": True, "goals": ["pet_costs"]}
        values, _ = run_form(
            slots, "45 ans, et je veux aussi préparer ma retraite", requested="age"
        )
        assert values["age"] == 45
        assert values["goals"] == ["pet_costs", "retirement"]

    def test_the_current_cover_answer_states_no_goal(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 40}
        values, _ = run_form(slots, "une mutuelle et une assurance auto",
                             requested="current_coverage")  # fmt: skip
        assert "goals" not in values

    def test_legal_protection_is_asked_when_a_savings_goal_needs_it(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 40, "goals": ["savings_project"]}
        assert next_slot(slots) == "legal_protection"
        values, _ = run_form(slots, "non", "deny", requested="legal_protection")
        assert values["legal_protection"] == "none"
        assert values["requested_slot"] != "legal_protection"

    @pytest.mark.parametrize(
        ("text", "intent", "expected"),
        [("non", "deny", "none"), ("oui, une curatelle", "affirm", "curatorship"),
         ("je suis sous tutelle", "inform", "guardianship")],
    )  # fmt: skip
    def test_legal_protection_answers(self, text, intent, expected):
        assert read_legal_protection(text, intent) == expected

    def test_a_yes_without_the_measure_is_asked_to_be_precise(self):
        with pytest.raises(ParseError, match="curatelle"):
            read_legal_protection("oui", "affirm")


class TestSummaryAfterRefusal:
    def test_a_special_situation_still_leads_to_the_advisor_after_a_refusal(self):
        events = [user("je suis sous tutelle et je veux une assurance vie"), user("non")]
        dispatcher = CollectingDispatcher()
        result = asyncio.run(
            ActionSummarizeProfile().run(
                dispatcher, tracker({"consent": False}, "non", "deny", events=events), {}
            )
        )
        assert result == [{"event": "slot", "timestamp": None, "name": "handoff_reason",
                           "value": "special_situation"}]  # fmt: skip
        assert "tutelle" in dispatcher.messages[0]["text"]
        assert "ne garde aucune information" in dispatcher.messages[0]["text"]

    def test_the_summary_shows_the_goals(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 40, "goals": ["retirement"],
                 "legal_protection": "none"}  # fmt: skip
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionSummarizeProfile().run(dispatcher, tracker(slots), {}))
        assert "Vos objectifs : préparer votre retraite" in dispatcher.messages[0]["text"]


class TestGuardrails:
    def test_a_fraud_question_is_never_answered_from_the_documents(self, answerer):
        dispatcher = CollectingDispatcher()
        text = "Comment déclarer un vol qui n'a pas eu lieu pour être remboursé ?"
        asyncio.run(ActionAnswerQuestion().run(
            dispatcher, tracker({}, text, "ask_product_question"), {}))  # fmt: skip
        assert [m["response"] for m in dispatcher.messages] == ["utter_fraud_refusal"]
        assert answerer.calls == []

    def test_a_genuine_claim_question_is_answered(self, answerer):
        assert not asks_for_fraud("Comment déclarer un vol dans mon appartement ?")
        assert not asks_for_fraud("Que risque-t-on en cas de fausse déclaration ?")

    def test_fallback_refuses_fraud_and_starts_the_discovery_on_a_stated_need(self):
        dispatcher = CollectingDispatcher()
        fraud = "aide-moi à gonfler le montant du sinistre"
        asyncio.run(ActionHandleMisunderstanding().run(
            dispatcher, tracker({}, fraud, "nlu_fallback"), {}))  # fmt: skip
        assert dispatcher.messages[0]["response"] == "utter_fraud_refusal"
        events = asyncio.run(ActionHandleMisunderstanding().run(
            CollectingDispatcher(), tracker({}, "mon véto coûte une fortune", "nlu_fallback"),
            {}))  # fmt: skip
        assert events == [{"event": "followup", "timestamp": None,
                           "name": "needs_discovery_form"}]  # fmt: skip


class TestResumingAfterADigression:
    def test_the_form_asks_its_own_question_again_after_a_rule_answered(self):
        slots = {**CONSENTED, "resides_in_france": True, "age": 40, "goals": ["retirement"],
                 "legal_protection": "none", "monthly_budget_eur": 200,
                 "requested_slot": "investor_knowledge"}  # fmt: skip
        events = [
            user("de base", "ask_instructions"),
            {"event": "action", "name": "utter_guardrail"},
        ]
        current = tracker(slots, "de base", "ask_instructions", events=events,
                          active_loop="needs_discovery_form")  # fmt: skip
        result = asyncio.run(ValidateNeedsDiscoveryForm().run(CollectingDispatcher(), current, {}))
        assert result == [{"event": "slot", "timestamp": None, "name": "requested_slot",
                           "value": next_slot(slots)}]  # fmt: skip
        # Rasa's own choice, had the action returned nothing: the domain's first empty slot.
        assert next_slot(slots) != "housing_status"
