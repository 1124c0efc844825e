"""The channels a conversation can come from, as leads and ratings record them."""

from typing import Literal

Channel = Literal["website", "telegram", "whatsapp", "messenger", "slack", "rest", "other"]
