"""Writes conversations into a tracker database with Rasa's own SQL tracker store.

Run with the Rasa environment's Python (`.venv-rasa/bin/python`), by `tests/advisor/trackers.py`:

    python tests/advisor/rasa_tracker.py DATABASE_FILE SPEC_JSON

SPEC_JSON is a list of conversations, `{"sender": …, "at": unix time, "texts": […],
"slots": {name: value}, "later": {"at": unix time, "texts": […]}}`: each text a user message
(and a bot reply), each slot a `slot` event, as Rasa stores them; `later`, optional, the messages
of a return to the conversation.
"""

import asyncio
import json
import sys

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

DOMAIN = """
version: "3.1"
slots:
  contact_name: {type: text, mappings: [{type: custom}]}
  contact_email: {type: text, mappings: [{type: custom}]}
  contact_phone: {type: text, mappings: [{type: custom}]}
"""


async def write(database: str, conversations: list[dict]) -> None:
    domain = Domain.from_yaml(DOMAIN)
    store = SQLTrackerStore(domain, dialect="sqlite", db=database)
    for conversation in conversations:
        at = float(conversation["at"])
        events = []
        for offset, text in enumerate(conversation.get("texts", [])):
            events.append(UserUttered(text, timestamp=at + 2 * offset))
            events.append(BotUttered("Bien noté.", timestamp=at + 2 * offset + 1))
        for offset, (name, value) in enumerate(conversation.get("slots", {}).items()):
            events.append(SlotSet(name, value, timestamp=at + 100 + offset))
        later = conversation.get("later", {})
        for offset, text in enumerate(later.get("texts", [])):
            events.append(UserUttered(text, timestamp=float(later["at"]) + offset))
        tracker = DialogueStateTracker.from_events(conversation["sender"], events, domain.slots)
        await store.save(tracker)


if __name__ == "__main__":
    asyncio.run(write(sys.argv[1], json.loads(sys.argv[2])))
