"""The action server's app (actions/serving.py) on a real Sanic server, warmed up by its own
listener with real adapters: the catalogue, an embedded knowledge base (a few chunks embedded by
the tests' hashing embedder) and an SQLite lead store; /ready, /metrics, request ids."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

import actions.serving as serving
from actions.adapters import get_services, install_services
from actions.settings import ActionServerSettings
from advisor.config import AdvisorSettings
from common.logging import RequestIdFilter, turn_request_id
from knowledge.interfaces import Chunk, StoredDocument
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.fakes import HashingEmbedder
from tests.services import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEST_EMBEDDER = "tests.knowledge.fakes:HashingEmbedder"
PASSAGES = [
    "Le délai de carence de l'assurance animaux est de 30 jours après la souscription.",
    "Les frais vétérinaires sont remboursés à 80 % dans la limite du plafond annuel.",
    "Le bris de glace est couvert par la formule confort de l'assurance habitation.",
]


def knowledge_store(directory: Path) -> Path:
    store = EmbeddedStore(directory)
    chunks = [Chunk(f"c{n}", "cg.pdf", n + 1, text) for n, text in enumerate(PASSAGES)]
    store.replace_document(
        StoredDocument("cg.pdf", "hash", chunk_count=len(chunks)),
        chunks,
        HashingEmbedder().embed_passages(PASSAGES),
    )
    store.close()
    return directory


def settings_for(tmp_path: Path, database_url: str, store: Path | None = None) -> Any:
    knowledge = KnowledgeSettings(
        store_dir=store or knowledge_store(tmp_path / "knowledge"),
        embedding_model=TEST_EMBEDDER,
        llm_model="",
    )
    return ActionServerSettings(
        advisor=AdvisorSettings(database_url=database_url), knowledge=knowledge
    )


@pytest.fixture(autouse=True)
def no_thread_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The warm-up sets torch's threads for the whole process: not in the test process.
    monkeypatch.setattr(serving, "limit_torch_threads", lambda threads: None)
    yield
    install_services(None)


@asynccontextmanager
async def action_server(settings: ActionServerSettings) -> AsyncIterator[str]:
    """`create_app` served on a free port, its listeners (the warm-up) run as Sanic runs them."""
    Sanic.test_mode = True  # several apps named "rasa_sdk" in one process
    executor = ActionExecutor()
    executor.register_package("actions")
    app = serving.create_app(executor, settings)
    app.config.MOTD = False
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
        Sanic._app_registry.pop(app.name, None)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def action_call(action: str, text: str, sender: str, message_id: str | None) -> dict[str, Any]:
    latest = {
        "text": text,
        "intent": {"name": "ask_product_question", "confidence": 0.9},
        "entities": [],
        "message_id": message_id,
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"product": None},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class TestReadiness:
    def test_ready_when_catalogue_knowledge_base_and_lead_store_answer(
        self, tmp_path: Path
    ) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")

        async def scenario() -> tuple[httpx.Response, httpx.Response]:
            async with action_server(settings) as url, httpx.AsyncClient() as client:
                return await client.get(url + "/ready"), await client.get(url + "/health")

        ready, health = run(scenario())
        body = ready.json()
        assert ready.status_code == 200, body
        assert body["status"] == "ready"
        assert set(body["checks"]) == {
            "catalogue",
            "knowledge_store",
            "embedding_model",
            "lead_database",
        }
        assert health.json() == {"status": "ok"}

    def test_an_unreachable_lead_database_is_degraded_and_unready_when_strict(
        self, tmp_path: Path
    ) -> None:
        # A PostgreSQL port where nothing listens: the engine opens, its connections fail.
        url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/leads"
        lenient = settings_for(tmp_path, url)
        strict = settings_for(tmp_path, url, store=lenient.knowledge.store_dir)
        strict.readiness_strict = True

        async def scenario(settings: ActionServerSettings) -> httpx.Response:
            async with action_server(settings) as base, httpx.AsyncClient() as client:
                return await client.get(base + "/ready")

        degraded, refused = run(scenario(lenient)), run(scenario(strict))
        assert degraded.status_code == 200
        assert degraded.json()["status"] == "degraded"
        assert refused.status_code == 503
        body = refused.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["lead_database"]["ok"] is False
        assert "nobody" not in json.dumps(body), "no connection URL in the answer"
        assert body["checks"]["knowledge_store"]["ok"] is True

    def test_a_knowledge_base_that_did_not_start_makes_the_server_unready(
        self, tmp_path: Path
    ) -> None:
        empty = tmp_path / "empty"
        EmbeddedStore(empty).warm_up()  # a store database with no chunk: the start-up gives up
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}", store=empty)

        async def scenario() -> httpx.Response:
            async with action_server(settings) as base, httpx.AsyncClient() as client:
                return await client.get(base + "/ready")

        ready = run(scenario())
        body = ready.json()
        assert ready.status_code == 503
        assert body["checks"]["embedding_model"] == {
            "ok": False,
            "reason": "the knowledge base did not start (see the start-up log)",
            "required": True,
            "duration_ms": body["checks"]["embedding_model"]["duration_ms"],
        }
        assert body["checks"]["catalogue"]["ok"] is True

    def test_a_store_emptied_after_start_up_is_degraded_not_unready(self, tmp_path: Path) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")

        async def scenario() -> tuple[httpx.Response, httpx.Response]:
            async with action_server(settings) as base, httpx.AsyncClient() as client:
                before = await client.get(base + "/ready")
                # The shared store loses its data (a wiped volume, a Weaviate restored empty).
                answerer = get_services().knowledge.answerer
                store = answerer.retriever.store  # type: ignore[union-attr]
                store.close()
                shutil.rmtree(settings.knowledge.store_dir)
                return before, await client.get(base + "/ready")

        before, after = run(scenario())
        assert before.json()["status"] == "ready"
        body = after.json()
        assert after.status_code == 200, "every replica shares the store: stay in service"
        assert body["status"] == "degraded"
        assert body["checks"]["knowledge_store"]["reason"] == "the knowledge base store is empty"
        assert body["checks"]["knowledge_store"]["required"] is False

    def test_an_llm_is_reported_without_being_required(self, tmp_path: Path) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")
        settings.knowledge.llm_model = "/models/absent.gguf"
        checks = serving.readiness_checks(settings)
        assert [(check.name, check.required) for check in checks][-1] == ("llm", False)


class TestWebhookObservation:
    def test_an_action_call_is_counted_timed_and_logged_under_the_turns_id(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")
        sender, message_id = "whatsapp:+33612345678", uuid.uuid4().hex
        call = action_call(
            "action_answer_question",
            "Quel est le délai de carence de l'assurance animaux ?",
            sender,
            message_id,
        )
        labels = {"action": "action_answer_question", "outcome": "ok"}
        before = sample("vergemont_actions_total", labels)
        durations_before = sample(
            "vergemont_action_duration_seconds_count", {"action": "action_answer_question"}
        )
        answers_before = sum(
            sample("vergemont_answers_total", {"mode": mode})
            for mode in ("extractive", "refusal", "generative", "unavailable")
        )
        caplog.set_level(logging.DEBUG, logger="rasa_sdk.executor")
        caplog.handler.addFilter(RequestIdFilter("actions"))

        async def scenario() -> tuple[httpx.Response, httpx.Response]:
            async with action_server(settings) as url, httpx.AsyncClient() as client:
                reply = await client.post(url + "/webhook", json=call)
                return reply, await client.get(url + "/metrics")

        reply, scraped = run(scenario())
        assert reply.status_code == 200, reply.text
        expected_id = turn_request_id(sender, message_id)
        assert reply.headers["X-Request-ID"] == expected_id
        assert sample("vergemont_actions_total", labels) == before + 1
        assert (
            sample("vergemont_action_duration_seconds_count", {"action": "action_answer_question"})
            == durations_before + 1
        )
        answers_after = sum(
            sample("vergemont_answers_total", {"mode": mode})
            for mode in ("extractive", "refusal", "generative", "unavailable")
        )
        assert answers_after == answers_before + 1
        executor_records = [
            r
            for r in caplog.records
            if r.name == "rasa_sdk.executor"
            and ("request to run" in r.getMessage() or "Finished running" in r.getMessage())
        ]
        assert len(executor_records) == 2, "the executor logs each call's start and end (DEBUG)"
        assert {getattr(r, "request_id", None) for r in executor_records} == {expected_id}
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        assert 'vergemont_actions_total{action="action_answer_question",outcome="ok"}' in (
            scraped.text
        )

    def test_an_unknown_action_is_counted_under_one_label(self, tmp_path: Path) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")
        labels = {"action": "unknown", "outcome": "not_found"}
        before = sample("vergemont_actions_total", labels)

        async def scenario() -> httpx.Response:
            async with action_server(settings) as url, httpx.AsyncClient() as client:
                return await client.post(
                    url + "/webhook", json=action_call("action_" + "x" * 40, "a", "s", None)
                )

        reply = run(scenario())
        assert reply.status_code == 404
        assert sample("vergemont_actions_total", labels) == before + 1
        assert reply.headers["X-Request-ID"].startswith(turn_request_id("s", "m")[:11])

    def test_requests_are_counted_per_route(self, tmp_path: Path) -> None:
        settings = settings_for(tmp_path, f"sqlite:///{tmp_path / 'leads.db'}")
        labels = {"service": "actions", "method": "GET", "endpoint": "/health", "status": "200"}
        before = sample("vergemont_http_requests_total", labels)

        async def scenario() -> None:
            async with action_server(settings) as url, httpx.AsyncClient() as client:
                for _ in range(3):
                    await client.get(url + "/health")

        run(scenario())
        assert sample("vergemont_http_requests_total", labels) == before + 3


class TestRequestIds:
    def test_the_id_comes_from_the_latest_message_and_a_hash_of_the_sender(self) -> None:
        call = action_call("action_hand_off", "oui", "+33612345678", "abc123")
        request_id = serving.webhook_request_id(call)
        assert request_id == turn_request_id("+33612345678", "abc123")
        assert "33612345678" not in request_id
        assert request_id.endswith("-abc123")

    def test_a_call_without_a_message_id_gets_a_fresh_suffix(self) -> None:
        call = action_call("action_hand_off", "oui", "s", None)
        first, second = serving.webhook_request_id(call), serving.webhook_request_id(call)
        assert first != second
        assert first.split("-")[0] == second.split("-")[0]

    def test_a_body_that_is_not_an_action_call_gets_a_random_id(self) -> None:
        assert len(serving.webhook_request_id(None)) == 32


@pytest.mark.slow
class TestSeveralWorkers:
    def test_metrics_add_up_every_workers_calls_and_logs_are_json_lines(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        environment = {
            **os.environ,
            "ACTION_SERVER_HOST": "127.0.0.1",
            "ACTION_SERVER_PORT": str(port),
            "ACTION_SERVER_WORKERS": "2",
            "LOG_FORMAT": "json",
            "ADVISOR_DATABASE_URL": f"sqlite:///{tmp_path / 'leads.db'}",
            "KNOWLEDGE_STORE_DIR": str(knowledge_store(tmp_path / "knowledge")),
            "KNOWLEDGE_EMBEDDING_MODEL": TEST_EMBEDDER,
            "KNOWLEDGE_LLM_MODEL": "",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        }
        (tmp_path / "metrics").mkdir()
        (tmp_path / "metrics" / "counter_999999.db").write_bytes(b"a previous run's file")
        stderr = tmp_path / "stderr.log"
        base = f"http://127.0.0.1:{port}"
        calls = 24
        with stderr.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "actions"],
                cwd=ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_until_ready(base, server, stderr, workers=2)
                with httpx.Client(timeout=30) as client:
                    for number in range(calls):
                        # A fresh connection each time: the kernel spreads them over the workers.
                        reply = client.post(
                            base + "/webhook",
                            json=action_call(
                                "action_list_product_categories", "x", f"s{number}", "m"
                            ),
                            headers={"Connection": "close"},
                        )
                        assert reply.status_code == 200, reply.text
                    scrapes = [
                        client.get(base + "/metrics", headers={"Connection": "close"}).text
                        for _ in range(4)
                    ]
            finally:
                stop(server)
        assert not (tmp_path / "metrics" / "counter_999999.db").exists(), "emptied at start"
        needle = 'vergemont_actions_total{action="action_list_product_categories",outcome="ok"}'
        for text in scrapes:
            [line] = [line for line in text.splitlines() if line.startswith(needle)]
            assert float(line.split()[-1]) == calls
        lines = [line for line in stderr.read_text().splitlines() if line.strip()]
        assert lines
        records = [json.loads(line) for line in lines]  # each line is one JSON object
        assert {record["service"] for record in records} == {"actions"}
        assert {"time", "level", "logger", "message", "request_id"} <= set(records[0])


def wait_until_ready(
    base: str, server: subprocess.Popen[bytes], log: Path, workers: int, timeout_s: float = 180
) -> None:
    """Every worker has said it is ready (a stop while one still warms up can hang Sanic's
    worker manager), and /ready answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "the action server exited"
        started = log.read_text().count('"message": "Worker ready')
        try:
            if started >= workers and httpx.get(base + "/ready", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError("the action server was not ready in time")


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM as an orchestrator sends it; then whatever is left of the process group (the
    workers, multiprocessing's helpers) is killed, so that a test never leaves a server behind."""
    server.terminate()
    try:
        server.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
