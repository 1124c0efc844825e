"""Persistence of the ratings: record (one per message), read back, summarise.

A rating is bound to the rater token of the browser that gave it (its SHA-256 digest is stored):
only the same token replaces it, so someone who learns a conversation's ids cannot overwrite
another person's rating. A rating given without a token can never be replaced.

Personal data: `delete_for_conversations` removes the ratings of erased conversations (in the
erasure's own transaction, advisor/erasure.py) and `FeedbackStore.purge` those older than the
retention.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from common.db import utc_now
from feedback.errors import FeedbackStorageError, RatingLockedError
from feedback.models import FeedbackRow
from feedback.schemas import (
    RATING_EMOJIS,
    RATING_LABELS,
    FeedbackCreate,
    FeedbackPublic,
    FeedbackSummary,
    LevelCount,
    ModeSummary,
)

logger = logging.getLogger(__name__)

UNAVAILABLE = "the feedback database is unavailable or not migrated (alembic upgrade head)"


# The widget rates with its own session id, which the website channel keys as `website:<id>` in the
# tracker (channels/website.py, NAMESPACE): a rating's conversation is either form.
WEBSITE_PREFIX = "website:"
DELETE_BATCH = 500


def rating_conversation_ids(tracker_keys: Iterable[str]) -> set[str]:
    """The `conversation_id`s the ratings of these tracker conversations may carry."""
    ids: set[str] = set()
    for key in tracker_keys:
        ids.add(key)
        if key.startswith(WEBSITE_PREFIX) and len(key) > len(WEBSITE_PREFIX):
            ids.add(key.removeprefix(WEBSITE_PREFIX))
    return ids


def delete_for_conversations(session: Session, tracker_keys: Iterable[str]) -> int:
    """Delete the ratings of these conversations in the caller's transaction; how many went."""
    ids = sorted(rating_conversation_ids(tracker_keys))
    deleted = 0
    for start in range(0, len(ids), DELETE_BATCH):
        result = session.execute(
            delete(FeedbackRow)
            .where(FeedbackRow.conversation_id.in_(ids[start : start + DELETE_BATCH]))
            .execution_options(synchronize_session=False)
        )
        deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def _rater_digest(rater: str | None) -> str | None:
    return hashlib.sha256(rater.encode()).hexdigest() if rater else None


def _same_rater(stored: str | None, given: str | None) -> bool:
    return stored is not None and given is not None and hmac.compare_digest(stored, given)


class FeedbackStore:
    """Ratings in the application database; the caller owns the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self, feedback: FeedbackCreate, rater: str | None = None
    ) -> tuple[FeedbackPublic, bool]:
        """Store a rating; a second rating of the same message with the same `rater` token
        replaces the first.

        Returns the stored rating and whether it is new. Raises RatingLockedError when the message
        was rated with another token (or none), FeedbackStorageError when the database cannot be
        written; either way nothing was stored.
        """
        digest = _rater_digest(rater)
        try:
            return self._upsert(feedback, digest)
        except IntegrityError:
            # Two ratings of the same message at once: the other one inserted first.
            try:
                return self._upsert(feedback, digest)
            except SQLAlchemyError as exc:
                raise FeedbackStorageError(UNAVAILABLE) from exc
        except SQLAlchemyError as exc:
            raise FeedbackStorageError(UNAVAILABLE) from exc

    def _upsert(self, feedback: FeedbackCreate, digest: str | None) -> tuple[FeedbackPublic, bool]:
        now = utc_now()
        values = feedback.model_dump(mode="json")
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(FeedbackRow).where(
                    FeedbackRow.conversation_id == feedback.conversation_id,
                    FeedbackRow.message_id == feedback.message_id,
                )
            )
            created = row is None
            if row is None:
                row = FeedbackRow(**values, rater_digest=digest, created_at=now, updated_at=now)
                session.add(row)
            elif not _same_rater(row.rater_digest, digest):
                raise RatingLockedError("the message was rated from another browser")
            else:
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = now
            session.flush()
            public = FeedbackPublic.model_validate(row)
        logger.info(
            "feedback recorded",
            extra={"feedback_id": public.id, "rating": public.rating, "new_rating": created},
        )
        return public, created

    def purge(self, before: datetime, dry_run: bool = False) -> int:
        """Delete (or with `dry_run` only count) the ratings given before `before`."""
        old = FeedbackRow.created_at < before
        try:
            with Session(self.engine) as session, session.begin():
                if dry_run:
                    return int(
                        session.scalar(select(func.count()).select_from(FeedbackRow).where(old))
                        or 0
                    )
                result = session.execute(
                    delete(FeedbackRow).where(old).execution_options(synchronize_session=False)
                )
                return int(result.rowcount or 0)  # type: ignore[attr-defined]
        except SQLAlchemyError as exc:
            raise FeedbackStorageError(UNAVAILABLE) from exc

    def iter_all(self, since: datetime | None = None) -> Iterator[FeedbackPublic]:
        """Every rating, oldest first (optionally only those given since a moment)."""
        query = select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id)
        if since is not None:
            query = query.where(FeedbackRow.created_at >= since)
        try:
            with Session(self.engine) as session:
                for row in session.scalars(query.execution_options(yield_per=500)):
                    yield FeedbackPublic.model_validate(row)
        except SQLAlchemyError as exc:
            raise FeedbackStorageError(UNAVAILABLE) from exc

    def summary(self, recent_low_limit: int = 5) -> FeedbackSummary:
        """Counts per level and per answering mode, the average and the latest poor ratings."""
        try:
            with Session(self.engine) as session:
                per_level = dict(
                    session.execute(
                        select(FeedbackRow.rating, func.count()).group_by(FeedbackRow.rating)
                    ).all()
                )
                per_mode = session.execute(
                    select(FeedbackRow.mode, func.count(), func.avg(FeedbackRow.rating))
                    .group_by(FeedbackRow.mode)
                    .order_by(func.count().desc(), FeedbackRow.mode)
                ).all()
                low = session.scalars(
                    select(FeedbackRow)
                    .where(FeedbackRow.rating <= 2)
                    .order_by(FeedbackRow.updated_at.desc(), FeedbackRow.id.desc())
                    .limit(recent_low_limit)
                ).all()
                recent_low = [FeedbackPublic.model_validate(row) for row in low]
        except SQLAlchemyError as exc:
            raise FeedbackStorageError(UNAVAILABLE) from exc
        total = sum(per_level.values())
        weighted = sum(rating * count for rating, count in per_level.items())
        satisfied = per_level.get(4, 0) + per_level.get(5, 0)
        return FeedbackSummary(
            total=total,
            average=round(weighted / total, 2) if total else None,
            satisfied_share=round(satisfied / total, 3) if total else None,
            levels=[
                LevelCount(
                    rating=rating,
                    emoji=RATING_EMOJIS[rating],
                    label=RATING_LABELS[rating],
                    count=per_level.get(rating, 0),
                )
                for rating in sorted(RATING_LABELS)
            ],
            by_mode=[
                ModeSummary(
                    mode=mode or "inconnu", count=int(count), average=round(float(average), 2)
                )
                for mode, count, average in per_mode
            ],
            recent_low=recent_low,
        )
