"""`python -m stack run` (what `make run` starts): up, answers, Ctrl-C, nothing left behind."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common.rasa_api import rest_headers
from tests.services import free_port, service_reachable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REST_TOKEN = "a-rest-token-of-this-test-only-0123456789"


def stack_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "WEBAPP_PORT": str(free_port()),
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "RUN_DIR": str(tmp_path / "run"),
        "RASA_REST_TOKEN": REST_TOKEN,
    }
    env.update(overrides)
    return env


def processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def test_run_brings_everything_up_and_ctrl_c_stops_it_all(tmp_path):
    env = stack_env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "stack", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 300
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "Press Ctrl-C to stop" in line or time.monotonic() > deadline:
                break
        joined = "".join(output)
        assert "All servers are ready" in joined, joined
        for port in ("RASA_PORT", "ACTION_SERVER_PORT", "WEBAPP_PORT"):
            assert f":{env[port]}" in joined

        answer = httpx.post(
            f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook",
            json={"sender": "make-run", "message": "Bonjour"},
            headers=rest_headers(REST_TOKEN),
            timeout=60,
        ).json()
        assert answer[0]["text"].startswith("Bonjour")
        assert httpx.get(f"http://127.0.0.1:{env['WEBAPP_PORT']}/health").status_code == 200
        assert processes_mentioning(env["RASA_PORT"])

        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, rest
    assert "All servers stopped" in rest
    for port in ("RASA_PORT", "ACTION_SERVER_PORT", "WEBAPP_PORT"):
        assert not service_reachable(int(env[port]))
    assert processes_mentioning(env["RASA_PORT"]) == []


def _run_expecting_failure(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "stack", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_port_taken_is_one_clear_line(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = stack_env(tmp_path, WEBAPP_PORT=str(port))
        line = _run_expecting_failure(env)
    assert line == (
        f"stack: error: port {port} on 127.0.0.1 is already in use, so the web app cannot "
        "start: stop the other process or set WEBAPP_PORT"
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RASA_PORT", "not-a-port"), ("TRACKER_STORE_URL", "mysql://db"), ("LOCK_STORE_URL", "x")],
)
def test_invalid_setting_is_one_clear_line(tmp_path, variable, value):
    line = _run_expecting_failure(stack_env(tmp_path, **{variable: value}))
    assert line.startswith(f"stack: error: invalid setting {variable}:")
