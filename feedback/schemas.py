"""The pydantic schemas of the ratings: what the widget posts, what is read back and summarised.

A rating carries the sources of the rated answer as `common.sources.SourceRef`, the shape the
knowledge base cites them in; its bounds are the API's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.channels import Channel
from common.contact import mask_contact_details
from common.sources import SourceRef

# The five levels of the widget, from "not helpful at all" to "perfect".
RATING_LABELS: dict[int, str] = {
    1: "Pas du tout utile",
    2: "Peu utile",
    3: "Utile",
    4: "Très utile",
    5: "Parfait",
}
RATING_EMOJIS: dict[int, str] = {1: "☹️", 2: "😐", 3: "😊", 4: "😄", 5: "😁"}


class FeedbackBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=200)
    message_id: str = Field(min_length=1, max_length=100)
    rating: int = Field(ge=1, le=5, description="1 ☹️ … 5 😁")
    question: str = Field(default="", max_length=10_000)
    answer: str = Field(min_length=1, max_length=20_000)
    sources: list[SourceRef] = Field(default_factory=list, max_length=50)
    mode: str | None = Field(default=None, max_length=40)
    validated: bool | None = None
    channel: Channel = "website"


class FeedbackCreate(FeedbackBase):
    """What the widget posts. Contact details in the texts are masked on the way in."""

    @field_validator("question", "answer")
    @classmethod
    def _mask(cls, value: str) -> str:
        return mask_contact_details(value)

    @field_validator("conversation_id", "message_id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable():
            raise ValueError("must not contain control characters")
        return value


class FeedbackPublic(FeedbackBase):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # SQLite returns naive datetimes: they were stored in UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LevelCount(BaseModel):
    rating: int
    emoji: str
    label: str
    count: int


class ModeSummary(BaseModel):
    mode: str
    count: int
    average: float


class FeedbackSummary(BaseModel):
    """The figures of the supervisor dashboard."""

    total: int
    average: float | None
    satisfied_share: float | None = Field(description="share of ratings 4 and 5")
    levels: list[LevelCount]
    by_mode: list[ModeSummary]
    recent_low: list[FeedbackPublic] = Field(description="latest ratings 1 and 2, to review")


class FeedbackReceipt(BaseModel):
    """The API's answer to a rating."""

    id: int
    rating: int
    created: bool
    message: str
