"""Not understood: `action_handle_misunderstanding` makes suggestions first, and offers an advisor
after two misses in a row (setting `handoff_reason`). Before that, two safety nets behind the
classifier: a request for help with fraud is refused, and a message stating a goal or a situation
starts the needs discovery (which acknowledges it).

`action_restart_if_meant` starts the conversation again only when the message says so
("recommencer", "on repart de zéro"): a start-over intent given to an answer ("zéro" to "combien de
personnes sont à votre charge ?") goes back to the form, which reads it as the answer."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.answer import asks_for_fraud
from actions.goals import stated_goals
from actions.messages import ADVISOR_BUTTON, CATEGORIES_BUTTON, NEEDS_BUTTON
from actions.needs_discovery import answers_question
from actions.text import has, normalize, vocabulary

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


def restart_meant(text: str) -> bool:
    """Whether the message asks in words to start the conversation again."""
    return has(normalize(text), vocabulary()["restart"])


class ActionRestartIfMeant(Action):
    """The start-over intent's action (see the module doc)."""

    def name(self) -> str:
        return "action_restart_if_meant"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        if text.startswith("/") or restart_meant(text):
            dispatcher.utter_message(response="utter_restart")
            return [Restarted()]
        loop = tracker.active_loop.get("name")
        requested = tracker.get_slot(REQUESTED_SLOT)
        if loop and requested and answers_question(str(requested), text):
            return [FollowupAction(loop)]  # the form reads the message as its answer
        if loop:
            dispatcher.utter_message(
                text="Je n'ai pas compris. Pour tout reprendre depuis le début, dites "
                "« recommencer » ; sinon, répondez simplement à ma dernière question."
            )
            return [FollowupAction("action_listen")]  # the form waits for the answer
        return await ActionHandleMisunderstanding().run(dispatcher, tracker, domain)
