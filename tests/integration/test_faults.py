"""Fault suite (issue 18): the real servers with one dependency taken away, as a person or an
operator would notice it. Each conversation case checks what was lost: every message the person
sent was answered (never the apology, never silence) and is in the stored conversation, and the
answers already given are kept. The expected loss is nothing.

- The action server stopped in the middle of a conversation: the person gets the French apology
  (channels/base.py `TECHNICAL_PROBLEM`), and once it is back the conversation goes on from where
  it was.
- The Rasa server killed (SIGKILL) in the middle of the needs-discovery form and started again on
  the same SQL tracker store: the next message is answered and the form goes on at the question it
  had asked, with the answers already given, nothing asked twice.
- Redis, the lock store, lost while the Rasa server runs (its connections go through a TCP relay
  the test cuts): every message is still answered (bot/lock_store.py locks in the process
  meanwhile), and Redis is used again once it is back.
- The LLM server refusing connections, then accepting them and never answering: a product
  question still gets the extractive answer with its sources, within the LLM time limit
  (KNOWLEDGE_LLM_TIMEOUT_S) plus a margin.
- The knowledge base unusable (its store file corrupt) or missing (no store directory): a product
  question gets the "unavailable" answer, which points to an advisor; with the store missing, the
  action server starts, its `/ready` names the knowledge base, and the form works.
- PostgreSQL unreachable for the web app (its database URL on a closed port): the app starts,
  `/health` answers, `/ready` names the database as failing without quoting its URL, the public
  pages still answer, and a request that needs the database does not bring the app down.
- PostgreSQL lost while the web app runs (its connections go through a TCP relay the test cuts):
  a rating is refused with a 503 in French meanwhile, and once the database is back `/ready`
  says "ready" again and ratings are stored.

The Rasa server and the action server run under separate supervisors, so that each can be stopped
and started again alone; they start at once, the action server with a small knowledge base of its
own (the pet insurance documents, ingested with the knowledge tests' hashing embedder), to keep the
suite short. The Rasa server locks conversations in the machine's Redis through a relay.
"""

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from benchmarks.replicas import ANSWERS, OPENING, KillableSupervisor
from common.rasa_api import auth_headers, rest_conversation_id, rest_headers, tracker_url
from common.startup import StartupError
from stack.services import action_service, rasa_service, webapp_service
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service, Supervisor
from stack.training import model_path
from tests.integration.conftest import stack_settings
from tests.relay import Relay
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
REDIS_PORT = 6379
TEST_EMBEDDER = "tests.knowledge.fakes:HashingEmbedder"
PRODUCT_QUESTION = "Quel est le délai de carence de l'assurance animaux ?"
# The served LLM's time limit in these tests (KNOWLEDGE_LLM_TIMEOUT_S), and what a reply may take
# beyond it on a loaded two-core machine (the Rasa turn, retrieval, the action call).
LLM_TIMEOUT_S = 3.0
REPLY_MARGIN_S = 10.0
# bot/lock_store.py DEFAULT_RETRY_AFTER_S: how long the Rasa server leaves Redis alone after a
# failure (the module imports Rasa, which this environment does not have).
LOCK_STORE_RETRY_AFTER_S = 5.0


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

    def tracker(self, sender: str) -> dict[str, Any]:
        conversation = rest_conversation_id(sender)
        response = httpx.get(
            tracker_url(self.base, conversation),
            headers=auth_headers(self.settings.rasa_jwt_secret, conversation),
            timeout=30,
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker

    def slots(self, sender: str) -> dict[str, Any]:
        slots: dict[str, Any] = self.tracker(sender)["slots"]
        return slots


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def answer_cards(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        reply["custom"]
        for reply in replies
        if isinstance(reply.get("custom"), dict) and reply["custom"].get("type") == "answer"
    ]


@dataclass
class Person:
    """Someone talking to the assistant, who remembers what they said and what came back."""

    chat: Chat
    sender: str
    said: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the form's questions, in order

    @classmethod
    def new(cls, chat: Chat, name: str) -> "Person":
        # Unique: Redis, which holds the conversations' locks, is the machine's.
        return cls(chat, f"{name}-{uuid.uuid4().hex[:8]}")

    def say(self, message: str) -> list[dict[str, Any]]:
        replies = self.chat.say(self.sender, message)
        self.said.append(message)
        if not texts(replies).strip() or TECHNICAL_PROBLEM in texts(replies):
            self.unanswered.append(message)
        return replies

    def slots(self) -> dict[str, Any]:
        return self.chat.slots(self.sender)

    def start_the_form(self) -> None:
        for message in OPENING:
            self.say(message)
        assert self.slots()["requested_slot"] == "consent", "the needs discovery did not start"

    def answer(self) -> str:
        """Answer the question the form is asking; returns its slot."""
        slot = str(self.slots()["requested_slot"])
        replies = self.say(ANSWERS[slot])
        self.asked.append(slot)
        assert self.slots()[slot] is not None, f"{slot}: {ANSWERS[slot]!r} not taken: {replies}"
        return slot

    def lost(self) -> list[str]:
        """What the assistant lost of this conversation: messages without a reply (or with the
        apology), messages missing from the stored conversation, questions asked twice."""
        events = self.chat.tracker(self.sender)["events"]
        stored = Counter(event.get("text") for event in events if event["event"] == "user")
        missing = Counter(self.said) - stored
        twice = [slot for slot, count in Counter(self.asked).items() if count > 1]
        return (
            [f"no reply to {message!r}" for message in self.unanswered]
            + [f"{message!r} is not in the conversation" for message in missing.elements()]
            + [f"{slot} asked twice" for slot in twice]
        )


Report = dict[str, str]


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[Report]:
    """What each case lost (and any figure it measured), printed at the end of the module."""
    lines: Report = {}
    yield lines
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is None or capture is None or not lines:
        return
    with capture.global_and_fixture_disabled():  # as `capsys.disabled()`
        terminal.write_line("")  # after the progress dots
        terminal.write_line("Fault suite, what each case lost:")
        for case, line in lines.items():
            terminal.write_line(f"  {case}: {line}")


def assert_nothing_lost(person: Person, report: Report, case: str, figure: str = "") -> None:
    lost = person.lost()
    report[case] = ("; ".join(lost) or "nothing") + (f" ({figure})" if figure else "")
    assert lost == [], f"lost: {lost}"


class RasaServer:
    """The Rasa server under a supervisor of its own, to be killed and started again."""

    def __init__(self, settings: StackSettings, run_dir: Path) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.starts = 0
        self.supervisor: KillableSupervisor | None = None

    @property
    def log(self) -> Path:
        return self.run_dir / f"logs-rasa-{self.starts}" / "Rasa_server.log"

    def start(self) -> None:
        self.starts += 1
        supervisor = KillableSupervisor(
            [rasa_service(self.settings)],
            self.run_dir / f"logs-rasa-{self.starts}",
            START_TIMEOUT_S,
        )
        supervisor.start()
        self.supervisor = supervisor

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost node: nothing is flushed or closed."""
        if self.supervisor is not None:
            self.supervisor.kill()
            self.supervisor.stop()  # reaps the dead process, closes its log
            self.supervisor = None

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None


class ActionServer:
    """The action server under a supervisor of its own, to be stopped and started again, each
    time with its base environment plus the case's."""

    def __init__(self, settings: StackSettings, run_dir: Path, base_env: dict[str, str]) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.base_env = base_env
        self.env: dict[str, str] = {}
        self.starts = 0
        self.supervisor: Supervisor | None = None

    @property
    def base(self) -> str:
        return f"http://{self.settings.host}:{self.settings.action_server_port}"

    @property
    def log(self) -> Path:
        return self.run_dir / f"logs-actions-{self.starts}" / "action_server.log"

    def start(self, **env: str) -> None:
        service: Service = action_service(self.settings)
        service.env.update({**self.base_env, **env})
        self.starts += 1
        supervisor = Supervisor(
            [service], self.run_dir / f"logs-actions-{self.starts}", START_TIMEOUT_S
        )
        supervisor.start()
        self.supervisor = supervisor
        self.env = env

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self.supervisor = None

    def ensure(self, **env: str) -> None:
        """Running with this environment (started again only when it differs)."""
        if self.supervisor is None or self.env != env:
            self.stop()
            self.start(**env)


def build_knowledge_base(run_dir: Path) -> Path:
    """The pet insurance documents built and ingested into an embedded store; its directory."""
    sources, corpus, store = run_dir / "sources", run_dir / "corpus", run_dir / "knowledge"
    sources.mkdir()
    (sources / "animaux").symlink_to(PROJECT_ROOT / "knowledge" / "corpus" / "sources" / "animaux")
    environment = {"KNOWLEDGE_EMBEDDING_MODEL": TEST_EMBEDDER, "KNOWLEDGE_LLM_MODEL": ""}
    for command in (
        ["-m", "knowledge.corpus", "build", "--sources", str(sources), "--out", str(corpus)],
        ["-m", "knowledge", "ingest", str(corpus), "--store-dir", str(store), "--no-progress"],
    ):
        subprocess.run(
            [sys.executable, *command],
            check=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, **environment},
            timeout=300,
            capture_output=True,
        )
    return store


