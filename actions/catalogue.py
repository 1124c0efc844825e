"""Actions about the catalogue as a whole: `action_list_product_categories` lists the product
families the insurer offers, as text and as a `categories` payload (actions/messages.py)."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.messages import categories_payload
from product_catalog.categories import CATEGORIES


class ActionListProductCategories(Action):
    """List the product families, as text and as a `categories` payload for rich clients."""

    def name(self) -> str:
        return "action_list_product_categories"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[dict[str, Any]]:
        lines = [f"• {category.label} : {category.description}" for category in CATEGORIES]
        text = (
            "Vergemont Assurances propose des contrats dans ces domaines :\n"
            + "\n".join(lines)
            + "\nDites-moi ce qui vous intéresse ou parlez-moi de votre situation."
        )
        dispatcher.utter_message(text=text, json_message=categories_payload(CATEGORIES))
        return []
