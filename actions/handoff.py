"""Handing the prospect over to an advisor: contact details, then a durable lead.

`validate_handoff_form` collects consent (when not given yet), the name, an e-mail and/or a phone
number (found with `common.contact`) and a preferred callback slot. `action_hand_off` builds the
`HandoffRequest` of `advisor.handoff` from the conversation, with the recommendation the prospect
saw while their profile has not changed since (recomputed otherwise), and confirms the lead
reference only once the advisor service has stored it, or, when the conversation's lead is still
open, says that its contact details were updated (or were already the same). When the lead store
cannot take the request within the turn (`Services.handoff_timeout_s`, its own quick retries
included), the request is written to the handoff spool (actions/handoff_spool.py), handed to the
store again in the background until it takes it, and the person is told that it is recorded and
will reach an advisor as soon as possible (no reference: none exists yet). Logs never hold the
e-mail or phone in clear (`common.contact`'s masks), nor the conversation id, which is the phone
number on WhatsApp: a keyed tag of it (`common.pseudonym.log_tag`).
"""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import Services, get_services
from actions.consent import CONSENT_TEXT_VERSION, consent_given
from actions.forms import NotAnAnswerError, QuestionForm, answer_to, latest
from actions.handoff_spool import SpoolError
from actions.messages import RECOMMENDATIONS_TYPE, RecommendationsPayload
from actions.profile_slots import build_profile, profile_fingerprint
from actions.slot_parsers import ParseError, clean_name, is_dont_know
from actions.text import MAX_PARSED_CHARS, normalize
from advisor.handoff import (
    Channel,
    ConsentRecord,
    Contact,
    HandoffError,
    HandoffReceipt,
    HandoffRequest,
    RecommendedProduct,
    SourceRef,
    TranscriptTurn,
)
from common import metrics
from common.contact import find_email, find_phone, mask_email, mask_phone
from common.pseudonym import log_tag
from product_catalog.engine import advisor_reasons
from product_catalog.profile import NeedsProfile

logger = logging.getLogger(__name__)

HANDOFF_INTERRUPTIONS = frozenset(
    {
        "ask_product_question",
        "bot_challenge",
        "start_over",
        "ask_instructions",
        "ask_fraud",
        "goodbye",
    }
)
# Asked in this order; the e-mail and phone come with the answer to `contact`.
QUESTIONS = ("consent", "contact_name", "contact", "callback_slot")
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


def next_contact_slot(slots: dict[str, Any]) -> str | None:
    if not consent_given(slots):
        return None if slots.get("consent") is False else "consent"
    for slot in QUESTIONS[1:]:
        if not slots.get(slot):
            return slot
    return None


def read_contact(text: str) -> dict[str, Any]:
    """The e-mail and phone of an answer, and which were given; ParseError when there is none."""
    text = text[:MAX_PARSED_CHARS]
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


