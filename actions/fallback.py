"""Not understood: `action_handle_misunderstanding` makes suggestions first, and offers an advisor
after two misses in a row (setting `handoff_reason`). Before that, two safety nets behind the
classifier: a request for help with fraud is refused, and a message stating a goal or a situation
starts the needs discovery (which acknowledges it)."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import asks_for_fraud
from actions.goals import stated_goals
from actions.messages import ADVISOR_BUTTON, CATEGORIES_BUTTON, NEEDS_BUTTON

MISSES_BEFORE_ADVISOR = 2


def misunderstandings_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood (NLU fallback)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandleMisunderstanding(Action):
    def name(self) -> str:
        return "action_handle_misunderstanding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        if asks_for_fraud(text):
            dispatcher.utter_message(response="utter_fraud_refusal")
            return []
        if tracker.active_loop.get("name") is None and stated_goals(text):
            return [FollowupAction("needs_discovery_form")]
        if misunderstandings_in_a_row(tracker) >= MISSES_BEFORE_ADVISOR:
            dispatcher.utter_message(
                text="Je n'ai pas bien compris, et je ne voudrais pas vous faire perdre votre "
                "temps. Souhaitez-vous qu'un conseiller vous recontacte ?",
                buttons=[ADVISOR_BUTTON, CATEGORIES_BUTTON],
            )
            return [SlotSet("handoff_reason", "misunderstanding")]
        dispatcher.utter_message(
            text="Je n'ai pas bien compris votre demande. Vous pouvez par exemple faire le point "
            "sur vos besoins, me poser une question sur un contrat (« Quel est le délai de "
            "carence de l'assurance santé ? ») ou demander à parler à un conseiller.",
            buttons=[NEEDS_BUTTON, CATEGORIES_BUTTON, ADVISOR_BUTTON],
        )
        return []
