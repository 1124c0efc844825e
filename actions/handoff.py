"""Handing the prospect over to an advisor: contact details, then a durable lead.

`validate_handoff_form` collects consent (when not given yet), the name, an e-mail and/or a phone
number (validated) and a preferred callback slot. `action_hand_off` builds the `HandoffRequest`
of `advisor.handoff` from the conversation and confirms the lead reference only once the advisor
service has stored it. Logs never hold the e-mail or phone in clear.
"""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import get_services
from actions.consent import CONSENT_TEXT_VERSION, consent_given, read_consent
from actions.parsing import (
    MAX_PARSED_CHARS,
    ParseError,
    clean_name,
    find_email,
    find_phone,
    is_dont_know,
    mask_email,
    mask_phone,
    normalize,
)
from actions.profile_slots import build_profile
from actions.recommend import recommendation_items, source_payload
from advisor.handoff import (
    Channel,
    ConsentRecord,
    Contact,
    HandoffError,
    HandoffRequest,
    RecommendedProduct,
    SourceRef,
    TranscriptTurn,
)
from product_catalog.engine import advisor_reasons

logger = logging.getLogger(__name__)

HANDOFF_INTERRUPTIONS = frozenset(
    {"ask_product_question", "bot_challenge", "restart", "ask_instructions", "goodbye"}
)
CHANNELS: dict[str, Channel] = {
    "rest": "rest",
    "socketio": "website",
    "telegram": "telegram",
    "whatsapp": "whatsapp",
    "twilio": "whatsapp",
    "facebook": "messenger",
    "slack": "slack",
}
MAX_TRANSCRIPT_TURNS = 60
MAX_TURN_CHARS = 2000


def _latest(tracker: Tracker) -> tuple[str, str | None]:
    message = tracker.latest_message or {}
    return str(message.get("text") or ""), (message.get("intent") or {}).get("name")


def next_contact_slot(slots: dict[str, Any]) -> str | None:
    if not consent_given(slots):
        return None if slots.get("consent") is False else "consent"
    for slot in ("contact_name", "contact", "callback_slot"):
        if not slots.get(slot):
            return slot
    return None


def read_contact(text: str) -> dict[str, Any]:
    email, phone = find_email(text), find_phone(text)
    if email is None and phone is None:
        if "@" in text:
            raise ParseError(
                "Cette adresse e-mail ne semble pas valide. Exemple : camille.martin@exemple.fr"
            )
        if sum(ch.isdigit() for ch in text) >= 6:
            raise ParseError(
                "Ce numéro ne semble pas valide : indiquez un numéro français à 10 chiffres, "
                "par exemple 06 12 34 56 78."
            )
        raise ParseError(
            "Indiquez une adresse e-mail ou un numéro de téléphone (ou les deux) pour que le "
            "conseiller puisse vous joindre."
        )
    return {
        "contact_email": email,
        "contact_phone": phone,
        "contact": "e-mail et téléphone"
        if email and phone
        else ("e-mail" if email else "téléphone"),
    }


def read_callback_slot(text: str, intent: str | None) -> str:
    if intent == "dont_know" or is_dont_know(text):
        return "dès que possible"
    cleaned = " ".join(
        "".join(ch if ch.isprintable() else " " for ch in text[:MAX_PARSED_CHARS]).split()
    )
    if not normalize(cleaned) or len(cleaned) > 200:
        raise ParseError(
            "Indiquez quand vous préférez être rappelé(e), par exemple « demain matin » ou "
            "« en semaine après 18 h »."
        )
    return cleaned


class ValidateHandoffForm(Action):
    def name(self) -> str:
        return "validate_handoff_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text, intent = _latest(tracker)
        slots = dict(tracker.slots)
        requested = slots.get("requested_slot")
        updates: dict[str, Any] = {}
        try:
            if requested == "consent":
                updates.update(read_consent(text, intent, dispatcher))
            elif requested == "contact_name":
                updates["contact_name"] = clean_name(text)
            elif requested == "contact":
                updates.update(read_contact(text))
            elif requested == "callback_slot":
                updates["callback_slot"] = read_callback_slot(text, intent)
        except ParseError as error:
            if intent in HANDOFF_INTERRUPTIONS:
                return []  # a question or a digression: the rules answer, the form resumes
            dispatcher.utter_message(text=str(error))
            updates[str(requested)] = None
        merged = {**slots, **updates}
        events: list[EventType] = [SlotSet(name, value) for name, value in updates.items()]
        events.append(SlotSet("requested_slot", next_contact_slot(merged)))
        return events


