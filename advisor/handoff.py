"""The handoff contract between the conversation (action server) and the advisor workflow.

The action server knows only this module: it builds a `HandoffRequest` from the tracker and calls
`HandoffService.hand_off()`. The advisor package implements the service on its lead store.

Guarantees an implementation gives:
- one open lead per conversation and person: a repeat while the conversation's lead is open and
  recent returns that lead (`created=False`), with the person's new contact details written
  into it (`contact_updated=True`) when they changed; a request after the lead was closed (won,
  lost…), once it is older than the store's limit, or from someone else (another name and no
  e-mail or phone in common) creates a new lead;
- durable: `hand_off()` returns only once the lead is committed, so the bot may confirm the
  reference it carries;
- honest failure: when the store cannot be reached it raises `HandoffUnavailableError` (after its
  own retries), and nothing is half-written.
"""

from __future__ import annotations

from typing import Protocol

from advisor.schemas import (
    ConsentRecord,
    Contact,
    LeadCreate,
    LeadSchema,
    RecommendedProduct,
    TranscriptTurn,
)
from common.channels import Channel
from common.sources import SourceRef

__all__ = [
    "Channel",
    "ConsentRecord",
    "Contact",
    "HandoffError",
    "HandoffReceipt",
    "HandoffRequest",
    "HandoffService",
    "HandoffUnavailableError",
    "RecommendedProduct",
    "SourceRef",
    "TranscriptTurn",
]

# What the conversation hands off: a lead to create, with the person's contact and consent, the
# products recommended (each with its cited passages) and the transcript (advisor/schemas.py).
HandoffRequest = LeadCreate


class HandoffReceipt(LeadSchema):
    lead_reference: str
    created: bool
    # An open lead of the conversation was found and its contact details replaced by the new ones.
    contact_updated: bool = False


class HandoffError(Exception):
    """Base class of the handoff errors."""


class HandoffUnavailableError(HandoffError):
    """The lead store could not be reached; nothing was stored. The caller may retry later."""


class HandoffService(Protocol):
    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        """Store the lead durably (or update the open one of this conversation)."""
        ...
