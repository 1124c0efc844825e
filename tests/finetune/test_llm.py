"""The OpenAI-compatible back-end against a real HTTP server on loopback."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from finetune.llm import OpenAICompatibleGenerator
from knowledge.errors import GenerationError

pytestmark = pytest.mark.unit


class _Handler(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 200
    body: ClassVar[Any] = {"choices": [{"text": 'Qui ?", "answer": "Lui."}]'}]}

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Handler.received.append(
            {
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                **json.loads(self.rfile.read(length)),
            }
        )
        payload = json.dumps(_Handler.body).encode()
        self.send_response(_Handler.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.received = []
    _Handler.status = 200
    _Handler.body = {"choices": [{"text": 'Qui ?", "answer": "Lui."}]'}]}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


class TestOpenAICompatibleGenerator:
    def test_it_posts_a_completion_request_and_returns_the_text(self, server: str) -> None:
        generator = OpenAICompatibleGenerator(server, "mistral-7b", api_key="k", max_tokens=50)
        assert generator.generate("Extrait :", deadline_s=5) == 'Qui ?", "answer": "Lui."}]'
        [request] = _Handler.received
        assert request["path"] == "/v1/completions"
        assert request["auth"] == "Bearer k"
        assert (request["model"], request["prompt"], request["max_tokens"]) == (
            "mistral-7b",
            "Extrait :",
            50,
        )

    def test_an_http_error_is_a_generation_error(self, server: str) -> None:
        _Handler.status = 500
        with pytest.raises(GenerationError, match="HTTP 500"):
            OpenAICompatibleGenerator(server, "m").generate("x", deadline_s=5)

    def test_an_answer_that_is_not_a_completion_is_a_generation_error(self, server: str) -> None:
        _Handler.body = {"error": "nope"}
        with pytest.raises(GenerationError, match="not an OpenAI completion"):
            OpenAICompatibleGenerator(server, "m").generate("x", deadline_s=5)

    def test_an_unreachable_endpoint_is_a_generation_error(self) -> None:
        with pytest.raises(GenerationError, match="unreachable"):
            OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "m").generate("x", deadline_s=2)
