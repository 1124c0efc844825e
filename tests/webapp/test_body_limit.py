"""Body-size limits counted on the bytes received: chunked bodies (no Content-Length) included,
a French 413 on every route, and a body stopped as soon as it passes the limit."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from webapp.core.body_limit import DEFAULT_BODY_LIMITS, KIB, BodyLimits
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit

JSON = {"content-type": "application/json"}


def chunks(total: int, size: int = 8 * KIB) -> Iterator[bytes]:
    """A JSON-looking body sent in pieces: httpx sends it chunked, with no Content-Length."""
    yield b'{"answer": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    settings = WebAppSettings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        advisor_database_url=sqlite_url,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class TestLimits:
    def test_each_route_has_its_limit(self):
        limits = DEFAULT_BODY_LIMITS
        assert limits.for_path("/api/feedback") == 512 * KIB
        assert limits.for_path("/api/recommendations") == 32 * KIB
        assert limits.for_path("/api/advisor/leads/VG-X/notes") == 256 * KIB
        assert limits.for_path("/conseiller/connexion") == 64 * KIB
        assert limits.for_path("/api/products") == limits.default

    def test_the_longest_prefix_wins(self):
        limits = BodyLimits(default=1, routes=(("/a/", 10), ("/a/b/", 20)))
        assert limits.for_path("/a/b/c") == 20
        assert limits.for_path("/a/c") == 10
        assert limits.for_path("/z") == 1


class TestRoutes:
    @pytest.mark.parametrize(
        ("path", "limit_kib"), [("/api/feedback", 512), ("/api/recommendations", 32)]
    )
    def test_a_chunked_body_over_the_limit_is_refused_in_french(self, client, path, limit_kib):
        response = client.post(path, content=chunks(limit_kib * KIB + KIB), headers=JSON)
        assert response.status_code == 413
        assert response.json() == {
            "detail": f"La requête dépasse la taille autorisée ({limit_kib} Ko)."
        }

    def test_an_announced_length_over_the_limit_is_refused(self, client):
        body = b'{"age": 30, "padding": "' + b"x" * (40 * KIB) + b'"}'
        response = client.post("/api/recommendations", content=body, headers=JSON)
        assert response.status_code == 413

    def test_a_body_under_the_limit_goes_through(self, client):
        response = client.post("/api/recommendations", json={"age": 30})
        assert response.status_code == 200

    def test_a_console_form_sent_chunked_gets_the_console_page(self, client):
        form = (b"texte=" + b"x" * KIB for _ in range(100))
        response = client.post(
            "/conseiller/connexion",
            content=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413
        assert "taille autorisée (64 Ko)" in response.text
        assert "<html" in response.text


class TestStreaming:
    def test_reading_stops_as_soon_as_the_limit_is_passed(self):
        """An endless chunked body: the app pulls a little over the limit, then answers 413."""
        app = create_app(WebAppSettings(_env_file=None, environment="test"))  # type: ignore[call-arg]
        pulled = 0
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal pulled
            pulled += KIB
            return {"type": "http.request", "body": b"x" * KIB, "more_body": True}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/recommendations",
            "raw_path": b"/api/recommendations",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }

        async def run() -> None:
            with anyio.fail_after(10):
                await app(scope, receive, send)

        anyio.run(run)
        assert sent[0]["status"] == 413
        assert pulled <= 32 * KIB + KIB