class ValidateHandoffForm(QuestionForm):
    """Reads each answer to the handoff questions (`QUESTIONS`, in this order)."""

    # The questions, and the e-mail and phone read with the answer to `contact`.
    form_slots = ("consent", "contact_name", "contact_email", "contact_phone", *QUESTIONS[2:])

    def name(self) -> str:
        return "validate_handoff_form"

    def next_question(self, slots: dict[str, Any]) -> str | None:
        return next_contact_slot(slots)

    def extract_contact_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return answer_to("contact_name", tracker)

    def extract_contact_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._contact_part("contact_email", tracker)

    def extract_contact_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return self._contact_part("contact_phone", tracker)

    def extract_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return answer_to("contact", tracker)

    def extract_callback_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return answer_to("callback_slot", tracker)

    @staticmethod
    def _contact_part(slot: str, tracker: Tracker) -> dict[str, Any]:
        """The answer to `contact` as the candidate of its e-mail or phone, when it holds one."""
        answer = answer_to("contact", tracker)
        text = answer.get("contact")
        if text is None or (find_email(text) is None and find_phone(text) is None):
            return {}
        return {slot: text}

    def validate_contact_name(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            return {"contact_name": clean_name(value)}
        except ParseError as error:
            return self._unreadable("contact_name", error, dispatcher, tracker)

    def validate_contact_email(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"contact_email": read_contact(value)["contact_email"]}

    def validate_contact_phone(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"contact_phone": read_contact(value)["contact_phone"]}

    def validate_contact(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not answer_to("contact", tracker):
            return {"contact": value}  # given before the form started: kept
        try:
            return {"contact": read_contact(value)["contact"]}
        except ParseError as error:
            return self._unreadable("contact", error, dispatcher, tracker)

    def validate_callback_slot(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            return {"callback_slot": read_callback_slot(value, latest(tracker)[1])}
        except ParseError as error:
            return self._unreadable("callback_slot", error, dispatcher, tracker)

    @staticmethod
    def _unreadable(
        slot: str, error: ParseError, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """An answer that cannot be read is asked again with the hint, unless the message was a
        question or a digression for the rules."""
        if latest(tracker)[1] in HANDOFF_INTERRUPTIONS:
            raise NotAnAnswerError from error
        dispatcher.utter_message(text=str(error))
        return {slot: None}


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


def shown_recommendation(tracker: Tracker) -> RecommendationsPayload | None:
    """The last `recommendations` payload sent in this conversation (since its last restart)."""
    for event in reversed(tracker.events):
        if event.get("event") == "restart":
            return None
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("type") == RECOMMENDATIONS_TYPE:
            return custom  # type: ignore[return-value]
    return None


def recommendations(
    tracker: Tracker, profile: NeedsProfile, services: Services
) -> tuple[list[RecommendedProduct], str]:
    """The products recommended to the prospect and the catalogue version they come from: those
    shown while the profile has not changed since, else computed again (engine and retrieval)."""
    shown = shown_recommendation(tracker)
    if shown is not None and shown.get("profile_fingerprint") == profile_fingerprint(profile):
        products = [RecommendedProduct.model_validate(item) for item in shown["items"]]
        return products, shown["catalogue_version"]
    result, items = services.recommend(profile)
    products = [
        RecommendedProduct(
            code=item.code,
            name=item.name,
            category=item.category,
            reasons=list(item.reasons),
            warnings=list(item.warnings),
            sources=[
                SourceRef(
                    document=source.document,
                    page=source.page,
                    passage=source.passage,
                    score=source.score,
                )
            ]
            if source
            else [],
        )
        for item, source in items
    ]
    return products, result.catalogue_version


def build_request(tracker: Tracker) -> HandoffRequest:
    """The lead of this conversation; raises pydantic's ValidationError on impossible data."""
    slots = dict(tracker.slots)
    profile = build_profile(slots)
    recommended, catalogue_version = recommendations(tracker, profile, get_services())
    reasons = advisor_reasons(profile)
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
        catalogue_version=catalogue_version,
        advisor_required=bool(reasons),
        advisor_reasons=reasons,
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
        services = get_services()
        try:
            # Retrieval (when the recommendation is computed again): in a thread.
            request = await asyncio.to_thread(build_request, tracker)
        except ValidationError as error:
            return self._not_recorded(dispatcher, tracker, error)
        try:
            # The lead store's write and its own quick retries, in a thread, within the time a
            # turn may take; the thread may still finish after it (the store keeps one open
            # lead per conversation, so the spooled copy then finds it).
            receipt = await asyncio.wait_for(
                asyncio.to_thread(services.advisor.hand_off, request),
                timeout=services.handoff_timeout_s,
            )
        except (HandoffError, TimeoutError) as error:
            return self._keep_for_later(dispatcher, tracker, request, services, error)
        metrics.record_handoff(stored=True)
        logger.info(
            "lead %s %s for conversation %s (email %s, phone %s)",
            receipt.lead_reference,
            "stored" if receipt.created else "found open",
            log_tag(tracker.sender_id),
            mask_email(slots.get("contact_email")),
            mask_phone(slots.get("contact_phone")),
        )
        dispatcher.utter_message(text=confirmation(receipt, slots))
        return [SlotSet("lead_reference", receipt.lead_reference)]

    @staticmethod
    def _keep_for_later(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        request: HandoffRequest,
        services: Services,
        error: Exception,
    ) -> list[EventType]:
        """The store did not take the request in time: spool it, and say it is recorded."""
        if services.spool is None:
            return ActionHandOff._not_recorded(dispatcher, tracker, error)
        try:
            services.spool.keep(request)
        except SpoolError as spool_error:
            return ActionHandOff._not_recorded(dispatcher, tracker, spool_error)
        metrics.record_handoff(stored=False)  # counted as stored once the spool hands it off
        logger.warning(
            "lead store unavailable for conversation %s (%s): request spooled",
            log_tag(tracker.sender_id),
            type(error).__name__,
        )
        dispatcher.utter_message(text=spooled(dict(tracker.slots)))
        return []

    @staticmethod
    def _not_recorded(
        dispatcher: CollectingDispatcher, tracker: Tracker, error: Exception
    ) -> list[EventType]:
        metrics.record_handoff(stored=False)
        logger.warning(
            "handoff failed for conversation %s: %s",
            log_tag(tracker.sender_id),
            type(error).__name__,
        )
        dispatcher.utter_message(
            text="Je n'arrive pas à enregistrer votre demande pour le moment, désolé. Vos "
            "informations sont gardées dans cette conversation : réessayez dans quelques "
            "minutes en écrivant « parler à un conseiller »."
        )
        return []


def _callback(slots: dict[str, Any]) -> str:
    reach = f"par {slots.get('contact')}" if slots.get("contact") else "par le moyen indiqué"
    return f"{reach} ({slots.get('callback_slot')})"


def spooled(slots: dict[str, Any]) -> str:
    """What the person is told when the request waits in the spool: recorded, no reference yet
    (the lead store gives it when it takes the request)."""
    return (
        f"C'est noté, {slots.get('contact_name')} : votre demande est bien enregistrée. Notre "
        "service des conseillers est momentanément injoignable ; elle lui sera transmise "
        "automatiquement dès que possible, et un conseiller de Vergemont Assurances vous "
        f"contactera {_callback(slots)}. Vous n'avez rien d'autre à faire."
    )


def confirmation(receipt: HandoffReceipt, slots: dict[str, Any]) -> str:
    """What the person is told: a new request, the open one updated, or the open one unchanged."""
    name, reference = slots.get("contact_name"), receipt.lead_reference
    callback = _callback(slots)
    if receipt.created:
        return (
            f"C'est enregistré, {name} : votre demande porte la référence {reference}. Un "
            f"conseiller de Vergemont Assurances vous contactera {callback} pour vous faire une "
            "offre personnalisée."
        )
    if receipt.contact_updated:
        return (
            f"{name}, vous avez déjà une demande en cours, la référence {reference} : j'y ai "
            f"mis à jour vos coordonnées avec celles-ci. Le conseiller vous contactera {callback}."
        )
    return (
        f"{name}, votre demande en cours porte déjà la référence {reference}, avec ces mêmes "
        f"coordonnées : rien n'a changé. Le conseiller vous contactera {callback}."
    )
