from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from common.db import Base
from feedback.errors import FeedbackStorageError, RatingLockedError
from feedback.models import FeedbackRow
from feedback.store import FeedbackStore
from tests.feedback.conftest import alembic, make_feedback

RATER = "rater-token-of-the-first-browser-0123456789"
OTHER_RATER = "rater-token-of-another-browser-0123456789"


class TestMigration:
    def test_head_creates_exactly_the_feedback_model(self, engine: Engine) -> None:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [change for change in diff if "feedback" in repr(change)] == []

    def test_downgrade_removes_only_the_feedback_table(
        self, engine: Engine, database_url: str
    ) -> None:
        alembic(database_url, "downgrade", "0002_advisor")
        tables = set(inspect(engine).get_table_names())
        assert "feedback" not in tables
        assert "catalogue_products" in tables
        alembic(database_url, "upgrade", "head")
        assert "feedback" in inspect(engine).get_table_names()


class TestFeedbackStore:
    def test_a_rating_is_stored_with_its_question_answer_sources_and_mode(
        self, store: FeedbackStore
    ) -> None:
        stored, created = store.record(make_feedback())
        assert created
        (read,) = list(store.iter_all())
        assert read == stored
        assert read.rating == 4
        assert read.question == "Quel est le délai de renonciation ?"
        assert read.sources[0].document == "vg-epargne-conditions-generales.pdf"
        assert read.sources[0].page == 3
        assert read.mode == "generated"
        assert read.validated is True
        assert read.created_at.tzinfo is not None

    def test_rating_the_same_message_again_replaces_the_rating(self, store: FeedbackStore) -> None:
        first, _ = store.record(make_feedback(rating=1), rater=RATER)
        second, created = store.record(make_feedback(rating=5), rater=RATER)
        assert not created
        assert second.id == first.id
        assert [item.rating for item in store.iter_all()] == [5]

    def test_another_rater_cannot_replace_a_rating(self, store: FeedbackStore) -> None:
        store.record(make_feedback(rating=5, answer="Réponse notée."), rater=RATER)
        for intruder in (OTHER_RATER, None):
            with pytest.raises(RatingLockedError):
                store.record(make_feedback(rating=1, answer="Réécrite."), rater=intruder)
        (kept,) = store.iter_all()
        assert (kept.rating, kept.answer) == (5, "Réponse notée.")

    def test_a_rating_given_without_a_rater_is_never_replaced(self, store: FeedbackStore) -> None:
        store.record(make_feedback(rating=3))
        with pytest.raises(RatingLockedError):
            store.record(make_feedback(rating=1))
        with pytest.raises(RatingLockedError):
            store.record(make_feedback(rating=1), rater=RATER)
        assert [item.rating for item in store.iter_all()] == [3]

    def test_the_rater_token_is_not_stored_in_clear(self, store: FeedbackStore, engine) -> None:
        store.record(make_feedback(), rater=RATER)
        with engine.connect() as connection:
            stored = connection.scalar(select(FeedbackRow.rater_digest))
        assert stored is not None
        assert RATER not in stored

    def test_each_message_of_a_conversation_keeps_its_own_rating(
        self, store: FeedbackStore
    ) -> None:
        store.record(make_feedback(message_id="a", rating=2))
        store.record(make_feedback(message_id="b", rating=5))
        store.record(make_feedback(conversation_id="other", message_id="a", rating=3))
        assert sorted(item.rating for item in store.iter_all()) == [2, 3, 5]

    def test_export_can_start_at_a_date(self, store: FeedbackStore) -> None:
        store.record(make_feedback())
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert list(store.iter_all(since=later)) == []
        assert len(list(store.iter_all(since=later - timedelta(hours=1)))) == 1

    def test_summary_counts_levels_modes_and_lists_the_latest_poor_answers(
        self, store: FeedbackStore
    ) -> None:
        for index, (rating, mode) in enumerate(
            [(5, "generated"), (4, "generated"), (1, "extractive"), (2, None), (5, "generated")]
        ):
            store.record(make_feedback(message_id=f"m{index}", rating=rating, mode=mode))
        summary = store.summary()
        assert summary.total == 5
        assert summary.average == pytest.approx(3.4)
        assert summary.satisfied_share == pytest.approx(0.6)
        assert [level.count for level in summary.levels] == [1, 1, 0, 1, 2]
        assert [level.emoji for level in summary.levels] == ["☹️", "😐", "😊", "😄", "😁"]
        modes = {mode.mode: (mode.count, mode.average) for mode in summary.by_mode}
        assert modes == {
            "generated": (3, pytest.approx(4.67)),
            "extractive": (1, 1.0),
            "inconnu": (1, 2.0),
        }
        assert sorted(item.rating for item in summary.recent_low) == [1, 2]

    def test_summary_of_an_empty_table(self, store: FeedbackStore) -> None:
        summary = store.summary()
        assert summary.total == 0
        assert summary.average is None
        assert all(level.count == 0 for level in summary.levels)


@pytest.mark.unit
def test_an_unmigrated_database_is_reported_not_crashed(tmp_path) -> None:
    from common.db import engine_from_url

    store = FeedbackStore(engine_from_url(f"sqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(FeedbackStorageError, match="alembic upgrade head"):
        store.record(make_feedback())
    with pytest.raises(FeedbackStorageError):
        store.summary()
