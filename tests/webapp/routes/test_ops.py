"""The web app's operations endpoints and request observation (webapp/api/routes/ops.py), on the
real app with a migrated lead store (SQLite, and PostgreSQL where it runs)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from advisor.database import open_engine
from common.logging import request_id_var
from tests.advisor.conftest import database_url  # noqa: F401  (fixture)
from tests.services import free_port
from webapp.core.config import WebAppSettings
from webapp.main import create_app


def settings(url: str) -> WebAppSettings:
    return WebAppSettings(_env_file=None, environment="test", advisor_database_url=url)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(create_app(settings(database_url))) as test_client:
        yield test_client


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestReadiness:
    def test_ready_once_the_catalogue_and_the_database_answer(self, client: TestClient) -> None:
        reply = client.get("/ready")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["service"] == "webapp"
        assert body["status"] == "ready"
        assert {name: check["ok"] for name, check in body["checks"].items()} == {
            "catalogue": True,
            "database": True,
        }

    @pytest.mark.unit
    def test_not_ready_before_start_up(self, sqlite_url: str) -> None:
        # Without the context manager the lifespan never runs: nothing is loaded or opened.
        reply = TestClient(create_app(settings(sqlite_url))).get("/ready")
        assert reply.status_code == 503
        assert reply.json()["checks"]["database"]["reason"].startswith("the database is not")

    @pytest.mark.integration
    def test_a_database_that_stops_answering_is_degraded_or_unready_when_strict(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        advisor = client.app.state.advisor  # type: ignore[attr-defined]
        # The same driver on a port where no PostgreSQL listens: a real connection failure.
        advisor.engine = open_engine(f"postgresql+psycopg://app@127.0.0.1:{free_port()}/leads")
        reply = client.get("/ready")
        assert reply.status_code == 200, "the public pages still work without the database"
        assert reply.json()["status"] == "degraded"
        database = reply.json()["checks"]["database"]
        assert database["ok"] is False
        assert database["reason"] == "OperationalError"
        monkeypatch.setenv("READINESS_STRICT", "true")
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200, "liveness does not check the database"

    @pytest.mark.unit
    def test_the_public_proxy_never_shows_readiness_or_metrics(self, sqlite_url: str) -> None:
        with TestClient(create_app(settings(sqlite_url))) as client:
            forwarded = {"X-Forwarded-For": "203.0.113.7"}
            assert client.get("/ready", headers=forwarded).status_code == 404
            assert client.get("/metrics", headers=forwarded).status_code == 404
            assert client.get("/metrics").status_code == 200


@pytest.mark.unit
class TestRequestObservation:
    @pytest.fixture
    def app_client(self, sqlite_url: str) -> Iterator[TestClient]:
        app = create_app(settings(sqlite_url))
        probe = APIRouter()

        @probe.get("/test-probe/{name}")
        def echo(name: str) -> dict[str, str | None]:
            logging.getLogger("tests.webapp.probe").warning("probe %s", name)
            return {"request_id": request_id_var.get()}

        app.include_router(probe)
        with TestClient(app) as test_client:
            yield test_client

    def test_a_plain_request_id_is_kept_and_echoed(self, app_client: TestClient) -> None:
        reply = app_client.get("/test-probe/a", headers={"X-Request-ID": "abc-123"})
        assert reply.headers["x-request-id"] == "abc-123"
        assert reply.json() == {"request_id": "abc-123"}

    def test_a_missing_or_unsafe_request_id_is_replaced(self, app_client: TestClient) -> None:
        made = app_client.get("/test-probe/a")
        unsafe = app_client.get("/test-probe/a", headers={"X-Request-ID": "a b<script>" + "x" * 80})
        for reply in (made, unsafe):
            request_id = reply.headers["x-request-id"]
            assert len(request_id) == 32
            assert reply.json() == {"request_id": request_id}
        assert made.headers["x-request-id"] != unsafe.headers["x-request-id"]

    def test_log_records_of_a_request_carry_its_id(
        self, app_client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        from common.logging import RequestIdFilter

        caplog.handler.addFilter(RequestIdFilter("webapp"))
        app_client.get("/test-probe/b", headers={"X-Request-ID": "turn-42"})
        [record] = [r for r in caplog.records if r.name == "tests.webapp.probe"]
        assert record.request_id == "turn-42"  # type: ignore[attr-defined]

    def test_requests_are_counted_and_timed_per_route_template(
        self, app_client: TestClient
    ) -> None:
        route = "/test-probe/{name}"
        counted = {"service": "webapp", "method": "GET", "endpoint": route, "status": "200"}
        timed = {"service": "webapp", "method": "GET", "endpoint": route}
        before = sample("vergemont_http_requests_total", counted)
        timed_before = sample("vergemont_http_request_duration_seconds_count", timed)
        for name in ("x", "y", "z"):
            app_client.get(f"/test-probe/{name}")
        unmatched = {"service": "webapp", "method": "GET", "endpoint": "unmatched", "status": "404"}
        missing_before = sample("vergemont_http_requests_total", unmatched)
        app_client.get("/no/such/page/0612345678")
        assert sample("vergemont_http_requests_total", counted) == before + 3
        assert sample("vergemont_http_request_duration_seconds_count", timed) == timed_before + 3
        assert sample("vergemont_http_requests_total", unmatched) == missing_before + 1
        scraped = app_client.get("/metrics").text
        assert 'endpoint="/test-probe/{name}"' in scraped
        assert "0612345678" not in scraped, "raw paths never become labels"
