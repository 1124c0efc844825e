"""Recommending products: the catalogue engine decides, the knowledge base cites a passage.

`action_recommend_products` sends a text for every channel with buttons to learn more about each
product or to talk to an advisor, then a `recommendations` payload (actions/messages.py) that a
widget renders as cards and the handoff reuses while the profile has not changed. It sets
`recommended_products` to the codes shown.
"""

import asyncio
import json
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import get_services
from actions.consent import consent_given
from actions.messages import (
    ADVISOR_BUTTON,
    NEEDS_BUTTON,
    REFINE_BUTTON,
    Button,
    cited,
    recommendations_payload,
    recommended_item,
)
from actions.needs_discovery import question_worth_asking
from actions.profile_slots import build_profile, contradiction_message, profile_fingerprint
from common import metrics
from product_catalog.categories import get_category

NOT_AN_OFFER = (
    "Ces propositions sont indicatives : elles ne valent ni devis ni engagement. Seul un "
    "conseiller peut vous faire une offre personnalisée et formaliser son devoir de conseil."
)


class ActionRecommendProducts(Action):
    def name(self) -> str:
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        if not consent_given(slots):
            dispatcher.utter_message(
                text="Pour vous recommander des produits, j'ai besoin de connaître votre "
                "situation, et donc de votre accord pour conserver ces informations. Dites "
                "« je veux faire le point sur mes besoins » pour commencer.",
                buttons=[NEEDS_BUTTON],
            )
            return []
        try:
            profile = build_profile(slots)
        except ValidationError as error:
            dispatcher.utter_message(
                text=f"Votre profil contient une incohérence : {contradiction_message(error)}."
            )
            return []
        # The engine, then one retrieval per product: in a thread.
        result, chosen = await asyncio.to_thread(get_services().recommend, profile)
        metrics.record_recommendation([item.code for item, _ in chosen], result.advisor_required)
        if not chosen:
            dispatcher.utter_message(
                text="Avec ces informations, je ne trouve pas de contrat à vous proposer "
                "directement. Un conseiller peut étudier votre situation.",
                buttons=[ADVISOR_BUTTON],
            )
            return [SlotSet("recommended_products", [])]

        items = [recommended_item(item, source) for item, source in chosen]
        blocks = []
        for rank, item in enumerate(items, start=1):
            label = get_category(item["category"]).label
            block = [f"{rank}. {item['name']} ({label})"]
            block += [f"   • {reason}" for reason in item["reasons"]]
            block += [f"   ⚠ {warning}" for warning in item["warnings"]]
            if item["sources"]:
                block.append(f"   Source : {cited(item['sources'])}")
            blocks.append("\n".join(block))
        text = "Voici les produits qui correspondent à votre situation :\n\n" + "\n\n".join(blocks)
        if result.advisor_required:
            text += "\n\n" + "\n".join(result.advisor_reasons)
        refinable = question_worth_asking(slots, profile, result, refining=True) is not None
        if refinable:
            text += (
                "\n\nQuelques questions de plus me permettraient d'affiner cette sélection : "
                "choisissez « Affiner » quand vous voulez."
            )
        text += "\n\n" + NOT_AN_OFFER
        buttons: list[Button] = [
            {
                "title": f"En savoir plus sur {item['name']}",
                "payload": "/ask_product_question" + json.dumps({"product": item["code"]}),
            }
            for item in items
        ]
        if refinable:
            buttons.append(REFINE_BUTTON)
        buttons.append(ADVISOR_BUTTON)
        dispatcher.utter_message(text=text, buttons=buttons)
        dispatcher.utter_message(
            json_message=recommendations_payload(
                items, result.catalogue_version, profile_fingerprint(profile)
            )
        )
        return [SlotSet("recommended_products", [item["code"] for item in items])]