@dataclass
class Stack:
    chat: Chat
    rasa: RasaServer
    actions: ActionServer
    redis: Relay
    run_dir: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_service("Redis", REDIS_PORT)
    if not model_path().exists():
        pytest.fail(f"no trained Rasa model at {model_path()}: run `make train` first")
    run_dir = tmp_path_factory.mktemp("fault-stack")
    redis = Relay(REDIS_PORT)
    redis.open()
    settings = stack_settings(
        run_dir,
        advisor_database_url=f"sqlite:///{run_dir / 'advisor.db'}",
        knowledge_llm_model="",
        lock_store_url=f"redis://127.0.0.1:{redis.port}/0",
    )
    rasa = RasaServer(settings, run_dir)
    actions = ActionServer(settings, run_dir, {"KNOWLEDGE_EMBEDDING_MODEL": TEST_EMBEDDER})
    # At once: the Rasa server's start is tens of seconds of model loading.
    failures: list[BaseException] = []

    def start_actions() -> None:
        try:
            store = build_knowledge_base(run_dir)
            actions.base_env["KNOWLEDGE_STORE_DIR"] = str(store)
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
        yield Stack(Chat(settings), rasa, actions, redis, run_dir)
    finally:
        actions.stop()
        rasa.stop()
        redis.cut()


