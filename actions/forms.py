"""What the two forms share: rasa-sdk's `FormValidationAction` choosing its next question itself,
digressions left to the rules, and the consent slot both forms ask first.

A form's turn runs as in rasa-sdk: its `extract_<slot>` methods read the message for the slots of
`required_slots`, its `validate_<slot>` methods check the slots just read, then
`next_requested_slot` sets `requested_slot` to the form's `next_question(slots)`; None ends the
form. A message that does not answer the question raises `NotAnAnswerError`: the turn returns no
event, which Rasa takes as a rejection of the form; the rules answer the message, then the form
asks its question again.
"""

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction

from actions.consent import consent_record, read_consent


class NotAnAnswerError(Exception):
    """The message does not answer the form's question: the rules handle it, the form resumes."""


def latest(tracker: Tracker) -> tuple[str, str | None]:
    """The text and the intent of the latest user message."""
    message = tracker.latest_message or {}
    return str(message.get("text") or ""), (message.get("intent") or {}).get("name")


def answer_to(slot: str, tracker: Tracker) -> dict[str, Any]:
    """`{slot: text}` when the latest message answers the question about `slot`, else nothing."""
    if tracker.get_slot(REQUESTED_SLOT) != slot:
        return {}
    return {slot: latest(tracker)[0]}


class QuestionForm(FormValidationAction, ABC):
    """A form validation action that asks the questions in its own order (`next_question`)."""

    # The slots the form fills, asked or read along with an answer: rasa-sdk extracts and
    # validates these (`required_slots`), whichever the form asks.
    form_slots: ClassVar[tuple[str, ...]]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            events: list[EventType] = await super().run(dispatcher, tracker, domain)
        except NotAnAnswerError:
            return []
        return events

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        return list(self.form_slots)

    @abstractmethod
    def next_question(self, slots: dict[str, Any]) -> str | None:
        """The slot to ask next given the slots filled so far, or None when the form is over."""

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType:
        return SlotSet(REQUESTED_SLOT, self.next_question(dict(tracker.slots)))

    def answers_consent(self, tracker: Tracker) -> bool:
        """Whether the latest message answers the consent question."""
        return bool(tracker.get_slot(REQUESTED_SLOT) == "consent")

    def extract_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not self.answers_consent(tracker):
            return {}
        text, intent = latest(tracker)
        return {"consent": read_consent(text, intent, dispatcher)}

    def validate_consent(
        self,
        value: bool | None,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return consent_record(value, tracker.get_slot("consent_at"))
