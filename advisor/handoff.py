"""The handoff contract between the conversation (action server) and the advisor workflow.

The action server knows only this module: it builds a `HandoffRequest` from the tracker and calls
`HandoffService.hand_off()`. The advisor package implements the service on its lead store.

Guarantees an implementation gives:
- idempotent: one conversation (`conversation_id`) hands off once; a retry with the same
  conversation returns the receipt of the lead already stored (`created=False`);
- durable: `hand_off()` returns only once the lead is committed, so the bot may confirm the
  reference it carries;
- honest failure: when the store cannot be reached it raises `HandoffUnavailableError` (after its
  own retries), and nothing is half-written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.contact import normalise_email, normalise_phone

Channel = Literal["website", "telegram", "whatsapp", "messenger", "slack", "rest", "other"]


class HandoffModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(HandoffModel):
    """How the advisor reaches the person. At least one of email and phone is set."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    preferred_slot: str | None = Field(default=None, max_length=200)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str | None) -> str | None:
        """A real address, domain in lower case; invalid ones are refused, never stored."""
        return None if value is None or not value.strip() else normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        """A French number (0X XX XX XX XX, +33…, 0033…), stored as +33XXXXXXXXX."""
        return None if value is None or not value.strip() else normalise_phone(value)

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if self.email is None and self.phone is None:
            raise ValueError("une adresse e-mail ou un numéro de téléphone est nécessaire")
        return self


class ConsentRecord(HandoffModel):
    """The consent the person gave before any personal data was kept."""

    text_version: str = Field(min_length=1, max_length=50)
    given_at: datetime
    channel: Channel


class SourceRef(HandoffModel):
    document: str
    page: int
    passage: str
    score: float | None = None


class RecommendedProduct(HandoffModel):
    code: str
    name: str
    category: str
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)


class TranscriptTurn(HandoffModel):
    speaker: Literal["user", "bot"]
    text: str
    at: datetime | None = None


class HandoffRequest(HandoffModel):
    conversation_id: str = Field(min_length=1, max_length=200)
    channel: Channel
    contact: Contact
    consent: ConsentRecord
    # A `product_catalog.profile.NeedsProfile` dumped with
    # `model_dump(mode="json", exclude_none=True)`.
    profile: dict[str, Any]
    recommendations: list[RecommendedProduct] = Field(default_factory=list)
    catalogue_version: str | None = None
    advisor_required: bool = False
    advisor_reasons: list[str] = Field(default_factory=list)
    # Why the person was handed off:
    # "asked", "recommendation", "misunderstanding", "special_situation".
    reason: str = "asked"
    transcript: list[TranscriptTurn] = Field(default_factory=list)


class HandoffReceipt(HandoffModel):
    lead_reference: str
    created: bool


class HandoffError(Exception):
    """Base class of the handoff errors."""


class HandoffUnavailableError(HandoffError):
    """The lead store could not be reached; nothing was stored. The caller may retry later."""


class HandoffService(Protocol):
    def hand_off(self, request: HandoffRequest) -> HandoffReceipt:
        """Store the lead durably (or find the one already stored for this conversation)."""
        ...
