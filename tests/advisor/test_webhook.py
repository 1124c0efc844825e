"""The CRM webhook and its outbox worker, against a real local receiver, on SQLite and PostgreSQL:
signature and its time window, the retry schedule kept in the row, leases shared by concurrent
workers, a killed worker's rows taken over, erased leads never sent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, text, update

from advisor.cli import main
from advisor.config import AdvisorSettings
from advisor.database import open_engine
from advisor.erasure import ERASED_EVENT, Person, TrackerEvents, erase_person
from advisor.models import LeadRow, WebhookDeliveryRow
from advisor.service import SqlHandoffService, open_handoff_service
from advisor.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    WorkerProbes,
    retry_delay,
    sign,
    verify,
)
from advisor.workflow import CLI
from common.db import utc_now
from tests.advisor.factories import handoff_request
from tests.services import free_port

SECRET = "secret-partage-avec-le-crm"
ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """A CRM stand-in: fails the first `failures` calls with 503, then answers 204, after
    `delay_s`; with `hang_first`, the first call gets no answer until `release` is set."""

    def __init__(self, failures: int = 0, delay_s: float = 0.0, hang_first: bool = False) -> None:
        self.failures = failures
        self.delay_s = delay_s
        self.hang_first = hang_first
        self.calls: list[tuple[dict[str, str], bytes]] = []
        # Delivery ids answered with a 2xx: what the CRM has taken.
        self.accepted: list[int] = []
        self.received = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.calls.append((dict(self.headers), body))
                    number = len(receiver.calls)
                receiver.received.set()
                if receiver.hang_first and number == 1:
                    receiver.release.wait(60)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                ok = number > receiver.failures
                if ok:
                    with receiver._lock:
                        receiver.accepted.append(int(self.headers[DELIVERY_HEADER]))
                self.send_response(204 if ok else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/crm/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivery_ids(self) -> list[int]:
        return [int(headers[DELIVERY_HEADER]) for headers, _ in self.calls]


@pytest.fixture
def receiver_factory() -> Iterator[type[Receiver]]:
    started: list[Receiver] = []

    def make(failures: int = 0, delay_s: float = 0.0, hang_first: bool = False) -> Receiver:
        receiver = Receiver(failures, delay_s, hang_first)
        started.append(receiver)
        return receiver

    yield make  # type: ignore[misc]
    for receiver in started:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()


class Clock:
    """A clock the test moves: leases and schedules follow it, nothing waits."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def deliveries(engine: Engine) -> list[WebhookDeliveryRow]:
    with engine.connect() as connection:
        return list(
            connection.execute(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)).all()
        )


def delivery_status(engine: Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            select(WebhookDeliveryRow.status, WebhookDeliveryRow.attempts)
        ).one()
    return row[0], row[1]


def sender(engine: Engine, url: str, **options: object) -> WebhookSender:
    values: dict[str, object] = {"jitter": 0.0, "backoff_s": 10.0, "lease_s": 30.0}
    values.update(options)
    return WebhookSender(engine, url, SECRET, **values)  # type: ignore[arg-type]


def worker_command(database_url: str) -> list[str]:
    """The outbox worker as an operator starts it."""
    command = ["deliver-webhooks", "--watch"]
    return [sys.executable, "-m", "advisor", "--database-url", database_url, *command]


def new_leads(engine: Engine, count: int) -> list[str]:
    service = SqlHandoffService(engine)
    return [service.hand_off(handoff_request()).lead_reference for _ in range(count)]


@pytest.mark.unit
class TestSignature:
    BODY = b'{"event": "lead.qualified"}'

    def signed(self, at: float) -> tuple[str, str]:
        timestamp = str(int(at))
        return timestamp, sign(SECRET, timestamp, self.BODY)

    def test_a_fresh_request_signed_with_the_secret_is_accepted(self):
        timestamp, signature = self.signed(time.time())
        assert verify(SECRET, timestamp, self.BODY, signature)
        assert not verify("autre-secret", timestamp, self.BODY, signature)
        assert not verify(SECRET, timestamp, self.BODY + b" ", signature)

    def test_a_replay_older_than_the_tolerance_is_refused(self):
        now = time.time()
        timestamp, signature = self.signed(now - 301)
        assert not verify(SECRET, timestamp, self.BODY, signature, now=now)
        assert verify(SECRET, timestamp, self.BODY, signature, now=now - 2)
        assert verify(SECRET, timestamp, self.BODY, signature, tolerance_s=600, now=now)

    def test_a_timestamp_too_far_in_the_future_is_refused(self):
        now = time.time()
        timestamp, signature = self.signed(now + 301)
        assert not verify(SECRET, timestamp, self.BODY, signature, now=now)
        assert verify(SECRET, timestamp, self.BODY, signature, now=now + 2)

    @pytest.mark.parametrize("timestamp", ["", "demain", "1.5e9"])
    def test_a_timestamp_that_is_not_whole_seconds_is_refused(self, timestamp):
        assert not verify(SECRET, timestamp, self.BODY, sign(SECRET, timestamp, self.BODY))


