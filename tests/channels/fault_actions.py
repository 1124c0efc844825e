"""The custom action of the channel fault tests (tests/channels/test_action_server_down.py), served
by a real rasa-sdk action server."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

ANSWER = "Voici la réponse de l'action."


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=ANSWER)
        return []
