"""The CRM webhook: an outbox delivered by lease-holding workers, HMAC-SHA256 signed.

The handoff writes a `pending` row in `advisor_webhook_deliveries` in the lead's own transaction
(an outbox), so a lead is never announced before it is stored and never forgotten if the CRM is
down. The outbox worker (`python -m advisor deliver-webhooks --watch`, one or several processes)
sends the rows:

- it claims a small batch of due rows and sets their lease (`leased_until`, `lease_owner`,
  `lease_token`) in one short transaction: on PostgreSQL the rows are chosen with
  `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers never wait for nor take each other's
  rows; on SQLite (local development) one conditional UPDATE does it under the write lock;
- before each POST it renews the row's lease and counts the attempt, fenced by its token: a row
  whose lease expired and was taken over, or that an erasure cancelled, is not sent;
- the outcome is written back under the same token; a failure schedules the next attempt in the
  row (`next_attempt_at`, exponential backoff with a little jitter): nothing sleeps while holding
  a row, and after `attempts` failures the row is `failed` until `--retry-failed`;
- a worker that dies holding rows leaves them to the others once the lease expires.

Each row is therefore posted once per worker pool unless a worker stalls past its lease in the
middle of a POST; the receiver drops repeats by the `X-Vergemont-Delivery` id, as it must anyway
(an answer lost on the way back is retried). Rows of an erased lead are cancelled, never sent;
their `lead.erased` notices are (advisor/erasure.py). Payload, signature and the receiver's checks
are documented in docs/advisor.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from sqlalchemy import Engine, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from advisor.config import AdvisorSettings
from advisor.models import LeadRow, WebhookDeliveryRow
from advisor.schemas import WebhookErasedLead, WebhookErasure, WebhookLead, WebhookPayload
from common.db import utc_now

logger = logging.getLogger(__name__)

ERASED_EVENT = "lead.erased"  # advisor.erasure.ERASED_EVENT
SIGNATURE_HEADER = "X-Vergemont-Signature"
TIMESTAMP_HEADER = "X-Vergemont-Timestamp"
EVENT_HEADER = "X-Vergemont-Event"
DELIVERY_HEADER = "X-Vergemont-Delivery"
# How far a signed timestamp may be from the receiver's clock, either way.
DEFAULT_TOLERANCE_S = 300
# Each retry waits up to this fraction less than the exponential delay, so that rows that failed
# together do not all come back at the same second.
DEFAULT_JITTER = 0.1
MAX_ERROR_CHARS = 500

Delivery = WebhookDeliveryRow


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `timestamp.body` with the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What the receiver does: the timestamp (Unix seconds) is within `tolerance_s` of its clock,
    either way, and the signature matches, compared in constant time. A captured request
    replayed later than the tolerance is refused."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def retry_delay(
    failures: int,
    backoff_s: float,
    max_backoff_s: float,
    jitter: float = 0.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds before the next attempt after `failures` failed ones: `backoff_s` doubled each
    time (1, 2, 4, 8… times), at most `max_backoff_s`, less up to `jitter` of it."""
    delay: float = min(max_backoff_s, backoff_s * 2.0 ** max(failures - 1, 0))
    return delay * (1 - jitter * rng())


def lead_payload(lead: LeadRow, event: str, delivery_id: int) -> dict[str, Any]:
    payload = WebhookPayload(event=event, delivery_id=delivery_id, lead=WebhookLead.of(lead))
    return payload.model_dump(mode="json")


