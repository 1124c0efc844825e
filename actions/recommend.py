"""Recommending products: the catalogue engine decides, the knowledge base cites a passage.

The message is a text for every channel plus a `recommendations` payload a widget renders as
cards, and buttons to learn more or to talk to an advisor.
"""

import asyncio
import json
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.adapters import Services, get_services
from actions.consent import consent_given
from actions.profile_slots import build_profile, contradiction_message
from knowledge.interfaces import Source
from product_catalog.categories import get_category
from product_catalog.engine import Recommendation, RecommendationResult

MAX_PRODUCTS = 3

NOT_AN_OFFER = (
    "Ces propositions sont indicatives : elles ne valent ni devis ni engagement. Seul un "
    "conseiller peut vous faire une offre personnalisée et formaliser son devoir de conseil."
)


def source_payload(source: Source) -> dict[str, Any]:
    return {"document": source.document, "page": source.page, "passage": source.passage}


def supporting_question(name: str) -> str:
    return f"Quelles sont les garanties de {name} ?"


def recommendation_items(
    result: RecommendationResult, services: Services
) -> list[tuple[Recommendation, Source | None]]:
    return [
        (item, services.knowledge.supporting_source(item.code, supporting_question(item.name)))
        for item in result.items[:MAX_PRODUCTS]
    ]


class ActionRecommendProducts(Action):
    def name(self) -> str:
        return "action_recommend_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        advisor_button = {"title": "Parler à un conseiller", "payload": "/ask_advisor"}
        if not consent_given(slots):
            dispatcher.utter_message(
                text="Pour vous recommander des produits, j'ai besoin de connaître votre "
                "situation, et donc de votre accord pour conserver ces informations. Dites "
                "« je veux faire le point sur mes besoins » pour commencer.",
                buttons=[
                    {
                        "title": "Faire le point sur mes besoins",
                        "payload": "/request_recommendation",
                    }
                ],
            )
            return []
        try:
            profile = build_profile(slots)
        except ValidationError as error:
            dispatcher.utter_message(
                text=f"Votre profil contient une incohérence : {contradiction_message(error)}."
            )
            return []
        services = get_services()
        result = services.catalogue.recommend(profile)
        chosen = await asyncio.to_thread(recommendation_items, result, services)  # retrieval
        if not chosen:
            dispatcher.utter_message(
                text="Avec ces informations, je ne trouve pas de contrat à vous proposer "
                "directement. Un conseiller peut étudier votre situation.",
                buttons=[advisor_button],
            )
            return [SlotSet("recommended_products", [])]

        blocks = []
        items = []
        for rank, (item, source) in enumerate(chosen, start=1):
            label = get_category(item.category).label
            block = [f"{rank}. {item.name} ({label})"]
            block += [f"   • {reason}" for reason in item.reasons]
            block += [f"   ⚠ {warning}" for warning in item.warnings]
            if source is not None:
                block.append(f"   Source : {source.document}, page {source.page}")
            blocks.append("\n".join(block))
            items.append(
                {
                    "code": item.code,
                    "name": item.name,
                    "category": item.category,
                    "reasons": list(item.reasons),
                    "warnings": list(item.warnings),
                    "sources": [source_payload(source)] if source is not None else [],
                }
            )
        text = "Voici les produits qui correspondent à votre situation :\n\n" + "\n\n".join(blocks)
        if result.advisor_required:
            text += "\n\n" + "\n".join(result.advisor_reasons)
        if result.missing_facts:
            text += "\n\nPour affiner : " + result.missing_facts[0].question_fr
        text += "\n\n" + NOT_AN_OFFER
        buttons = [
            {
                "title": f"En savoir plus sur {item.name}",
                "payload": "/ask_product_question" + json.dumps({"product": item.code}),
            }
            for item, _ in chosen
        ]
        buttons.append(advisor_button)
        dispatcher.utter_message(text=text, buttons=buttons)
        dispatcher.utter_message(json_message={"type": "recommendations", "items": items})
        return [SlotSet("recommended_products", [item.code for item, _ in chosen])]
