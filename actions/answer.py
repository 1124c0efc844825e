"""Answering product questions from the insurer's documents, with their sources.

Works inside the needs-discovery form (a digression: the form resumes after) and outside it. The
answer is scoped to a product when the question names one, or when one is in context (the
`product` slot: the last product named or chosen with "En savoir plus") and the question fits
its documents; otherwise every document is searched.
"""

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import get_services
from actions.parsing import MAX_PARSED_CHARS
from actions.recommend import source_payload, supporting_question

MAX_SOURCES_SHOWN = 2


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = get_services()
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")[:MAX_PARSED_CHARS]
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
        answer = await asyncio.to_thread(services.knowledge.answer, question, named, in_context)
        sources = [source_payload(source) for source in answer.sources[:MAX_SOURCES_SHOWN]]
        shown = answer.text
        if sources and answer.mode not in ("refusal", "unavailable"):
            cited = "; ".join(f"{s['document']}, page {s['page']}" for s in sources)
            shown += f"\n\nSource : {cited}"
        dispatcher.utter_message(text=shown)
        dispatcher.utter_message(
            json_message={
                "type": "answer",
                "text": answer.text,
                "sources": sources if answer.mode not in ("refusal", "unavailable") else [],
                "mode": answer.mode,
                "validated": answer.validated,
            }
        )
        scope = named or in_context  # a product name in context is kept as its code
        return [SlotSet("product", scope)] if scope and scope != context else []
