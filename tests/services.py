"""Loopback services the tests use (PostgreSQL, Redis, free ports), with the standard library only,
so that the tests of both environments (.venv and .venv-rasa) can import it."""

import os
import socket

import pytest

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, port: int) -> None:
    """PostgreSQL and Redis must run in CI (.ci/run starts them); elsewhere skip with the reason."""
    if service_reachable(port):
        return
    message = f"{name} is not answering on 127.0.0.1:{port} (scripts/ensure-services starts it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
