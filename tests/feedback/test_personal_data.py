"""Ratings and personal data: those of an erased conversation go (either id form), and those
older than the retention."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.models import FeedbackRow
from feedback.store import delete_for_conversations, rating_conversation_ids
from tests.feedback.conftest import make_feedback


def conversations(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return sorted(connection.scalars(select(FeedbackRow.conversation_id)))


@pytest.mark.unit
def test_a_website_conversation_is_rated_under_the_widget_id_too():
    assert rating_conversation_ids(["website:abc", "telegram:12"]) == {
        "website:abc",
        "abc",
        "telegram:12",
    }
    assert rating_conversation_ids(["website:"]) == {"website:"}


def test_the_ratings_of_erased_conversations_are_deleted(store, engine):
    for conversation in ("abc", "website:def", "other"):
        store.record(make_feedback(conversation_id=conversation))
    with Session(engine) as session, session.begin():
        deleted = delete_for_conversations(session, ["website:abc", "website:def"])
    assert deleted == 2
    assert conversations(engine) == ["other"]


def test_purge_deletes_ratings_given_before_the_cutoff(store, engine):
    store.record(make_feedback(conversation_id="old"))
    store.record(make_feedback(conversation_id="new"))
    with Session(engine) as session, session.begin():
        row = session.scalar(select(FeedbackRow).where(FeedbackRow.conversation_id == "old"))
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(days=2000)
    cutoff = datetime.now(UTC) - timedelta(days=1095)
    assert store.purge(cutoff, dry_run=True) == 1
    assert conversations(engine) == ["new", "old"]
    assert store.purge(cutoff) == 1
    assert store.purge(cutoff) == 0
    assert conversations(engine) == ["new"]


def test_recording_a_rating_logs_at_info_without_breaking(store, caplog):
    # `created` is a LogRecord attribute: passing it in `extra` made every rating fail at INFO.
    with caplog.at_level(logging.INFO, logger="feedback.store"):
        store.record(make_feedback(conversation_id="logged"))
    assert "feedback recorded" in caplog.text
