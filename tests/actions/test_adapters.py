"""`build_advisor`: the action server's lead store honours its ADVISOR_* settings."""

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from actions.adapters import build_advisor
from advisor.config import AdvisorSettings
from advisor.webhook import WebhookSender
from tests.actions.test_handoff_store import hand_off

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[tuple[str, "queue.Queue[dict[str, object]]"]]:
    """A CRM on loopback that records the JSON bodies posted to it."""
    received: queue.Queue[dict[str, object]] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/leads", received
    server.shutdown()
    server.server_close()


class TestBuildAdvisor:
    def test_a_new_lead_reaches_the_webhook_of_the_settings_through_the_outbox(
        self, services, tmp_path, receiver
    ):
        url, received = receiver
        settings = AdvisorSettings(
            database_url=f"sqlite:///{tmp_path / 'advisor.db'}",
            webhook_url=url,
            webhook_secret="s" * 32,
            webhook_backoff_s=0.1,
        )
        services.advisor = build_advisor(settings)
        events, _ = hand_off("adapter-conversation-1")
        [event] = events
        # The handoff only writes the outbox; the outbox worker sends (advisor/webhook.py).
        with pytest.raises(queue.Empty):
            received.get(timeout=0.5)
        worker = WebhookSender.from_settings(services.advisor.engine, settings)
        assert worker.run_once().delivered == 1
        payload = received.get(timeout=20)
        assert event["value"] in json.dumps(payload)

    def test_without_a_webhook_url_nothing_is_sent(self, services, tmp_path, receiver):
        _, received = receiver
        settings = AdvisorSettings(database_url=f"sqlite:///{tmp_path / 'advisor.db'}")
        services.advisor = build_advisor(settings)
        events, _ = hand_off("adapter-conversation-2")
        assert events
        with pytest.raises(queue.Empty):
            received.get(timeout=2)
