"""deploy/docker/entrypoint.sh: secret files become variables, nothing else changes."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.helpers import DEPLOY

pytestmark = pytest.mark.unit

ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"


def run(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )


def test_a_secret_file_becomes_its_variable(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("s3cret value\n")
    result = run(
        {"SECRETS_DIR": str(tmp_path), "WEBAPP_SECRET_KEY_FILE": str(tmp_path / "key")},
        "sh",
        "-c",
        'printf "%s|%s" "$WEBAPP_SECRET_KEY" "${WEBAPP_SECRET_KEY_FILE-unset}"',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "s3cret value|unset"


def test_other_file_variables_are_left_alone(tmp_path: Path) -> None:
    result = run(
        {"SECRETS_DIR": str(tmp_path), "SSL_CERT_FILE": "/etc/ssl/certs/ca.pem"},
        "sh",
        "-c",
        'printf "%s|%s" "$SSL_CERT_FILE" "${SSL_CERT-unset}"',
    )
    assert result.stdout == "/etc/ssl/certs/ca.pem|unset"


def test_an_unreadable_secret_stops_the_container(tmp_path: Path) -> None:
    result = run(
        {"SECRETS_DIR": str(tmp_path), "REDIS_PASSWORD_FILE": str(tmp_path / "missing")},
        "true",
    )
    assert result.returncode == 1
    assert "REDIS_PASSWORD_FILE" in result.stderr


def test_the_command_gets_its_arguments_and_exit_status(tmp_path: Path) -> None:
    result = run(
        {"SECRETS_DIR": str(tmp_path)}, "sh", "-c", 'echo "$1 $2"; exit 3', "-", "a b", "c"
    )
    assert (result.returncode, result.stdout) == (3, "a b c\n")
