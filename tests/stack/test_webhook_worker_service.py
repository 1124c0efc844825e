"""`make run` starts the CRM webhook's outbox worker beside the servers when a webhook URL is set,
on the stack's lead store, and it sends what the handoffs left in the outbox."""

from pathlib import Path

import pytest
from sqlalchemy import select

from advisor.config import AdvisorSettings
from advisor.database import ensure_schema, open_engine
from advisor.models import WebhookDeliveryRow
from advisor.service import SqlHandoffService
from stack.services import all_services
from stack.supervisor import Supervisor
from tests.advisor.factories import handoff_request
from tests.advisor.test_webhook import SECRET, Receiver
from tests.integration.conftest import stack_settings
from tests.services import free_port

pytestmark = pytest.mark.unit


def advisor_settings(**values: object) -> AdvisorSettings:
    return AdvisorSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_the_worker_runs_only_when_a_webhook_url_is_set(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    names = [service.name for service in all_services(settings, advisor=advisor_settings())]
    assert names == ["action server", "Rasa server", "web app"]
    configured = advisor_settings(webhook_url="https://crm.exemple.fr/leads", webhook_secret="s")
    *_, worker = all_services(settings, advisor=configured)
    assert worker.name == "webhook worker"
    assert worker.env["ADVISOR_DATABASE_URL"] == settings.advisor_database_url
    assert "crm.exemple.fr" not in worker.url  # the console shows its probe, not the CRM


def test_the_stack_s_worker_sends_the_outbox(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    database_url = f"sqlite:///{tmp_path / 'advisor.db'}"
    engine = open_engine(database_url)
    ensure_schema(engine)
    SqlHandoffService(engine).hand_off(handoff_request())
    monkeypatch.setenv("ADVISOR_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("ADVISOR_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ADVISOR_WEBHOOK_POLL_S", "0.2")
    settings = stack_settings(tmp_path, advisor_database_url=database_url)
    advisor = advisor_settings(
        webhook_url=receiver.url, webhook_secret=SECRET, webhook_worker_port=free_port()
    )
    *_, worker = all_services(settings, advisor=advisor)
    try:
        with Supervisor([worker], tmp_path / "logs", startup_timeout_s=60):
            receiver.received.wait(30)
        with engine.connect() as connection:
            assert connection.scalars(select(WebhookDeliveryRow.status)).all() == ["delivered"]
        assert len(receiver.calls) == 1
    finally:
        engine.dispose()
        receiver.server.shutdown()
        receiver.server.server_close()