class TestRetrySchedule:
    @pytest.mark.unit
    def test_the_delay_doubles_up_to_its_cap(self):
        delays = [retry_delay(failures, 10.0, 3600.0) for failures in range(1, 12)]
        assert delays == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]

    @pytest.mark.unit
    def test_the_jitter_only_shortens_the_delay_by_its_fraction(self):
        assert retry_delay(3, 10.0, 3600.0, jitter=0.1, rng=lambda: 0.0) == 40.0
        assert retry_delay(3, 10.0, 3600.0, jitter=0.1, rng=lambda: 1.0) == pytest.approx(36.0)

    def test_a_failed_attempt_is_scheduled_in_the_row_and_nothing_waits(
        self, engine, receiver_factory
    ):
        receiver = receiver_factory(failures=2)
        clock = Clock()
        worker = sender(engine, receiver.url, attempts=4, clock=clock)
        new_leads(engine, 1)

        started = time.monotonic()
        assert worker.run_once().retrying == 1
        [row] = deliveries(engine)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 503")
        assert row.next_attempt_at == clock.now + timedelta(seconds=10)
        assert row.lease_token is None
        assert row.leased_until is None

        assert worker.run_once().claimed == 0  # not due yet
        clock.advance(9.9)
        assert worker.run_once().claimed == 0
        clock.advance(0.1)
        assert worker.run_once().retrying == 1
        assert deliveries(engine)[0].next_attempt_at == clock.now + timedelta(seconds=20)
        clock.advance(20)
        assert worker.run_once().delivered == 1
        assert time.monotonic() - started < 5  # the 30 s of backoff were never slept

        assert len(receiver.calls) == 3
        assert delivery_status(engine) == ("delivered", 3)
        headers, body = receiver.calls[-1]
        assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        assert payload["event"] == "lead.qualified"
        assert payload["lead"]["contact"]["phone"] == "+33612345678"
        assert payload["lead"]["recommendations"][0]["code"] == "VG-AUTO"

    def test_after_the_last_attempt_the_event_waits_for_retry_failed(
        self, engine, receiver_factory
    ):
        receiver = receiver_factory(failures=100)
        clock = Clock()
        worker = sender(engine, receiver.url, attempts=2, clock=clock)
        new_leads(engine, 1)
        assert worker.run_once().retrying == 1
        clock.advance(10)
        assert worker.run_once().failed == 1
        assert delivery_status(engine) == ("failed", 2)
        clock.advance(10_000)
        assert worker.run_once().claimed == 0  # failed for good: the worker leaves it

        receiver.failures = 0
        assert worker.deliver_pending() == (0, 0)
        assert worker.deliver_pending(retry_failed=True) == (1, 0)
        assert delivery_status(engine) == ("delivered", 3)


class TestHandoff:
    def test_the_handoff_only_writes_the_outbox_and_the_worker_sends(
        self, engine, database_url, receiver_factory
    ):
        receiver = receiver_factory()
        settings = AdvisorSettings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
        )
        service = open_handoff_service(database_url, settings)
        try:
            reference = service.hand_off(handoff_request()).lead_reference
        finally:
            service.close()
        time.sleep(0.3)
        assert receiver.calls == []  # the person's turn never waits for the CRM
        assert delivery_status(engine) == ("pending", 0)
        assert WebhookSender.from_settings(engine, settings).deliver_for_lead(reference) == 1
        assert delivery_status(engine) == ("delivered", 1)

    def test_a_cold_lead_is_not_announced(self, engine):
        SqlHandoffService(engine).hand_off(
            handoff_request(profile={}, recommendations=[], reason="misunderstanding")
        )
        assert deliveries(engine) == []

    def test_a_secret_is_required(self, engine):
        with pytest.raises(ValueError, match="ADVISOR_WEBHOOK_SECRET"):
            WebhookSender(engine, "http://127.0.0.1:1/", "")

    def test_the_lease_must_outlast_a_post(self, engine):
        with pytest.raises(ValueError, match="lease"):
            WebhookSender(engine, "http://127.0.0.1:1/", SECRET, timeout_s=10, lease_s=10)
        with pytest.raises(ValueError, match="LEASE"):
            AdvisorSettings(
                _env_file=None,  # type: ignore[call-arg]
                webhook_timeout_s=30,
                webhook_lease_s=20,
            )


