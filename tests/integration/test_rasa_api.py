"""Harness access to the real Rasa HTTP API: a signed token in the `Authorization` header, never a
token in the URL (common/rasa_api.py, stack/services.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.rasa_api import api_token, auth_headers, rest_conversation_id, tracker_url
from stack.services import rasa_service
from stack.supervisor import Supervisor
from stack.training import model_path
from tests.integration.conftest import RasaClient, stack_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENDER = "api-reader-1"


@pytest.fixture(scope="module")
def rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaClient]:
    """The Rasa server alone (the tracker needs no custom action), with one conversation."""
    if not model_path().exists():
        pytest.fail(f"no trained Rasa model at {model_path()}: run `make train` first")
    tmp_path: Path = tmp_path_factory.mktemp("rasa-api")
    settings = stack_settings(tmp_path, rasa_jwt_secret="a-secret-of-this-test-only-0123456789")
    with Supervisor([rasa_service(settings)], tmp_path / "logs", startup_timeout_s=240):
        client = RasaClient(settings)
        client.say(SENDER, "Bonjour")
        yield client


def test_the_header_reads_the_tracker_and_no_url_holds_a_token(
    rasa: RasaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests: list[tuple[str, dict[str, str]]] = []
    real_get = httpx.get

    def recording_get(url: str, **kwargs: Any) -> httpx.Response:
        requests.append((str(httpx.URL(url, params=kwargs.get("params"))), kwargs["headers"]))
        return real_get(url, **kwargs)

    monkeypatch.setattr(httpx, "get", recording_get)
    events = rasa.tracker(SENDER)["events"]
    assert isinstance(events, list)
    assert [event["text"] for event in events if event["event"] == "user"] == ["Bonjour"]
    [(url, headers)] = requests
    assert url == f"{rasa.base}/conversations/{rest_conversation_id(SENDER)}/tracker"
    assert headers["Authorization"].startswith("Bearer ")


def test_without_the_header_the_tracker_is_refused(rasa: RasaClient) -> None:
    response = httpx.get(tracker_url(rasa.base, SENDER), timeout=30)
    assert response.status_code == 401


def test_a_token_in_the_url_is_refused(rasa: RasaClient) -> None:
    token = api_token(rasa.jwt_secret, SENDER)
    response = httpx.get(tracker_url(rasa.base, SENDER), params={"token": token}, timeout=30)
    assert response.status_code == 401


def test_a_token_signed_with_another_secret_is_refused(rasa: RasaClient) -> None:
    headers = auth_headers("another-secret-of-this-test-0123456789", SENDER)
    response = httpx.get(tracker_url(rasa.base, SENDER), headers=headers, timeout=30)
    assert response.status_code == 401


def test_a_conversation_token_opens_that_conversation_only(rasa: RasaClient) -> None:
    headers = auth_headers(rasa.jwt_secret, "someone-else")
    response = httpx.get(tracker_url(rasa.base, SENDER), headers=headers, timeout=30)
    assert response.status_code == 403


def test_status_needs_the_admin_token(rasa: RasaClient) -> None:
    status = f"{rasa.base}/status"
    assert httpx.get(status, timeout=30).status_code == 401
    assert httpx.get(status, headers=auth_headers(rasa.jwt_secret), timeout=30).status_code == 200