def test_a_stopped_action_server_gets_an_apology_then_the_conversation_resumes(
    stack: Stack, report: Report
) -> None:
    stack.actions.ensure()
    chat, sender = stack.chat, f"fault-actions-{uuid.uuid4().hex[:8]}"
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
    report["action server stopped"] = (
        "nothing (the answer sent meanwhile got the apology and was taken when sent again)"
    )


def test_a_rasa_server_killed_mid_form_resumes_at_the_same_question(
    stack: Stack, report: Report
) -> None:
    stack.actions.ensure()
    person = Person.new(stack.chat, "fault-rasa")
    person.start_the_form()
    for _ in range(4):  # consent, residence, age, goals
        person.answer()
    before = person.slots()
    waiting_for = before["requested_slot"]
    assert waiting_for is not None, "the form ended before the crash"

    stack.rasa.kill()
    stack.rasa.start()

    after = person.slots()  # read back from the tracker store by the new process
    assert after == before, "the restarted server does not see the same conversation"
    assert person.answer() == waiting_for
    slots = person.slots()
    assert slots["requested_slot"] != waiting_for, "the same question was asked again"
    for slot, value in before.items():
        if slot in ANSWERS and value is not None:
            assert slots[slot] == value, f"{slot} changed: {value!r} -> {slots[slot]!r}"
    if slots["requested_slot"] is not None:
        person.asked.append(slots["requested_slot"])  # the next question: asked once
    assert_nothing_lost(person, report, "Rasa server killed mid-form")


def test_a_lost_redis_lock_store_still_gets_every_message_answered(
    stack: Stack, report: Report
) -> None:
    stack.actions.ensure()
    person = Person.new(stack.chat, "fault-redis")
    person.start_the_form()

    stack.redis.cut()
    try:
        for _ in range(2):  # consent, residence: locked in the Rasa server's process
            person.answer()
    finally:
        stack.redis.open()
    rasa_log = stack.rasa.log.read_text(encoding="utf-8", errors="replace")
    assert "Redis lock store unreachable" in rasa_log

    time.sleep(LOCK_STORE_RETRY_AFTER_S + 0.5)
    person.answer()  # age: locked in Redis again
    rasa_log = stack.rasa.log.read_text(encoding="utf-8", errors="replace")
    assert "Redis lock store reachable again" in rasa_log
    assert_nothing_lost(person, report, "Redis lock store lost")


# --- the served LLM down or hanging --------------------------------------------------------------


class SilentServer:
    """A TCP server that accepts connections and reads what comes, and never answers: a hung
    LLM server."""

    def __init__(self, port: int) -> None:
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", port))
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            self._connections.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            if connection.recv(65536):
                self.requests += 1
            while connection.recv(65536):
                pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for connection in self._connections:
            connection.close()


@pytest.fixture(scope="module")
def llm_port() -> int:
    """Where the action server's LLM server is: closed, or a silent server the test starts."""
    return free_port()


