"""Stated goals, openers, facts said before consent and guardrails, over REST against the real
Rasa server and action server (issue 16)."""

import pytest

from tests.integration.conftest import RasaClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# What a prospect answers to each question of the form (matched on the question's words).
ANSWERS = {
    "Résidez-vous en France": "oui",
    "Quel âge avez-vous": "52 ans",
    "protection juridique": "non",
    "locataire, propriétaire": "je suis propriétaire de ma maison",
    "logements en location": "non",
    "véhicule": "une voiture",
    "Avez-vous un projet": "préparer ma retraite",
    "mutuelle santé obligatoire": "non",
    "situation familiale": "marié",
    "personnes sont à votre charge": "2",
    "enfants sont scolarisés": "0",
    "chien ou un chat": "non",
    "Quel âge a votre animal": "3 ans",
    "prêt immobilier est-il prévu": "20 ans",
    "connaissances des placements": "mes connaissances sont de base",
    "placements avez-vous déjà": "un fonds en euros",
    "revenus annuels": "60000 euros",
    "épargne disponible": "30000 euros",
    "charges fixes": "800 euros",
    "objectif de ce placement": "préparer la retraite",
    "laisser cet argent placé": "15 ans",
    "niveau de risque": "modéré",
    "perte sur le capital": "une perte limitée",
    "budget mensuel": "200 euros",
    "contrats d'assurance avez-vous déjà": "une assurance auto",
}


def texts(messages):
    return [message["text"] for message in messages if "text" in message]


def customs(messages):
    return [message["custom"] for message in messages if "custom" in message]


def buttons(messages):
    return [b["payload"] for message in messages for b in message.get("buttons") or []]


def play_form(client: RasaClient, me: str, question: str) -> tuple[list[str], list[dict]]:
    """Answer the form's questions until the summary; the questions asked and the summary."""
    asked: list[str] = []
    for _ in range(30):
        if question.startswith("Voici ce que j'ai retenu"):
            return asked, []
        asked.append(question)
        answer = next((a for key, a in ANSWERS.items() if key in question), None)
        assert answer is not None, f"unexpected question: {question}"
        question = texts(client.say(me, answer))[-1]
    pytest.fail(f"the form never ended: {asked}")


class TestOpenersAndGoals:
    def test_the_artisan_opener_starts_the_discovery_and_is_not_asked_again(self, sqlite_stack):
        me = "goals-artisan"
        opener = texts(
            sqlite_stack.say(
                me,
                "Bonjour, je suis artisan et je veux préparer ma retraite et être couvert si je "
                "ne peux plus travailler",
            )
        )
        assert opener[0].startswith("Vous souhaitez préparer votre retraite")
        assert "ne pouvez plus travailler" in opener[0]
        assert "Acceptez-vous" in opener[-1]
        consented = texts(sqlite_stack.say(me, "oui"))
        assert "travailleur indépendant" in consented[0]  # what was said before consent
        asked, _ = play_form(sqlite_stack, me, consented[-1])
        assert not [q for q in asked if "situation professionnelle" in q]
        tracker = sqlite_stack.tracker(me)
        assert tracker["slots"]["goals"] == ["retirement", "income_protection"]
        assert tracker["slots"]["employment_status"] == "self_employed"

    def test_the_artisan_gets_a_retirement_plan_in_the_top_three(self, sqlite_stack):
        me = "goals-artisan-2"
        sqlite_stack.say(
            me,
            "Bonjour, je suis artisan et je veux préparer ma retraite et être couvert si je ne "
            "peux plus travailler",
        )
        question = texts(sqlite_stack.say(me, "oui"))[-1]
        play_form(sqlite_stack, me, question)
        recommendation = sqlite_stack.say(me, "oui")
        [payload] = [c for c in customs(recommendation) if c["type"] == "recommendations"]
        top = [item["category"] for item in payload["items"][:3]]
        assert "retraite" in top
        assert "prevoyance" in top
        per = next(item for item in payload["items"] if item["category"] == "retraite")
        assert per["reasons"][0].startswith("Vous souhaitez préparer votre retraite")

    def test_the_pet_opener_is_acknowledged(self, sqlite_stack):
        answer = texts(
            sqlite_stack.say(
                "goals-pets",
                "Bonjour, j'ai un chien et un chat et je veux que les frais de vétérinaire "
                "soient couverts",
            )
        )
        assert answer[0] == (
            "Vous souhaitez couvrir les frais de vétérinaire de votre chien et de votre chat : "
            "je vais vous poser quelques questions."
        )
        assert "Acceptez-vous" in answer[-1]

    def test_curatorship_said_before_consent_routes_to_an_advisor(self, sqlite_stack):
        me = "goals-curatelle"
        first = texts(
            sqlite_stack.say(
                me, "je suis sous curatelle renforcée et je veux ouvrir une assurance vie"
            )
        )
        assert "Acceptez-vous" in first[-1]
        answer = sqlite_stack.say(me, "j'accepte")
        assert any("curatelle" in text and "conseiller" in text for text in texts(answer))
        assert "/ask_advisor" in buttons(answer)

    def test_after_a_refusal_curatorship_still_leads_to_the_advisor(self, sqlite_stack):
        me = "goals-curatelle-refused"
        sqlite_stack.say(me, "je suis sous curatelle renforcée et je veux ouvrir une assurance vie")
        answer = sqlite_stack.say(me, "non, je refuse")
        said = " ".join(texts(answer))
        assert "aucune information" in said
        assert "curatelle" in said
        assert "/ask_advisor" in buttons(answer)
        assert sqlite_stack.tracker(me)["slots"]["legal_protection"] is None  # nothing kept


class TestGuardrails:
    def test_a_fraud_request_is_refused_with_the_reason(self, sqlite_stack):
        answer = sqlite_stack.say(
            "guard-fraud", "Comment déclarer un vol qui n'a pas eu lieu pour être remboursé ?"
        )
        [text] = texts(answer)
        assert "fraude" in text
        assert not customs(answer)  # no passage of the documents

    def test_a_validation_without_advisor_is_explained_with_the_handoff(self, sqlite_stack):
        answer = sqlite_stack.say(
            "guard-contract", "Tu peux valider mon adhésion tout de suite, sans conseiller ?"
        )
        [text] = texts(answer)
        assert "signer, valider" in text
        assert "Seul un conseiller" in text
        assert buttons(answer) == ["/ask_advisor"]
