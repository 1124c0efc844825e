"""PostgreSQL tracker store and Redis lock store: conversations survive a Rasa restart."""

import threading
import uuid

import psycopg
import pytest
import redis

from tests.integration.conftest import RasaClient, stack_settings, start_servers
from tests.services import require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def tracker_database():
    require_service("PostgreSQL", 5432)
    name = f"tracker_{uuid.uuid4().hex[:10]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def redis_url():
    require_service("Redis", 6379)
    return "redis://127.0.0.1:6379/0"


class _RedisCommandLog:
    """Records the commands Redis receives (MONITOR) while a block runs."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self._stop = threading.Event()

    def __enter__(self) -> "_RedisCommandLog":
        self._monitor = self.client.monitor()
        self._monitor.__enter__()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()
        return self

    def _collect(self) -> None:
        for command in self._monitor.listen():
            self.commands.append(str(command["command"]))
            if self._stop.is_set():
                return

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self.client.ping()  # wakes the listener so it sees the stop flag
        self._thread.join(timeout=5)


def test_conversation_survives_restart_with_postgresql_and_redis(
    tmp_path, tracker_database, redis_url
):
    settings = stack_settings(
        tmp_path, tracker_store_url=tracker_database, lock_store_url=redis_url
    )
    supervisor = start_servers(settings)
    try:
        client = RasaClient(settings)
        with _RedisCommandLog(redis_url) as redis_log:
            client.say("customer-7", "Bonjour")
        assert any("vergemont" in command for command in redis_log.commands), (
            "the Rasa server did not take its conversation lock in Redis"
        )
    finally:
        supervisor.stop()

    restarted = start_servers(settings)
    try:
        client = RasaClient(settings)
        client.say("customer-7", "Quels produits proposez-vous ?")
        events = client.tracker("customer-7")["events"]
        user_texts = [event["text"] for event in events if event["event"] == "user"]
        assert user_texts == ["Bonjour", "Quels produits proposez-vous ?"]
    finally:
        restarted.stop()

    with psycopg.connect(tracker_database) as conn:
        stored = conn.execute("SELECT count(*) FROM events WHERE sender_id = 'rest:customer-7'")
        assert stored.fetchone()[0] > 0
