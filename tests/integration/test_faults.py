"""Fault suite (issue 18): the real servers with one dependency taken away, as a person or an
operator would notice it.

- The action server stopped in the middle of a conversation: the person gets the French apology
  (channels/base.py `TECHNICAL_PROBLEM`), and once it is back the conversation goes on from where
  it was.
- The knowledge base unusable (its store file corrupt): a product question gets the "unavailable"
  answer, which points to an advisor, never an apology or silence.
- PostgreSQL unreachable for the web app (its database URL on a closed port): the app starts,
  `/health` answers, `/ready` names the database as failing without quoting its URL, the public
  pages still answer, and a request that needs the database does not bring the app down.
- PostgreSQL lost while the web app runs (its connections go through a TCP relay the test cuts):
  a rating is refused with a 503 in French meanwhile, and once the database is back `/ready`
  says "ready" again and ratings are stored.

The Rasa server and the action server run under separate supervisors so that the action server
alone can be stopped and started again; both start at once to keep the suite short.
"""

import contextlib
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from common.rasa_api import auth_headers, rest_conversation_id, rest_headers, tracker_url
from common.startup import StartupError
from stack.services import action_service, rasa_service, webapp_service
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service, Supervisor
from tests.integration.conftest import stack_settings
from tests.services import free_port, require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_found = re.search(
    r'TECHNICAL_PROBLEM = \(\s*"([^"]+)"',
    (PROJECT_ROOT / "channels" / "base.py").read_text(encoding="utf-8"),
)
assert _found is not None, "channels/base.py no longer defines TECHNICAL_PROBLEM"
TECHNICAL_PROBLEM = _found.group(1)
START_TIMEOUT_S = 240
PASSWORD = "fault-suite-db-password"


@dataclass
class Chat:
    """The REST channel and the trackers of the running Rasa server."""

    settings: StackSettings

    @property
    def base(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.base}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=rest_headers(self.settings.rasa_rest_token),
            timeout=90,
        )
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()
        return replies

    def slots(self, sender: str) -> dict[str, Any]:
        conversation = rest_conversation_id(sender)
        response = httpx.get(
            tracker_url(self.base, conversation),
            headers=auth_headers(self.settings.rasa_jwt_secret, conversation),
            timeout=30,
        )
        response.raise_for_status()
        slots: dict[str, Any] = response.json()["slots"]
        return slots


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


class ActionServer:
    """The action server under a supervisor of its own, to be stopped and started again."""

    def __init__(self, settings: StackSettings, run_dir: Path) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.starts = 0
        self.supervisor: Supervisor | None = None

    def start(self, **env: str) -> None:
        service: Service = action_service(self.settings)
        service.env.update(env)
        self.starts += 1
        supervisor = Supervisor(
            [service], self.run_dir / f"logs-actions-{self.starts}", START_TIMEOUT_S
        )
        supervisor.start()
        self.supervisor = supervisor

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None


@dataclass
class Stack:
    chat: Chat
    actions: ActionServer
    run_dir: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("fault-stack")
    settings = stack_settings(
        run_dir,
        advisor_database_url=f"sqlite:///{run_dir / 'advisor.db'}",
        knowledge_llm_model="",
    )
    rasa = Supervisor([rasa_service(settings)], run_dir / "logs-rasa", START_TIMEOUT_S)
    actions = ActionServer(settings, run_dir)
    # Both at once: each start is tens of seconds of model loading.
    failures: list[BaseException] = []

    def start_actions() -> None:
        try:
            actions.start()
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    starting = threading.Thread(target=start_actions)
    starting.start()
    try:
        rasa.start()
    finally:
        starting.join()
    try:
        if failures:
            raise failures[0]
        yield Stack(Chat(settings), actions, run_dir)
    finally:
        actions.stop()
        rasa.stop()


def test_a_stopped_action_server_gets_an_apology_then_the_conversation_resumes(
    stack: Stack,
) -> None:
    chat, sender = stack.chat, "fault-actions"
    chat.say(sender, "Bonjour")
    chat.say(sender, "Je voudrais faire le point sur mes besoins d'assurance")
    assert chat.slots(sender)["requested_slot"] == "consent", "the needs discovery did not start"

    stack.actions.stop()
    # The form validates the answer in the action server: nothing can answer it now.
    assert texts(chat.say(sender, "J'accepte")) == TECHNICAL_PROBLEM
    assert chat.slots(sender)["consent"] is None  # nothing half-recorded

    stack.actions.start()
    replies = chat.say(sender, "J'accepte")
    assert replies
    assert TECHNICAL_PROBLEM not in texts(replies)
    slots = chat.slots(sender)
    assert slots["consent"] is True, slots["consent"]
    assert slots["requested_slot"] not in (None, "consent"), "the form did not go on"


def test_an_unusable_knowledge_base_gets_the_unavailable_answer_with_an_advisor(
    stack: Stack,
) -> None:
    store_dir = stack.run_dir / "corrupt-knowledge"
    store_dir.mkdir()
    (store_dir / "knowledge.sqlite3").write_bytes(b"this is not an SQLite database\x00" * 64)
    stack.actions.stop()
    stack.actions.start(KNOWLEDGE_STORE="embedded", KNOWLEDGE_STORE_DIR=str(store_dir))

    replies = stack.chat.say(
        "fault-knowledge", "Quel est le délai de carence de l'assurance animaux ?"
    )
    answers = [
        reply["custom"]
        for reply in replies
        if isinstance(reply.get("custom"), dict) and reply["custom"].get("type") == "answer"
    ]
    assert answers, f"no answer payload: {replies}"
    assert answers[0]["mode"] == "unavailable"
    assert answers[0]["sources"] == []
    assert "conseiller" in texts(replies)
    assert TECHNICAL_PROBLEM not in texts(replies)


