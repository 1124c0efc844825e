"""Consent to keep personal data (GDPR), asked before any fact about the prospect is stored.

Both forms ask the `consent` slot first (`utter_ask_consent`, the short notice: purpose,
retention, rights). Refusing ends the form: the assistant still answers questions, but keeps no
profile and cannot pass contact details to an advisor.
"""

from datetime import UTC, datetime
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.parsing import is_dont_know, yes_no

# Recorded with the lead: which notice the prospect accepted.
CONSENT_TEXT_VERSION = "vergemont-rgpd-2026-11"

REFUSAL_TEXT = (
    "C'est entendu : je ne conserverai aucune information personnelle. Je reste à votre "
    "disposition pour répondre à vos questions sur nos contrats."
)
UNCLEAR_TEXT = (
    "J'ai besoin d'une réponse claire : acceptez-vous que je conserve les informations de cet "
    "échange pour vous conseiller ? Répondez « oui » ou « non »."
)


def read_consent(text: str, intent: str | None, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """Slot updates for an answer to the consent question (consent None: ask again)."""
    if intent not in ("give_consent", "refuse_consent", "affirm", "deny") and is_dont_know(text):
        dispatcher.utter_message(text=UNCLEAR_TEXT)
        return {"consent": None}
    answer = yes_no(text, intent)
    if answer is None:
        dispatcher.utter_message(text=UNCLEAR_TEXT)
        return {"consent": None}
    if answer:
        return {"consent": True, "consent_at": datetime.now(UTC).isoformat(timespec="seconds")}
    dispatcher.utter_message(text=REFUSAL_TEXT)
    return {"consent": False, "consent_at": None}


def consent_given(slots: dict[str, Any]) -> bool:
    return slots.get("consent") is True
