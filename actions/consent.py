"""Consent to keep personal data (GDPR), asked before any fact about the prospect is stored.

Both forms ask the `consent` slot first (`utter_ask_consent`, the short notice: purpose,
retention, rights): `read_consent` reads the answer, `consent_record` gives the slots it sets
(`consent`, and `consent_at`, the time of the yes). Refusing ends the form: the assistant still
answers questions, but keeps no profile and cannot pass contact details to an advisor.
`CONSENT_TEXT_VERSION` names the notice accepted, recorded with the lead.
"""

from datetime import UTC, datetime
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.slot_parsers import is_dont_know, yes_no

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


def read_consent(text: str, intent: str | None, dispatcher: CollectingDispatcher) -> bool | None:
    """The answer to the consent question; a refusal is acknowledged, an unclear answer (None)
    explained so that the question is asked again."""
    if intent not in ("give_consent", "refuse_consent", "affirm", "deny") and is_dont_know(text):
        dispatcher.utter_message(text=UNCLEAR_TEXT)
        return None
    answer = yes_no(text, intent)
    if answer is None:
        dispatcher.utter_message(text=UNCLEAR_TEXT)
    elif not answer:
        dispatcher.utter_message(text=REFUSAL_TEXT)
    return answer


def consent_record(consent: bool | None, given_at: str | None) -> dict[str, Any]:
    """The slots of a consent answer: a yes keeps the time it was first given (now if not yet),
    a refusal clears it, an unclear answer leaves the question open."""
    if consent is None:
        return {"consent": None}
    if consent:
        return {
            "consent": True,
            "consent_at": given_at or datetime.now(UTC).isoformat(timespec="seconds"),
        }
    return {"consent": False, "consent_at": None}


def consent_given(slots: dict[str, Any]) -> bool:
    return slots.get("consent") is True
