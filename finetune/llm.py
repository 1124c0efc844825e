"""LLM back-ends that write training data, behind knowledge's `Generator` protocol.

- the configured GGUF model through llama-cpp-python (`knowledge.generation.LlamaCppGenerator`,
  with stop sequences suited to a JSON answer);
- any OpenAI-compatible server (`/v1/completions`: vLLM, llama.cpp's server, Ollama, a hosted
  API) through httpx.
"""

from typing import Any

import httpx

from knowledge.errors import GenerationError, GenerationTimeoutError
from knowledge.generation import LlamaCppGenerator
from knowledge.interfaces import Generator

JSON_STOPS = ("\n\nExtrait", "\nExtrait :", "\n\n\n")


class OpenAICompatibleGenerator:
    """Completions from an OpenAI-compatible HTTP endpoint (`{base_url}/completions`)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        max_tokens: int = 400,
        temperature: float = 0.2,
        n_ctx: int = 8192,
        stop: tuple[str, ...] = JSON_STOPS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.n_ctx = n_ctx
        self.stop = list(stop)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, transport=transport)

    def warm_up(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # the server truncates; an estimate is enough here

    def generate(self, prompt: str, deadline_s: float) -> str:
        payload: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": self.stop,
        }
        try:
            response = self._client.post(
                f"{self.base_url}/completions", json=payload, timeout=deadline_s
            )
        except httpx.TimeoutException as exc:
            raise GenerationTimeoutError(f"no answer within {deadline_s:.0f} s") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(f"endpoint unreachable: {exc}") from exc
        if response.status_code != httpx.codes.OK:
            raise GenerationError(f"endpoint answered HTTP {response.status_code}")
        try:
            text = response.json()["choices"][0]["text"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise GenerationError("endpoint answer is not an OpenAI completion") from exc
        if not isinstance(text, str):
            raise GenerationError("endpoint answer is not an OpenAI completion")
        return text

    def close(self) -> None:
        self._client.close()


def build_generator(
    model: str,
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    max_tokens: int = 200,
    n_ctx: int = 2048,
    n_threads: int | None = None,
) -> Generator:
    """An endpoint when one is given, otherwise the GGUF model (a path or the offline alias)."""
    if endpoint:
        return OpenAICompatibleGenerator(endpoint, model, api_key=api_key, max_tokens=max_tokens)
    return LlamaCppGenerator(
        model=model, n_ctx=n_ctx, max_tokens=max_tokens, n_threads=n_threads, stop=JSON_STOPS
    )
