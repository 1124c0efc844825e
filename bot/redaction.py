"""Forgetting what a prospect wrote once they refuse consent (privacy by design).

Before a prospect decides, their messages exist only in their own conversation's tracker, as the
dialogue needs. Once they refuse (the `consent` slot is False), the texts of the conversation's
messages, theirs and the assistant's (which may repeat what they said), are replaced by
`REDACTED`: the messages of the current session already stored, and every later one while the
refusal stands. What the dialogue policies read is kept: intents, entity names, actions, slots.
The actions read the texts during the turn, before the tracker is saved: a special situation said
in the refusing conversation still leads to the advisor proposal (actions/needs_discovery.py).

The tracker store (bot/tracker_store.py) applies `redacted` to the events it saves and rewrites
the rows already stored.
"""

from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

REDACTED = "[message effacé : consentement refusé]"
CONSENT_SLOT = "consent"


def consent_refused(tracker: DialogueStateTracker) -> bool:
    """Whether the prospect has refused consent and not changed their mind since."""
    return tracker.get_slot(CONSENT_SLOT) is False


def needs_redaction(event: Event) -> bool:
    """Whether the event still holds a text that a refusal must remove."""
    if isinstance(event, UserUttered):
        return event.text != REDACTED
    if isinstance(event, BotUttered):
        return event.text not in (None, REDACTED) or bool(event.data)
    return False


def redacted(event: Event) -> Event:
    """The same event without what the person or the assistant wrote; others unchanged."""
    if isinstance(event, UserUttered):
        parse_data = dict(event.parse_data or {})
        entities = [_without_value(entity) for entity in event.entities]
        parse_data.update(text=REDACTED, entities=entities)
        for key in ("response_selector", "intent_ranking"):
            parse_data.pop(key, None)
        return UserUttered(
            text=REDACTED,
            intent=event.intent,
            entities=entities,
            parse_data=parse_data,  # type: ignore[arg-type]
            timestamp=event.timestamp,
            input_channel=event.input_channel,
            message_id=event.message_id,
            metadata={},
        )
    if isinstance(event, BotUttered):
        return BotUttered(text=REDACTED, data={}, metadata={}, timestamp=event.timestamp)
    return event


def _without_value(entity: dict[str, Any]) -> dict[str, Any]:
    """An entity's name, role and group, which the policies read; never its value."""
    return {key: value for key, value in entity.items() if key in ("entity", "role", "group")}
