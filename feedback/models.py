"""The feedback table, on the application's shared `Base` (its schemas: feedback/schemas.py).

Migrations: migrations/versions/0003_feedback.py creates this table; 0004_security adds
`rater_digest`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, JsonType


class FeedbackRow(Base):
    """One rating of one bot message; only the browser that gave it may replace it.

    `rater_digest` is the SHA-256 digest of the random rater token the web app gave that browser
    (an HttpOnly cookie); a rating stored without one can no longer be replaced.
    """

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
    rater_digest: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