# What today's web app does (issue 18 finding): its start-up creates the schema
# (webapp/main.py lifespan -> advisor/database.py ensure_schema) and exits with code 3 when
# PostgreSQL does not answer, so nothing answers at all, not even /health.


@dataclass
class WebApp:
    base: str
    log_dir: Path
    start_error: StartupError | None


@pytest.fixture(scope="module")
def webapp_without_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    run_dir = tmp_path_factory.mktemp("fault-webapp")
    closed = free_port()  # nothing listens there
    settings = stack_settings(
        run_dir, advisor_database_url=f"postgresql://test:{PASSWORD}@127.0.0.1:{closed}/test"
    )
    supervisor = Supervisor([webapp_service(settings)], run_dir / "logs", START_TIMEOUT_S)
    error = None
    try:
        supervisor.start()
    except StartupError as failed:
        error = failed
    try:
        yield WebApp(f"http://{settings.host}:{settings.webapp_port}", run_dir / "logs", error)
    finally:
        supervisor.stop()


def rate_an_answer(base: str, message_id: str = "m1") -> httpx.Response:
    """A request that needs the database: the widget's rating of a bot message."""
    rating = {"conversation_id": "fault-suite", "message_id": message_id, "rating": 4}
    return httpx.post(f"{base}/api/feedback", json={**rating, "answer": "Oui."}, timeout=60)


def running(webapp: WebApp) -> str:
    assert webapp.start_error is None, str(webapp.start_error).splitlines()[0]
    return webapp.base


def test_the_web_app_starts_without_its_database(webapp_without_database: WebApp) -> None:
    error = webapp_without_database.start_error
    assert error is None, str(error).splitlines()[0]


def test_the_database_password_never_reaches_the_log(webapp_without_database: WebApp) -> None:
    logs = list(webapp_without_database.log_dir.glob("*.log"))
    assert logs
    for log in logs:
        assert PASSWORD not in log.read_text(encoding="utf-8", errors="replace"), log


def test_the_web_app_without_its_database_says_so_and_keeps_serving(
    webapp_without_database: WebApp,
) -> None:
    base = running(webapp_without_database)
    ready = httpx.get(f"{base}/ready", timeout=30)
    body = ready.json()
    assert body["status"] in ("degraded", "not_ready"), body
    assert body["checks"]["database"]["ok"] is False, body
    assert PASSWORD not in ready.text
    assert "postgresql://" not in ready.text
    assert httpx.get(f"{base}/health", timeout=10).status_code == 200
    assert httpx.get(f"{base}/", timeout=30).status_code == 200


def test_a_request_needing_the_database_does_not_bring_the_web_app_down(
    webapp_without_database: WebApp,
) -> None:
    base = running(webapp_without_database)
    response = rate_an_answer(base)
    assert PASSWORD not in response.text
    assert httpx.get(f"{base}/health", timeout=10).status_code == 200
    assert response.status_code == 503, f"HTTP {response.status_code}: {response.text[:300]}"
    assert response.json()["detail"], "no word for the person"


# --- PostgreSQL lost while the web app runs ------------------------------------------------------

POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own (the web app creates its schema), dropped after."""
    require_service("PostgreSQL", 5432)
    name = f"fault_suite_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Relay:
    """A TCP relay to a local port that the test can cut (every connection closed, new ones
    refused) and restore, as a network failure between a server and its database would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown wakes the thread blocked in accept(); close alone would not on Linux.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # cut
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def ready_status(base: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{base}/ready", timeout=60)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def test_the_web_app_losing_its_database_says_so_then_recovers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run_dir = tmp_path_factory.mktemp("fault-webapp-lost")
    relay = Relay(target_port=5432)
    relay.open()
    with fresh_database() as name:
        settings = stack_settings(
            run_dir, advisor_database_url=f"postgresql://postgres@127.0.0.1:{relay.port}/{name}"
        )
        with Supervisor([webapp_service(settings)], run_dir / "logs", START_TIMEOUT_S):
            base = f"http://{settings.host}:{settings.webapp_port}"
            assert ready_status(base)[1]["status"] == "ready"
            assert rate_an_answer(base, "before").status_code == 201

            relay.cut()
            _, body = ready_status(base)
            assert body["status"] in ("degraded", "not_ready"), body
            assert body["checks"]["database"]["ok"] is False, body
            needing = rate_an_answer(base)
            assert needing.status_code == 503, f"HTTP {needing.status_code}: {needing.text[:300]}"
            assert needing.json()["detail"], "no word for the person"
            assert httpx.get(f"{base}/health", timeout=10).status_code == 200
            assert httpx.get(f"{base}/", timeout=30).status_code == 200

            relay.open()
            assert ready_status(base)[1]["status"] == "ready", "not ready once the database is back"
            assert rate_an_answer(base, "after").status_code == 201
        relay.cut()
