"""Numbered options: which payload "1", "2"… stands for, per conversation.

When an app cannot show buttons, the bot lists them as numbered lines; the user answers with the
number and the connector turns it back into the button's payload. The memory is per Rasa process
and bounded (oldest conversations forgotten first); a forgotten number is simply sent as text.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from channels.formatting import Option

CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


class NumberedOptions:
    def __init__(self, max_conversations: int = 10_000, ttl_s: float = 3600.0) -> None:
        self.max_conversations = max_conversations
        self.ttl_s = ttl_s
        self._options: OrderedDict[str, tuple[float, list[Option]]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, conversation: str, options: list[Option]) -> None:
        with self._lock:
            self._options.pop(conversation, None)
            if options:
                self._options[conversation] = (time.monotonic(), list(options))
                while len(self._options) > self.max_conversations:
                    self._options.popitem(last=False)

    def forget(self, conversation: str) -> None:
        with self._lock:
            self._options.pop(conversation, None)

    def resolve(self, conversation: str, text: str | None) -> str | None:
        """The payload a bare number stands for, or None when the text is not one of the options."""
        match = CHOICE.match(text or "")
        if not match:
            return None
        with self._lock:
            stored = self._options.get(conversation)
            if stored is None or time.monotonic() - stored[0] > self.ttl_s:
                return None
            options = stored[1]
        index = int(match.group(1)) - 1
        return options[index].payload if 0 <= index < len(options) else None
