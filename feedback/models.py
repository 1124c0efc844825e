"""The feedback table (on the application's shared `Base`) and its pydantic schemas.

Migration: migrations/versions/0003_feedback.py creates exactly this table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from feedback.privacy import mask_contact_details

JsonType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# The five levels of the widget, from "not helpful at all" to "perfect".
RATING_LABELS: dict[int, str] = {
    1: "Pas du tout utile",
    2: "Peu utile",
    3: "Utile",
    4: "Très utile",
    5: "Parfait",
}
RATING_EMOJIS: dict[int, str] = {1: "☹️", 2: "😐", 3: "😊", 4: "😄", 5: "😁"}
Channel = Literal["website", "telegram", "whatsapp", "messenger", "slack", "rest", "other"]


def utc_now() -> datetime:
    return datetime.now(UTC)


class FeedbackRow(Base):
    """One rating of one bot message; rating it again replaces the rating."""

    __tablename__ = "feedback"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "message_id", name="uq_feedback_message"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.String(200), index=True)
    message_id: Mapped[str] = mapped_column(sa.String(100))
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    question: Mapped[str] = mapped_column(sa.Text)
    answer: Mapped[str] = mapped_column(sa.Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    mode: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    validated: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class SourcePublic(BaseModel):
    """A passage the answer was drawn from, as the `answer` payload gives it."""

    model_config = ConfigDict(extra="ignore")

    document: str = Field(min_length=1, max_length=300)
    page: int | None = Field(default=None, ge=1, le=100_000)
    passage: str = Field(default="", max_length=5_000)
    score: float | None = None


class FeedbackBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=200)
    message_id: str = Field(min_length=1, max_length=100)
    rating: int = Field(ge=1, le=5, description="1 ☹️ … 5 😁")
    question: str = Field(default="", max_length=10_000)
    answer: str = Field(min_length=1, max_length=20_000)
    sources: list[SourcePublic] = Field(default_factory=list, max_length=50)
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
