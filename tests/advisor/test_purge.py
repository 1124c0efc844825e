"""The retention purge: leads, ratings and tracker conversations older than the retention go, the
rest stays; a second run finds nothing; SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from advisor.advice import AdviceRecords
from advisor.cli import main
from advisor.erasure import Person, TrackerEvents, erase_person, purge
from advisor.errors import InvalidInputError
from advisor.models import AuditEventRow, LeadRow, NoteRow, WebhookDeliveryRow
from advisor.store import LeadStore
from advisor.workflow import CLI
from feedback.models import FeedbackRow
from tests.advisor.conftest import postgres_schema_url
from tests.advisor.factories import handoff_request
from tests.advisor.trackers import copy_to_postgresql, rasa_tracker_file, senders

DAY = 86_400
NOW = time.time()
CONVERSATIONS = [
    {"sender": "rest:old-visitor", "at": NOW - 1200 * DAY, "texts": ["Bonjour"]},
    # Started long ago but still going: its last event is recent, so it stays.
    {"sender": "telegram:42", "at": NOW - 1500 * DAY, "texts": ["Bonjour"],
     "slots": {"contact_name": "Lucie"}, "later": {"at": NOW - DAY, "texts": ["Me revoilà"]}},
    {"sender": "website:recent", "at": NOW - 10 * DAY, "texts": ["Bonjour"]},
]  # fmt: skip


@pytest.fixture(scope="module")
def tracker_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tracker") / "rasa.db"
    rasa_tracker_file(path, CONVERSATIONS)
    # telegram:42 said something yesterday (Rasa writes the time of each event).
    rasa_tracker_file(path, [{"sender": "telegram:42", "at": NOW - DAY, "texts": ["Me revoilà"]}])
    return path


@pytest.fixture
def tracker_url(database_url: str, tracker_template: Path, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        target = tmp_path / "rasa.db"
        target.write_bytes(tracker_template.read_bytes())
        yield f"sqlite:///{target}"
        return
    for url in postgres_schema_url():
        copy_to_postgresql(tracker_template, url)
        yield url


@pytest.fixture
def tracker(tracker_url: str) -> Iterator[TrackerEvents]:
    events = TrackerEvents.open(tracker_url)
    yield events
    events.close()


def at(days_ago: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days_ago)


def rate(engine: Engine, conversation_id: str, days_ago: float) -> None:
    when = at(days_ago)
    with Session(engine) as session, session.begin():
        session.add(
            FeedbackRow(
                conversation_id=conversation_id, message_id="m1", rating=5, question="q",
                answer="a", sources=[], channel="website", created_at=when, updated_at=when,
            )
        )  # fmt: skip


def count(engine: Engine, table: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def references(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(LeadRow.reference)))


@pytest.fixture
def old_and_new(engine, advisor) -> tuple[str, str]:
    """A lead last touched four years ago (with a note, an advice record and an outbox row) and
    one from last week; a rating of each age."""
    old_store = LeadStore(engine, clock=lambda: at(4 * 365))
    old = old_store.hand_off(handoff_request(conversation_id="rest:old-visitor")).lead_reference
    old_store.claim(old, advisor)
    old_store.add_note(old, advisor, "Rappeler en janvier.")
    AdviceRecords(engine, None).open_draft(old, advisor)
    with Session(engine) as session, session.begin():  # the draft was written today
        session.get(LeadRow, LeadStore(engine).lead_id(old)).updated_at = at(4 * 365)  # type: ignore[union-attr]
    recent = LeadStore(engine, clock=lambda: at(7)).hand_off(handoff_request()).lead_reference
    rate(engine, "old-session", 4 * 365)
    rate(engine, "new-session", 3)
    return old, recent


class TestPurge:
    def test_what_is_older_than_the_retention_goes_and_the_rest_stays(
        self, engine, tracker, tracker_url, old_and_new
    ):
        _, recent = old_and_new
        report = purge(engine, tracker, CLI, 1095)

        assert references(engine) == {recent}
        assert (report.leads, report.ratings, report.conversations) == (1, 1, 1)
        assert count(engine, NoteRow) == 0
        assert count(engine, WebhookDeliveryRow) == 1  # the recent lead's
        with engine.connect() as connection:
            ratings = set(connection.scalars(select(FeedbackRow.conversation_id)))
            audit = connection.execute(
                select(AuditEventRow.lead_id, AuditEventRow.action, AuditEventRow.details)
            ).all()
        assert ratings == {"new-session"}
        assert senders(tracker_url) == {"telegram:42", "website:recent"}
        assert {action for _, action, _ in audit} == {"created", "retention_purge"}
        (summary,) = [details for lead_id, action, details in audit if lead_id is None]
        assert summary["leads"] == 1
        assert summary["older_than_days"] == 1095

    def test_a_second_run_deletes_nothing_and_records_nothing(self, engine, tracker, old_and_new):
        purge(engine, tracker, CLI, 1095)
        events = count(engine, AuditEventRow)
        again = purge(engine, tracker, CLI, 1095)
        assert (again.leads, again.ratings, again.conversations, again.tracker_events) == (
            0, 0, 0, 0,
        )  # fmt: skip
        assert count(engine, AuditEventRow) == events

    def test_a_dry_run_counts_and_deletes_nothing(self, engine, tracker, tracker_url, old_and_new):
        report = purge(engine, tracker, CLI, 1095, dry_run=True)
        assert (report.leads, report.ratings, report.conversations) == (1, 1, 1)
        assert len(references(engine)) == 2
        assert count(engine, FeedbackRow) == 2
        assert "rest:old-visitor" in senders(tracker_url)

    def test_a_shorter_retention_reaches_more(self, engine, tracker, old_and_new):
        report = purge(engine, tracker, CLI, 5)
        assert report.leads == 2
        assert report.conversations == 2  # the recent website one is 10 days old

    def test_an_old_lead_owed_an_erasure_notice_is_kept_until_it_is_sent(
        self, engine, tracker, old_and_new
    ):
        old, _ = old_and_new
        with Session(engine) as session, session.begin():  # the CRM received it once
            session.execute(WebhookDeliveryRow.__table__.update().values(status="delivered"))
        erase_person(engine, tracker, CLI, Person.of(reference=old), now=at(4 * 365))
        report = purge(engine, tracker, CLI, 1095)
        assert report.kept_for_notices == 1
        assert old in references(engine)

    @pytest.mark.unit
    def test_a_retention_below_one_day_is_refused(self, sqlite_url):
        from advisor.database import open_engine

        engine = open_engine(sqlite_url)
        try:
            with pytest.raises(InvalidInputError):
                purge(engine, TrackerEvents(None), CLI, 0)
        finally:
            engine.dispose()


class TestCli:
    def test_purge_from_the_command_line_uses_the_retention_setting(
        self, database_url, tracker_url, old_and_new, engine, capsys, monkeypatch
    ):
        monkeypatch.setenv("ADVISOR_RETENTION_DAYS", "1095")
        arguments = ["--database-url", database_url, "purge", "--tracker-url", tracker_url]
        assert main([*arguments, "--dry-run"]) == 0
        assert "1 prospect(s)" in capsys.readouterr().out
        assert len(references(engine)) == 2
        assert main(arguments) == 0
        out = capsys.readouterr().out
        assert "Conservation 1095 jours" in out
        assert "1 conversation(s)" in out
        assert len(references(engine)) == 1
        assert main(arguments) == 0  # cron runs it again: nothing left
        assert "0 prospect(s), 0 note(s) de satisfaction, 0 conversation(s)" in (
            capsys.readouterr().out
        )