class TestLeases:
    def test_two_workers_at_once_post_each_event_once(self, engine, database_url, receiver_factory):
        receiver = receiver_factory(delay_s=0.01)
        count = 30
        new_leads(engine, count)
        engines = [open_engine(database_url) for _ in range(2)]
        workers = [
            sender(each, receiver.url, batch_size=3, poll_s=0.05, owner=f"worker-{n}")
            for n, each in enumerate(engines)
        ]
        stop = threading.Event()
        reports = [None, None]

        def run(n: int) -> None:
            reports[n] = workers[n].watch(stop)  # type: ignore[call-overload]

        threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(row.status == "delivered" for row in deliveries(engine)):
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
            for each in engines:
                each.dispose()

        ids = [row.id for row in deliveries(engine)]
        assert len(ids) == count
        assert Counter(receiver.delivery_ids()) == Counter(ids)  # each posted exactly once
        assert sorted(receiver.accepted) == sorted(ids)
        assert all(report is not None and report.delivered > 0 for report in reports), (
            f"one worker did all the work, the test did not run them concurrently: {reports}"
        )
        assert sum(report.delivered for report in reports) == count  # type: ignore[union-attr]
        assert {row.attempts for row in deliveries(engine)} == {1}

    def test_a_row_another_worker_holds_is_left_to_it_until_its_lease_expires(
        self, engine, receiver_factory
    ):
        receiver = receiver_factory()
        clock = Clock()
        new_leads(engine, 1)
        first = sender(engine, receiver.url, clock=clock, owner="first")
        second = sender(engine, receiver.url, clock=clock, owner="second")
        claim = first.claim(10)
        assert len(claim.ids) == 1
        assert second.run_once().claimed == 0
        clock.advance(29)
        assert second.run_once().claimed == 0
        clock.advance(2)  # the first worker's 30 s lease is over
        assert second.run_once().delivered == 1
        # The first worker comes back: its lease was lost, it posts nothing.
        report = first.deliver_claim(claim)
        assert (report.delivered, report.lost) == (0, 1)
        assert len(receiver.calls) == 1

    def test_a_killed_worker_s_event_is_taken_over_after_its_lease(
        self, engine, database_url, receiver_factory
    ):
        receiver = receiver_factory(hang_first=True)
        [reference] = new_leads(engine, 1)
        worker = subprocess.Popen(
            worker_command(database_url),
            cwd=ROOT,
            env={
                **os.environ,
                "ADVISOR_WEBHOOK_URL": receiver.url,
                "ADVISOR_WEBHOOK_SECRET": SECRET,
                "ADVISOR_WEBHOOK_LEASE_S": "3",
                "ADVISOR_WEBHOOK_TIMEOUT_S": "2",
                "ADVISOR_WEBHOOK_POLL_S": "0.2",
                "ADVISOR_WEBHOOK_WORKER_PORT": "0",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            got = receiver.received.wait(60)
        finally:
            worker.send_signal(signal.SIGKILL)
            _, errors = worker.communicate(timeout=30)
        assert got, errors.decode(errors="replace")[-2000:]

        [row] = deliveries(engine)
        assert row.status == "pending"
        assert row.lease_owner is not None
        assert row.lease_owner.endswith(f":{worker.pid}")
        assert row.leased_until is not None
        assert row.leased_until > utc_now()
        survivor = sender(engine, receiver.url, owner="survivor")
        assert survivor.run_once().claimed == 0  # the dead worker's lease still holds

        time.sleep(max(0.0, (row.leased_until - utc_now()).total_seconds()) + 0.2)
        assert survivor.deliver_for_lead(reference) == 1
        assert receiver.delivery_ids() == [row.id, row.id]  # the lost POST, then the takeover
        assert receiver.accepted == [row.id]
        assert delivery_status(engine) == ("delivered", 2)

    @pytest.mark.integration
    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    def test_postgresql_skips_rows_another_transaction_has_locked(self, engine, receiver_factory):
        receiver = receiver_factory()
        new_leads(engine, 3)
        first_id = deliveries(engine)[0].id
        with engine.connect() as locker:
            locker.execute(
                text("SELECT id FROM advisor_webhook_deliveries WHERE id = :id FOR UPDATE"),
                {"id": first_id},
            )
            claims: list[list[int]] = []
            other = sender(engine, receiver.url)
            thread = threading.Thread(target=lambda: claims.append(other.claim(10).ids))
            thread.start()
            thread.join(10)
            assert not thread.is_alive(), "the claim waited for the locked row"
            locker.rollback()
        assert len(claims[0]) == 2
        assert first_id not in claims[0]


class TestErasedLeads:
    def test_an_erasure_between_claim_and_post_cancels_the_event(
        self, engine, tmp_path, receiver_factory
    ):
        receiver = receiver_factory()
        [reference] = new_leads(engine, 1)
        worker = sender(engine, receiver.url)
        claim = worker.claim(10)
        tracker = TrackerEvents.open(f"sqlite:///{tmp_path / 'tracker.db'}")
        try:
            report = erase_person(engine, tracker, CLI, Person.of(reference=reference))
        finally:
            tracker.close()
        assert report.cancelled_webhooks == 1
        assert report.notices == []
        assert worker.deliver_claim(claim).delivered == 0
        assert receiver.calls == []
        assert delivery_status(engine) == ("cancelled", 0)

    def test_a_pending_event_of_an_erased_lead_is_cancelled_and_its_notice_sent(
        self, engine, receiver_factory
    ):
        receiver = receiver_factory()
        [reference] = new_leads(engine, 1)
        erased_at = utc_now()
        with engine.begin() as connection:
            # As if the erasure's own cancellation had missed the event (an older release).
            connection.execute(
                update(LeadRow).where(LeadRow.reference == reference).values(erased_at=erased_at)
            )
            lead_id = connection.scalar(select(LeadRow.id).where(LeadRow.reference == reference))
            connection.execute(
                WebhookDeliveryRow.__table__.insert().values(
                    lead_id=lead_id,
                    event=ERASED_EVENT,
                    status="pending",
                    attempts=0,
                    created_at=erased_at,
                )
            )
        report = sender(engine, receiver.url).run_once()
        assert (report.cancelled, report.delivered) == (1, 1)
        assert [row.status for row in deliveries(engine)] == ["cancelled", "delivered"]
        [(_headers, body)] = receiver.calls
        payload = json.loads(body)
        assert payload["event"] == ERASED_EVENT
        assert set(payload["lead"]) == {"reference", "erased_at"}
        assert b"Martin" not in body
        assert b"+336" not in body


class TestWorkerProcess:
    def test_the_probes_say_whether_the_loop_lives_and_the_database_answers(
        self, engine, receiver_factory
    ):
        worker = sender(engine, receiver_factory().url)
        probes = WorkerProbes(engine, "127.0.0.1", 0, worker)
        probes.start()
        try:
            health = httpx.get(f"http://127.0.0.1:{probes.port}/health", timeout=10)
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            assert probes.answer("/ready") == (200, {"status": "ready"})
            worker.heartbeat -= probes.stale_after_s + 1
            assert probes.answer("/health")[0] == 503
        finally:
            probes.stop()
        broken = WorkerProbes(open_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"), "", 0)
        assert broken.answer("/ready")[0] == 503
        broken.server.server_close()

    @pytest.mark.unit
    def test_without_a_webhook_url_the_worker_waits_and_answers_its_probes(
        self, sqlite_url, monkeypatch
    ):
        port = free_port()
        worker = subprocess.Popen(
            worker_command(sqlite_url),
            cwd=ROOT,
            env={
                **os.environ,
                "ADVISOR_WEBHOOK_URL": "",
                "ADVISOR_WEBHOOK_WORKER_PORT": str(port),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                    break
                except httpx.TransportError:
                    assert worker.poll() is None, worker.communicate()[1].decode()[-2000:]
                    assert time.monotonic() < deadline, "the worker never answered"
                    time.sleep(0.2)
            assert health.json() == {"status": "ok", "webhook": "off"}
            assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
        finally:
            worker.send_signal(signal.SIGTERM)
            _, errors = worker.communicate(timeout=30)
        assert worker.returncode == 0
        assert b"ADVISOR_WEBHOOK_URL is not set" in errors

    def test_the_one_shot_command_sends_what_is_pending(
        self, engine, database_url, receiver_factory, monkeypatch, capsys
    ):
        receiver = receiver_factory()
        new_leads(engine, 2)
        monkeypatch.setenv("ADVISOR_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("ADVISOR_WEBHOOK_SECRET", SECRET)
        assert main(["--database-url", database_url, "deliver-webhooks"]) == 0
        assert "2 webhook(s) envoyé(s), 0 en échec." in capsys.readouterr().out
        assert len(receiver.calls) == 2

    @pytest.mark.unit
    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    def test_the_worker_stops_on_sigterm_and_leaves_no_lease_behind(
        self, engine, database_url, receiver_factory
    ):
        receiver = receiver_factory()
        new_leads(engine, 1)
        worker = subprocess.Popen(
            worker_command(database_url),
            cwd=ROOT,
            env={
                **os.environ,
                "ADVISOR_WEBHOOK_URL": receiver.url,
                "ADVISOR_WEBHOOK_SECRET": SECRET,
                "ADVISOR_WEBHOOK_POLL_S": "0.2",
                "ADVISOR_WEBHOOK_WORKER_PORT": "0",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while delivery_status(engine)[0] != "delivered" and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, errors = worker.communicate(timeout=30)
        assert worker.returncode == 0, errors.decode(errors="replace")[-2000:]
        assert delivery_status(engine) == ("delivered", 1)
        [row] = deliveries(engine)
        assert row.lease_token is None
        assert row.lease_owner is None