def _transcript(tracker: Tracker) -> list[TranscriptTurn]:
    turns: list[TranscriptTurn] = []
    for event in tracker.events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        at = event.get("timestamp")
        turns.append(
            TranscriptTurn(
                speaker="user" if kind == "user" else "bot",
                text=str(text)[:MAX_TURN_CHARS],
                at=datetime.fromtimestamp(float(at), UTC) if at else None,
            )
        )
    return turns[-MAX_TRANSCRIPT_TURNS:]


def build_request(tracker: Tracker) -> HandoffRequest:
    """The lead of this conversation; raises pydantic's ValidationError on impossible data."""
    slots = dict(tracker.slots)
    services = get_services()
    profile = build_profile(slots)
    result = services.catalogue.recommend(profile)
    recommended = [
        RecommendedProduct(
            code=item.code,
            name=item.name,
            category=item.category,
            reasons=list(item.reasons),
            warnings=list(item.warnings),
            sources=[SourceRef(**source_payload(source), score=source.score)] if source else [],
        )
        for item, source in recommendation_items(result, services)
    ]
    given_at = slots.get("consent_at")
    channel = CHANNELS.get(str(tracker.get_latest_input_channel() or ""), "other")
    reason = slots.get("handoff_reason") or (
        "recommendation" if slots.get("recommended_products") else "asked"
    )
    return HandoffRequest(
        conversation_id=tracker.sender_id,
        channel=channel,
        contact=Contact(
            name=str(slots.get("contact_name")),
            email=slots.get("contact_email"),
            phone=slots.get("contact_phone"),
            preferred_slot=slots.get("callback_slot"),
        ),
        consent=ConsentRecord(
            text_version=CONSENT_TEXT_VERSION,
            given_at=datetime.fromisoformat(given_at) if given_at else datetime.now(UTC),
            channel=channel,
        ),
        profile=profile.model_dump(mode="json", exclude_none=True),
        recommendations=recommended,
        catalogue_version=result.catalogue_version,
        advisor_required=result.advisor_required,
        advisor_reasons=advisor_reasons(profile),
        reason=str(reason),
        transcript=_transcript(tracker),
    )


class ActionHandOff(Action):
    def name(self) -> str:
        return "action_hand_off"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        if not consent_given(slots):
            dispatcher.utter_message(
                text="Sans votre accord, je ne peux pas transmettre vos coordonnées à un "
                "conseiller. Vous pourrez le demander à nouveau à tout moment."
            )
            return []
        if not (slots.get("contact_email") or slots.get("contact_phone")):
            dispatcher.utter_message(
                text="Il me manque un moyen de vous joindre : dites « conseiller » pour reprendre."
            )
            return []
        try:
            # Retrieval for the recommendations' sources and the lead store's write: in a thread.
            request = await asyncio.to_thread(build_request, tracker)
            receipt = await asyncio.to_thread(get_services().advisor.hand_off, request)
        except (HandoffError, ValidationError) as error:
            logger.warning(
                "handoff failed for conversation %s: %s", tracker.sender_id, type(error).__name__
            )
            dispatcher.utter_message(
                text="Je n'arrive pas à enregistrer votre demande pour le moment, désolé. Vos "
                "informations sont gardées dans cette conversation : réessayez dans quelques "
                "minutes en écrivant « parler à un conseiller »."
            )
            return []
        logger.info(
            "lead %s stored for conversation %s (email %s, phone %s)",
            receipt.lead_reference,
            tracker.sender_id,
            mask_email(slots["contact_email"]) if slots.get("contact_email") else "-",
            mask_phone(slots["contact_phone"]) if slots.get("contact_phone") else "-",
        )
        reach = f"par {slots.get('contact')}" if slots.get("contact") else "par le moyen indiqué"
        dispatcher.utter_message(
            text=f"C'est enregistré, {slots.get('contact_name')} : votre demande porte la "
            f"référence {receipt.lead_reference}. Un conseiller de Vergemont Assurances vous "
            f"contactera {reach} ({slots.get('callback_slot')}) pour vous faire une offre "
            "personnalisée."
        )
        return [SlotSet("lead_reference", receipt.lead_reference)]
