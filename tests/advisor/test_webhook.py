"""The CRM webhook: signed with HMAC-SHA256, retried with backoff, against a real local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from advisor.models import WebhookDeliveryRow
from advisor.service import SqlHandoffService
from advisor.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify
from tests.advisor.factories import handoff_request

SECRET = "secret-partage-avec-le-crm"


class Receiver:
    """A CRM stand-in: fails the first `failures` calls with 503, then answers 204."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                self.send_response(503 if len(receiver.calls) <= receiver.failures else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/crm/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver_factory() -> Iterator[type[Receiver]]:
    started: list[Receiver] = []

    def make(failures: int = 0) -> Receiver:
        receiver = Receiver(failures)
        started.append(receiver)
        return receiver

    yield make  # type: ignore[misc]
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


def delivery_status(engine) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            select(WebhookDeliveryRow.status, WebhookDeliveryRow.attempts)
        ).one()
    return row[0], row[1]


class TestWebhook:
    def test_a_new_qualified_lead_is_posted_signed_after_retries(self, engine, receiver_factory):
        receiver = receiver_factory(failures=2)
        delays: list[float] = []
        sender = WebhookSender(
            engine, receiver.url, SECRET, attempts=4, backoff_s=0.5, sleep=delays.append
        )
        service = SqlHandoffService(engine)
        receipt = service.hand_off(handoff_request())

        assert sender.deliver_for_lead(receipt.lead_reference) == 1
        assert len(receiver.calls) == 3
        assert delays == [0.5, 1.0]
        headers, body = receiver.calls[-1]
        assert verify(SECRET, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(
            "autre-secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER]
        )
        payload = json.loads(body)
        assert payload["event"] == "lead.qualified"
        assert payload["lead"]["reference"] == receipt.lead_reference
        assert payload["lead"]["contact"]["phone"] == "+33612345678"
        assert payload["lead"]["recommendations"][0]["code"] == "VG-AUTO"
        assert delivery_status(engine) == ("delivered", 3)

    def test_a_crm_that_stays_down_leaves_the_event_failed_for_a_later_retry(
        self, engine, receiver_factory
    ):
        receiver = receiver_factory(failures=100)
        sender = WebhookSender(engine, receiver.url, SECRET, attempts=3, sleep=lambda _: None)
        SqlHandoffService(engine).hand_off(handoff_request())
        assert sender.deliver_pending() == (0, 1)
        assert delivery_status(engine) == ("failed", 3)

        receiver.failures = 0
        assert sender.deliver_pending() == (0, 0)  # failed events wait for --retry-failed
        assert sender.deliver_pending(retry_failed=True) == (1, 0)
        assert delivery_status(engine)[0] == "delivered"

    def test_the_handoff_service_sends_in_the_background(self, engine, receiver_factory):
        receiver = receiver_factory()
        sender = WebhookSender(engine, receiver.url, SECRET, sleep=lambda _: None)
        done = threading.Event()

        def notify(receipt) -> None:
            sender.deliver_for_lead(receipt.lead_reference)
            done.set()

        SqlHandoffService(engine, on_created=notify).hand_off(handoff_request())
        assert done.wait(10)
        assert len(receiver.calls) == 1

    def test_a_cold_lead_is_not_announced(self, engine):
        SqlHandoffService(engine).hand_off(
            handoff_request(profile={}, recommendations=[], reason="misunderstanding")
        )
        with engine.connect() as connection:
            assert connection.execute(select(WebhookDeliveryRow)).first() is None

    def test_a_secret_is_required(self, engine):
        with pytest.raises(ValueError, match="ADVISOR_WEBHOOK_SECRET"):
            WebhookSender(engine, "http://127.0.0.1:1/", "")
