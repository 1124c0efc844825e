"""Answering product questions from the insurer's documents, with their sources.

`action_answer_question` works inside a form (a digression: the form resumes after) and outside.
The answer is scoped to a product when the question names one, or when one is in context (the
`product` slot: the last product named or chosen with "En savoir plus") and the question fits
its documents; otherwise every document is searched. It sends the answer as text with its
citation, then an `answer` payload (actions/messages.py), and keeps the product in `product`.
While a served LLM writes the answer, its checked sentences reach the widget as drafts
(`draft_sink`, common/drafts.py).
"""

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import get_services, supporting_question
from actions.goals import stated_goals, volunteered
from actions.messages import answer_payload, cited
from actions.profile_slots import PROFILE_SLOTS
from actions.text import MAX_PARSED_CHARS, has, normalize
from common import metrics
from common.drafts import WIDGET_NAMESPACE, SentenceSink

GUARDRAILS_FILE = Path(__file__).with_name("guardrails.yml")
FIRST_PERSON = (r"\b(?:je|j'|moi|mon|ma|mes|nous|notre|nos)\b",)


@cache
def _fraud_patterns() -> tuple[str, ...]:
    with GUARDRAILS_FILE.open(encoding="utf-8") as file:
        return tuple(yaml.safe_load(file)["fraud"])


def asks_for_fraud(text: str) -> bool:
    """Whether a message asks for help with insurance fraud (actions/guardrails.yml)."""
    return has(normalize(text), _fraud_patterns())


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = get_services()
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")[:MAX_PARSED_CHARS]
        intent = (message.get("intent") or {}).get("name")
        if intent == "ask_fraud" or asks_for_fraud(text):
            # A safety net behind the NLU: fraud is refused, never answered from the documents.
            dispatcher.utter_message(response="utter_fraud_refusal")
            return []
        named = services.catalogue.find_product(text) if not text.startswith("/") else None
        for entity in message.get("entities") or []:
            if entity.get("entity") == "product" and named is None:
                named = services.catalogue.find_product(str(entity.get("value", "")))
                if named is None and services.catalogue.product(str(entity.get("value"))):
                    named = str(entity.get("value"))
        context = tracker.get_slot("product")
        in_context = None
        if context:  # a code set by an action, or a product name the NLU extracted
            in_context = (
                str(context)
                if services.catalogue.product(str(context))
                else services.catalogue.find_product(str(context))
            )
        question = text
        if text.startswith("/") or not text.strip():
            # A button ("En savoir plus"): the question is about the product as a whole.
            named = named or in_context
            chosen = services.catalogue.product(str(named)) if named else None
            if chosen is None:
                dispatcher.utter_message(
                    text="Quelle est votre question ? Par exemple : « Quel est le délai de "
                    "carence de l'assurance animaux ? »"
                )
                return []
            question = supporting_question(chosen.name)
        # Retrieval takes tens of milliseconds of CPU: in a thread, so that the action server
        # answers the other conversations' calls meanwhile.
        answer = await asyncio.to_thread(
            services.knowledge.answer, question, named, in_context, draft_sink(tracker)
        )
        metrics.record_answer(answer.mode)
        payload = answer_payload(answer)
        shown = answer.text
        if payload["sources"]:
            shown += f"\n\nSource : {cited(payload['sources'])}"
        dispatcher.utter_message(text=shown)
        dispatcher.utter_message(json_message=payload)
        scope = named or in_context  # a product name in context is kept as its code
        events: list[EventType] = [SlotSet("product", scope)] if scope and scope != context else []
        if states_a_situation(tracker, text):
            # "je suis freelance, je n'ai pas de mutuelle, je fais comment ?": answered, then
            # the needs discovery starts (it asks consent, acknowledging what it understood).
            events.append(FollowupAction("needs_discovery_form"))
        return events


def draft_sink(tracker: Tracker) -> SentenceSink | None:
    """Where the checked sentences of a streamed answer go while it is written: the widget's
    drafts (common/drafts.py), for a website conversation when drafts are configured."""
    drafts = get_services().drafts
    if drafts is None or not tracker.sender_id.startswith(f"{WIDGET_NAMESPACE}:"):
        return None
    turn = str((tracker.latest_message or {}).get("message_id") or "")
    return drafts.sink(tracker.sender_id, turn)


def states_a_situation(tracker: Tracker, text: str) -> bool:
    """Whether a question outside the needs discovery, before any consent decision, also
    states a goal or a fact about the person: the discovery is then worth starting."""
    if tracker.active_loop.get("name") or tracker.get_slot("consent") is not None:
        return False
    if set(volunteered(text)) & set(PROFILE_SLOTS):
        return True
    # A product named in a question ("l'assurance santé") is no goal; "je veux…" states one.
    return bool(stated_goals(text)) and has(normalize(text), FIRST_PERSON)
