"""The Rasa server's operations channel (channels/ops.py) on a real Sanic server, mounted with
Rasa's own `register`, with a real Rasa agent over a real SQLite tracker store and a real Redis
lock store (127.0.0.1:6379) or an unreachable one. Only the trained model is stood in for: the
agent's processor is set to a placeholder, which is all `Agent.is_ready` looks at."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("rasa") is None:  # the app environment: `make rasa-env-test` runs it
    pytest.skip("needs Rasa (.venv-rasa)", allow_module_level=True)

import aiohttp
from prometheus_client import REGISTRY
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage, register
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sanic import Sanic

from bot.lock_store import FallbackLockStore
from channels.ops import OpsInput
from common.logging import (
    JsonFormatter,
    RequestIdFilter,
    request_id_var,
    sender_hash,
    turn_request_id,
)
from tests.channels.sanic_server import free_port, serving_app
from tests.services import require_service

pytestmark = pytest.mark.integration


class RecordingAgent(Agent):  # type: ignore[misc]
    """A real agent whose message handling answers "ok" (or fails on "boom") and records the
    request id each message was handled under."""

    seen: list[str | None]

    async def handle_message(self, message: UserMessage) -> Any:
        self.seen.append(request_id_var.get())
        logging.getLogger("tests.ops").info("handling a message")
        if message.text == "boom":
            raise RuntimeError("the model failed")
        await message.output_channel.send_text_message(message.sender_id, "ok")
        return None


def agent(tmp_path: Path, lock_store: LockStore, loaded: bool = True) -> RecordingAgent:
    tracker_store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "trackers.db"))
    result = RecordingAgent(tracker_store=tracker_store, lock_store=lock_store)
    result.seen = []
    if loaded:
        result.processor = object()  # the trained model's stand-in (see the module docstring)
    return result


@asynccontextmanager
async def rasa_server(rasa_agent: Agent) -> AsyncIterator[str]:
    """The channels mounted as `rasa run` mounts them, the agent set as its start-up sets it."""
    Sanic.test_mode = True
    app = Sanic(f"ops_test_{uuid.uuid4().hex[:8]}")
    register([OpsInput(), RestInput()], app, "/webhooks/")
    app.ctx.agent = rasa_agent
    async with serving_app(app) as url:
        yield url


def synchronous(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test on its own event loop (as the other channel tests do)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))  # type: ignore[arg-type]

    return run


async def get(url: str, **kwargs: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as reply:
        return reply.status, await reply.text()


def redis_lock_store() -> RedisLockStore:
    require_service("Redis", 6379)
    return RedisLockStore(host="127.0.0.1", port=6379, db=3)


class TestReadiness:
    @synchronous
    async def test_ready_when_the_model_and_both_stores_answer(self, tmp_path: Path) -> None:
        async with rasa_server(agent(tmp_path, redis_lock_store())) as url:
            status, text = await get(url + "/webhooks/ops/ready")
        body = json.loads(text)
        assert status == 200, body
        assert body["status"] == "ready"
        assert set(body["checks"]) == {"model", "tracker_store", "lock_store"}
        assert all(check["ok"] for check in body["checks"].values())

    @synchronous
    async def test_an_unreachable_redis_leaves_the_server_in_service_degraded(
        self, tmp_path: Path
    ) -> None:
        # The lock store of endpoints.yml locks in the process meanwhile (bot/lock_store.py).
        unreachable = FallbackLockStore(host="127.0.0.1", port=free_port(), db=0)
        async with rasa_server(agent(tmp_path, unreachable)) as url:
            status, text = await get(url + "/webhooks/ops/ready")
        body = json.loads(text)
        assert status == 200
        assert body["status"] == "degraded"
        assert body["checks"]["lock_store"]["ok"] is False
        assert body["checks"]["lock_store"]["reason"] == "ConnectionError"
        assert body["checks"]["tracker_store"]["ok"] is True

    @synchronous
    async def test_no_model_loaded_is_not_ready(self, tmp_path: Path) -> None:
        async with rasa_server(agent(tmp_path, InMemoryLockStore(), loaded=False)) as url:
            status, text = await get(url + "/webhooks/ops/ready")
        assert status == 503
        assert json.loads(text)["checks"]["model"] == {
            "ok": False,
            "reason": "no model loaded",
            "required": True,
            "duration_ms": json.loads(text)["checks"]["model"]["duration_ms"],
        }

    @synchronous
    async def test_a_request_through_the_public_proxy_gets_a_404(self, tmp_path: Path) -> None:
        headers = {"X-Forwarded-For": "203.0.113.7"}
        async with rasa_server(agent(tmp_path, InMemoryLockStore())) as url:
            ready, _ = await get(url + "/webhooks/ops/ready", headers=headers)
            scraped, _ = await get(url + "/webhooks/ops/metrics", headers=headers)
        assert (ready, scraped) == (404, 404)


class TestTurns:
    @synchronous
    async def test_turns_are_counted_per_channel_and_outcome(self, tmp_path: Path) -> None:
        def value(outcome: str) -> float:
            labels = {"channel": "rest", "outcome": outcome}
            return REGISTRY.get_sample_value("vergemont_turns_total", labels) or 0.0

        ok_before, error_before = value("ok"), value("error")
        async with rasa_server(agent(tmp_path, InMemoryLockStore())) as url:
            async with aiohttp.ClientSession() as session:
                for text in ("bonjour", "boom", "merci"):
                    async with session.post(
                        url + "/webhooks/rest/webhook", json={"sender": "s1", "message": text}
                    ) as reply:
                        await reply.read()
            status, scraped = await get(url + "/webhooks/ops/metrics")
        assert (value("ok") - ok_before, value("error") - error_before) == (2.0, 1.0)
        assert status == 200
        assert 'vergemont_turns_total{channel="rest",outcome="ok"}' in scraped
        assert "vergemont_turn_duration_seconds_bucket" in scraped

    @synchronous
    async def test_each_turn_logs_under_the_id_the_action_server_derives(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        rasa_agent = agent(tmp_path, InMemoryLockStore())
        caplog.set_level(logging.INFO, logger="tests.ops")
        caplog.handler.addFilter(RequestIdFilter("rasa"))
        phone = "whatsapp:+33612345678"
        async with rasa_server(rasa_agent) as url, aiohttp.ClientSession() as session:
            reply = await session.post(
                url + "/webhooks/rest/webhook", json={"sender": phone, "message": "bonjour"}
            )
            await reply.read()
        [request_id] = rasa_agent.seen
        assert request_id is not None
        # RestInput gives each message a fresh id; the first part is the sender's keyed tag.
        assert request_id.startswith(sender_hash(phone) + "-")
        assert request_id == turn_request_id(phone, request_id.split("-", 1)[1])
        records = [r for r in caplog.records if r.name == "tests.ops"]
        assert [getattr(r, "request_id", None) for r in records] == [request_id]
        line = JsonFormatter("rasa").format(records[0])
        assert "+33612345678" not in line
        assert json.loads(line)["request_id"] == request_id