def with_llm(stack: Stack, port: int) -> None:
    stack.actions.ensure(
        KNOWLEDGE_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
        KNOWLEDGE_LLM_MODEL="fault-suite-model",
        KNOWLEDGE_LLM_TIMEOUT_S=str(LLM_TIMEOUT_S),
    )


def ask_in_time(stack: Stack, report: Report, case: str) -> None:
    """Asks the product question as a new person: the extractive answer with its sources, in
    time."""
    person = Person.new(stack.chat, "fault-llm")
    started = time.monotonic()
    replies = person.say(PRODUCT_QUESTION)
    took = time.monotonic() - started
    assert took < LLM_TIMEOUT_S + REPLY_MARGIN_S, f"the reply took {took:.1f} s"
    [card] = answer_cards(replies)
    assert card["mode"] == "extractive", card
    assert card["sources"], "an answer without its sources"
    assert "Source :" in texts(replies)
    assert_nothing_lost(person, report, case, f"reply in {took:.1f} s")


def test_an_llm_server_refusing_connections_leaves_the_extractive_answer(
    stack: Stack, llm_port: int, report: Report
) -> None:
    with_llm(stack, llm_port)
    ready = httpx.get(f"{stack.actions.base}/ready", timeout=30).json()
    assert ready["checks"]["llm"]["ok"] is False, ready  # configured, and down
    ask_in_time(stack, report, "LLM server refusing connections")


def test_a_hung_llm_server_leaves_the_extractive_answer_within_its_time_limit(
    stack: Stack, llm_port: int, report: Report
) -> None:
    with_llm(stack, llm_port)
    silent = SilentServer(llm_port)
    try:
        # Twice: the first request's connection is still open when the second question comes.
        for attempt in ("first", "second"):
            ask_in_time(stack, report, f"LLM server hung, {attempt} question")
    finally:
        silent.close()
    assert silent.requests >= 1, "the LLM server was never called"


# --- the knowledge base unusable or missing ------------------------------------------------------


def test_an_unusable_knowledge_base_gets_the_unavailable_answer_with_an_advisor(
    stack: Stack, report: Report
) -> None:
    store_dir = stack.run_dir / "corrupt-knowledge"
    store_dir.mkdir(exist_ok=True)
    (store_dir / "knowledge.sqlite3").write_bytes(b"this is not an SQLite database\x00" * 64)
    stack.actions.ensure(KNOWLEDGE_STORE="embedded", KNOWLEDGE_STORE_DIR=str(store_dir))

    replies = stack.chat.say(f"fault-knowledge-{uuid.uuid4().hex[:8]}", PRODUCT_QUESTION)
    answers = answer_cards(replies)
    assert answers, f"no answer payload: {replies}"
    assert answers[0]["mode"] == "unavailable"
    assert answers[0]["sources"] == []
    assert "conseiller" in texts(replies)
    assert TECHNICAL_PROBLEM not in texts(replies)
    report["knowledge store corrupt"] = "nothing"


def test_a_missing_knowledge_store_gets_the_unavailable_answer_and_the_form_works(
    stack: Stack, report: Report
) -> None:
    missing = stack.run_dir / "no-knowledge-here"
    assert not missing.exists()
    stack.actions.ensure(KNOWLEDGE_STORE="embedded", KNOWLEDGE_STORE_DIR=str(missing))

    # Started (the supervisor waited for /health), and says why it is not fully ready.
    ready = httpx.get(f"{stack.actions.base}/ready", timeout=30)
    body = ready.json()
    assert ready.status_code == 503, body
    assert body["checks"]["embedding_model"]["ok"] is False, body
    assert "knowledge base" in body["checks"]["embedding_model"]["reason"], body
    assert body["checks"]["catalogue"]["ok"] is True, body
    assert f"no knowledge base at {missing}" in stack.actions.log.read_text(encoding="utf-8")

    person = Person.new(stack.chat, "fault-no-knowledge")
    person.start_the_form()
    person.answer()  # consent
    asking = person.slots()["requested_slot"]
    replies = person.say(PRODUCT_QUESTION)  # a digression in the form
    [card] = answer_cards(replies)
    assert card["mode"] == "unavailable", card
    assert card["sources"] == []
    assert "conseiller" in texts(replies)
    assert person.slots()["requested_slot"] == asking, "the form lost its question"
    for _ in range(2):
        person.answer()
    assert_nothing_lost(person, report, "knowledge store missing")


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