def default_owner() -> str:
    """Who holds a lease, for the operator reading the table: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class RunReport:
    """What one pass over the outbox did."""

    delivered: int = 0
    # Failed attempts whose row is scheduled again, and rows given up (`failed`).
    retrying: int = 0
    failed: int = 0
    # Rows of erased leads, and rows whose lease was lost or that were cancelled meanwhile.
    cancelled: int = 0
    lost: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.ids)

    def add(self, other: RunReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.lost += other.lost
        self.ids += other.ids


@dataclass(frozen=True)
class Claim:
    """Rows leased by one claim, under its token."""

    token: str
    ids: list[int]


class WebhookSender:
    """The outbox worker: claims due rows under a lease, posts them, records each outcome."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        secret: str,
        attempts: int = 12,
        backoff_s: float = 10.0,
        timeout_s: float = 10.0,
        sleep: Callable[[float], object] | None = None,
        *,
        max_backoff_s: float = 3600.0,
        lease_s: float = 60.0,
        batch_size: int = 10,
        poll_s: float = 2.0,
        jitter: float = DEFAULT_JITTER,
        owner: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`sleep`: how `watch` waits between polls when nothing is due (default: on its stop
        event); `clock` gives the time of leases and schedules (tests move it)."""
        if not secret:
            raise ValueError("ADVISOR_WEBHOOK_SECRET is required when ADVISOR_WEBHOOK_URL is set")
        if lease_s <= timeout_s:
            raise ValueError("the webhook lease must outlast one POST (lease_s > timeout_s)")
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.jitter = jitter
        self.owner = (owner or default_owner())[:100]
        self.clock = clock
        self.engine = engine
        self._sleep = sleep
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._client = httpx.Client(timeout=timeout_s)
        # When the loop last showed signs of life (monotonic seconds), for `/health`.
        self.heartbeat = time.monotonic()

    @classmethod
    def from_settings(cls, engine: Engine, settings: AdvisorSettings) -> WebhookSender:
        return cls(
            engine,
            settings.webhook_url,
            settings.webhook_secret,
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
            max_backoff_s=settings.webhook_max_backoff_s,
            lease_s=settings.webhook_lease_s,
            batch_size=settings.webhook_batch_size,
            poll_s=settings.webhook_poll_s,
        )

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ claiming

    def claim(
        self,
        limit: int,
        after_id: int = 0,
        due_only: bool = True,
        among: ColumnElement[bool] | None = None,
    ) -> Claim:
        """Lease up to `limit` claimable rows (pending, lease free or expired, due unless
        `due_only` is off), in id order after `after_id`, in one short transaction."""
        now = self.clock()
        token = uuid.uuid4().hex
        conditions: list[ColumnElement[bool]] = [
            Delivery.status == "pending",
            or_(Delivery.leased_until.is_(None), Delivery.leased_until <= now),
            Delivery.id > after_id,
        ]
        if due_only:
            conditions.append(
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)
            )
        if among is not None:
            conditions.append(among)
        chosen = select(Delivery.id).where(*conditions).order_by(Delivery.id).limit(limit)
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Lock the chosen rows, skipping those another worker is claiming, then lease
                # them. (One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) may
                # run its subquery again for each row and lease more than n.)
                locked = list(connection.scalars(chosen.with_for_update(skip_locked=True)))
                if not locked:
                    return Claim(token, [])
                target = Delivery.id.in_(locked)
            else:
                # SQLite: one conditional UPDATE, under the database's write lock.
                target = Delivery.id.in_(chosen.scalar_subquery())
            connection.execute(
                update(Delivery)
                .where(target, *conditions)
                .values(
                    lease_token=token,
                    lease_owner=self.owner,
                    leased_until=now + timedelta(seconds=self.lease_s),
                )
                .execution_options(synchronize_session=False)
            )
            ids = list(
                connection.scalars(
                    select(Delivery.id).where(Delivery.lease_token == token).order_by(Delivery.id)
                )
            )
        self.heartbeat = time.monotonic()
        return Claim(token, ids)

    def _fenced(self, delivery_id: int, token: str) -> list[ColumnElement[bool]]:
        return [
            Delivery.id == delivery_id,
            Delivery.lease_token == token,
            Delivery.status == "pending",
        ]

    def _start_attempt(self, delivery_id: int, token: str) -> int | None:
        """Renew the lease for one POST and count the attempt: its number, None when the lease
        was lost (taken over after it expired) or the row cancelled."""
        now = self.clock()
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Delivery)
                .where(*self._fenced(delivery_id, token))
                .values(
                    attempts=Delivery.attempts + 1,
                    leased_until=now + timedelta(seconds=self.lease_s),
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            attempt = connection.scalar(select(Delivery.attempts).where(Delivery.id == delivery_id))
        self.heartbeat = time.monotonic()
        return int(attempt or 0)

    def _finish(self, delivery_id: int, token: str, **values: Any) -> bool:
        """Record an outcome and free the row, if this claim still holds it."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Delivery)
                .where(*self._fenced(delivery_id, token))
                .values(lease_token=None, lease_owner=None, leased_until=None, **values)
                .execution_options(synchronize_session=False)
            )
        return result.rowcount == 1

    def _release(self, ids: Sequence[int], token: str) -> None:
        """Give back rows claimed but not started (stopping): another worker takes them now."""
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.lease_token == token)
                .values(lease_token=None, lease_owner=None, leased_until=None)
                .execution_options(synchronize_session=False)
            )

    # ------------------------------------------------------------------ sending

    def _body(self, delivery_id: int) -> tuple[str, bytes] | None:
        """The event and signed body of a row; None when its lead was erased (or is gone)."""
        with self._sessions() as session:
            delivery = session.get(Delivery, delivery_id)
            lead = session.get(LeadRow, delivery.lead_id) if delivery is not None else None
            if delivery is None or lead is None:
                return None
            if delivery.event == ERASED_EVENT and lead.erased_at is not None:
                # A GDPR erasure notice (advisor/erasure.py): the reference only.
                payload: dict[str, Any] = WebhookErasure(
                    event=ERASED_EVENT,
                    delivery_id=delivery.id,
                    lead=WebhookErasedLead(reference=lead.reference, erased_at=lead.erased_at),
                ).model_dump(mode="json")
            elif lead.erased_at is not None:
                return None
            else:
                payload = lead_payload(lead, delivery.event, delivery.id)
            return delivery.event, json.dumps(payload, ensure_ascii=False).encode()

    def _post(self, delivery_id: int, event: str, body: bytes) -> str | None:
        """One signed POST: None when the receiver took it (2xx), else the error."""
        timestamp = str(int(self.clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            EVENT_HEADER: event,
            DELIVERY_HEADER: str(delivery_id),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            # The receiver's URL may carry a key: never stored nor logged.
            detail = str(exc).replace(self.url, "<url>")
            return f"{type(exc).__name__}: {detail}"[:MAX_ERROR_CHARS]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _send(self, delivery_id: int, token: str, report: RunReport) -> None:
        attempts = self._start_attempt(delivery_id, token)
        if attempts is None:
            report.lost += 1
            logger.info("webhook %s: taken over or cancelled meanwhile, not sent", delivery_id)
            return
        content = self._body(delivery_id)
        if content is None:
            if self._finish(delivery_id, token, status="cancelled", last_error="lead erased"):
                report.cancelled += 1
                logger.info("webhook %s cancelled: its lead was erased", delivery_id)
            else:
                report.lost += 1
            return
        event, body = content
        error = self._post(delivery_id, event, body)
        self.heartbeat = time.monotonic()
        if error is None:
            if self._finish(
                delivery_id, token, status="delivered", last_error=None, delivered_at=self.clock()
            ):
                report.delivered += 1
                logger.info("webhook %s delivered (%s)", delivery_id, event)
            else:
                # Sent, but the lease had been taken over: the receiver dedups on the id.
                report.lost += 1
                logger.warning("webhook %s sent after its lease was lost", delivery_id)
            return
        if attempts >= self.attempts:
            recorded = self._finish(delivery_id, token, status="failed", last_error=error)
            if recorded:
                report.failed += 1
            logger.warning(
                "webhook %s failed for good after %d attempts: %s", delivery_id, attempts, error
            )
        else:
            delay = retry_delay(attempts, self.backoff_s, self.max_backoff_s, self.jitter)
            recorded = self._finish(
                delivery_id,
                token,
                last_error=error,
                next_attempt_at=self.clock() + timedelta(seconds=delay),
            )
            if recorded:
                report.retrying += 1
            logger.warning(
                "webhook %s attempt %d failed (%s); next in %.0f s",
                delivery_id,
                attempts,
                error,
                delay,
            )
        if not recorded:
            report.lost += 1

    def deliver_claim(self, claim: Claim, stop: threading.Event | None = None) -> RunReport:
        """Send the rows of a claim in order; when `stop` is set, give back those not started."""
        report = RunReport(ids=list(claim.ids))
        for position, delivery_id in enumerate(claim.ids):
            if stop is not None and stop.is_set():
                self._release(claim.ids[position:], claim.token)
                break
            self._send(delivery_id, claim.token, report)
        return report

    # ------------------------------------------------------------------ passes

    def run_once(
        self,
        due_only: bool = True,
        among: ColumnElement[bool] | None = None,
        stop: threading.Event | None = None,
    ) -> RunReport:
        """One pass: claim batches of claimable rows in id order and send them, each row at most
        once in the pass."""
        total = RunReport()
        after_id = 0
        while stop is None or not stop.is_set():
            claim = self.claim(self.batch_size, after_id, due_only, among)
            if not claim.ids:
                break
            total.add(self.deliver_claim(claim, stop))
            after_id = claim.ids[-1]
        return total

    def watch(self, stop: threading.Event) -> RunReport:
        """Run passes until `stop` is set: the worker. A pass that found rows is followed by
        another at once, an empty one by a wait of `poll_s`; a database outage by a longer one
        (up to 30 s), without stopping."""
        total = RunReport()
        outage = 0
        logger.info(
            "webhook outbox worker %s started (poll %.1f s, lease %.0f s, batch %d)",
            self.owner,
            self.poll_s,
            self.lease_s,
            self.batch_size,
        )
        while not stop.is_set():
            self.heartbeat = time.monotonic()
            try:
                report = self.run_once(stop=stop)
            except DBAPIError as error:
                outage += 1
                logger.warning(
                    "webhook outbox: database unavailable (%s), retrying",
                    type(error.orig).__name__ if error.orig is not None else type(error).__name__,
                )
                self._wait(stop, min(30.0, self.poll_s * 2**outage))
                continue
            outage = 0
            total.add(report)
            if report.claimed == 0:
                self._wait(stop, self.poll_s)
        logger.info("webhook outbox worker %s stopped", self.owner)
        return total

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            stop.wait(seconds)

    # ------------------------------------------------------------------ one-off sends

    def deliver(self, delivery_id: int) -> bool:
        """Send one row now (one attempt, whatever its schedule) unless another worker holds
        it or it is no longer pending: whether it was delivered."""
        return self.run_once(due_only=False, among=Delivery.id == delivery_id).delivered == 1

    def deliver_for_lead(self, reference: str) -> int:
        """Send a lead's pending rows now (one attempt each): how many were delivered."""
        lead_id = select(LeadRow.id).where(LeadRow.reference == reference).scalar_subquery()
        return self.run_once(due_only=False, among=Delivery.lead_id == lead_id).delivered

    def deliver_pending(self, retry_failed: bool = False) -> tuple[int, int]:
        """The one-shot command: every pending row (and, with `retry_failed`, every failed one)
        tried once now: (delivered, not delivered)."""
        if retry_failed:
            self.requeue_failed()
        report = self.run_once(due_only=False)
        return report.delivered, report.retrying + report.failed

    def requeue_failed(self) -> int:
        """Failed rows become pending and due at once: each gets one more attempt (then fails
        again if the receiver still refuses it)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Delivery)
                .where(Delivery.status == "failed")
                .values(status="pending", next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)


# ---------------------------------------------------------------------- the worker's probes


class WorkerProbes:
    """`/health` (the loop showed signs of life lately) and `/ready` (the outbox's database
    answers) of a running worker, on a small HTTP server of its own thread. Without a sender
    (no webhook configured: the worker idles), `/health` only says the process answers."""

    def __init__(
        self, engine: Engine, host: str, port: int, sender: WebhookSender | None = None
    ) -> None:
        self.engine = engine
        self.sender = sender
        # One POST, the queries around it and a poll: beyond twice that, the loop is stuck.
        self.stale_after_s = 2 * (sender.timeout_s + sender.poll_s) + 30 if sender else 0.0
        probes = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = probes.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        if path == "/health":
            if self.sender is None:
                return 200, {"status": "ok", "webhook": "off"}
            idle = time.monotonic() - self.sender.heartbeat
            if idle > self.stale_after_s:
                return 503, {"status": "stuck", "idle_s": round(idle, 1)}
            return 200, {"status": "ok"}
        if path == "/ready":
            try:
                with self.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except Exception as error:  # any failure of the database is "not ready"
                return 503, {"status": "not_ready", "database": type(error).__name__}
            return 200, {"status": "ready"}
        return 404, {"status": "not_found"}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
