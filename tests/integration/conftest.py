"""Fixtures that start the real servers (Rasa 3.6 on Python 3.10, rasa-sdk on Python 3.11)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from common.rasa_api import auth_headers, rest_conversation_id, rest_headers, tracker_url
from stack.services import action_service, rasa_service, webapp_service
from stack.settings import StackSettings
from stack.supervisor import Supervisor
from stack.training import model_path
from tests.services import free_port

# The small deterministic embedder of the knowledge tests: no model to load.
TEST_EMBEDDER = "tests.knowledge.fakes:HashingEmbedder"


def build_test_knowledge(tmp: Path) -> dict[str, str]:
    """The real corpus built into `tmp`/corpus and ingested into `tmp`/knowledge with the test
    embedder; returns the variables the servers need to use them (the store, the embedder, no
    LLM, the PDFs the web app serves)."""
    corpus, store = tmp / "corpus", tmp / "knowledge"
    variables = {
        "KNOWLEDGE_STORE_DIR": str(store),
        "KNOWLEDGE_EMBEDDING_MODEL": TEST_EMBEDDER,
        "KNOWLEDGE_LLM_MODEL": "",
        "WEBAPP_DOCUMENTS_DIR": str(corpus),
    }
    for command in (
        ["-m", "knowledge.corpus", "build", "--out", str(corpus)],
        ["-m", "knowledge", "ingest", str(corpus), "--store-dir", str(store), "--no-progress"],
    ):
        environment = {**os.environ, **variables}
        subprocess.run([sys.executable, *command], check=True, env=environment, timeout=600)
    return variables


def stack_settings(tmp_path: Path, **overrides: object) -> StackSettings:
    values: dict[str, object] = {
        "rasa_port": free_port(),
        "action_server_port": free_port(),
        "webapp_port": free_port(),
        "tracker_store_url": f"sqlite:///{tmp_path / 'tracker.db'}",
        "run_dir": tmp_path / "run",
        **overrides,
    }
    return StackSettings(_env_file=None, **values)  # type: ignore[arg-type]


class RasaClient:
    """Talks to a running Rasa server over its REST channel (bearer token) and HTTP API (JWT);
    the REST channel's `sender` is the conversation `rest:<sender>`."""

    def __init__(self, settings: StackSettings) -> None:
        self.base = f"http://{settings.host}:{settings.rasa_port}"
        self.jwt_secret = settings.rasa_jwt_secret
        self.rest_token = settings.rasa_rest_token

    def say(self, sender: str, message: str) -> list[dict[str, object]]:
        response = httpx.post(
            f"{self.base}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers=rest_headers(self.rest_token),
            timeout=60,
        )
        response.raise_for_status()
        result: list[dict[str, object]] = response.json()
        return result

    def tracker(self, sender: str) -> dict[str, object]:
        conversation_id = rest_conversation_id(sender)
        response = httpx.get(
            tracker_url(self.base, conversation_id),
            headers=auth_headers(self.jwt_secret, conversation_id),
            timeout=30,
        )
        response.raise_for_status()
        result: dict[str, object] = response.json()
        return result


def start_servers(settings: StackSettings, with_webapp: bool = False) -> Supervisor:
    if not model_path().exists():
        pytest.fail(f"no trained Rasa model at {model_path()}: run `make train` first")
    services = [action_service(settings), rasa_service(settings)]
    if with_webapp:
        services.append(webapp_service(settings))
    supervisor = Supervisor(services, settings.run_dir / "logs", startup_timeout_s=240)
    supervisor.start()
    return supervisor


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaClient]:
    settings = stack_settings(tmp_path_factory.mktemp("sqlite-stack"))
    supervisor = start_servers(settings)
    try:
        yield RasaClient(settings)
    finally:
        supervisor.stop()
