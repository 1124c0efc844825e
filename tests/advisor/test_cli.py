"""`python -m advisor` as an operator runs it: a real subprocess on a SQLite file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from advisor.auth import authenticate, user_by_token
from advisor.database import open_engine

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def run(url: str, *arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "advisor", "--database-url", url, *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_create_user_and_api_token(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    created = run(
        url,
        "create-user",
        "alice",
        "--name",
        "Alice Martin",
        "--role",
        "advisor",
        "--password-stdin",
        stdin="un-mot-de-passe-solide\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Utilisateur « alice » créé" in created.stdout
    token = run(url, "api-token", "alice").stdout.strip()
    engine = open_engine(url)
    try:
        assert authenticate(engine, "alice", "un-mot-de-passe-solide") is not None
        actor = user_by_token(engine, token)
        assert actor is not None
        assert actor.username == "alice"
    finally:
        engine.dispose()


def test_bad_input_gets_one_french_line_and_exit_code_2(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    short = run(
        url,
        "create-user",
        "bob",
        "--name",
        "Bob",
        "--role",
        "advisor",
        "--password-stdin",
        stdin="court\n",
    )
    assert short.returncode == 2
    assert short.stderr.strip() == (
        "advisor: erreur : Le mot de passe doit compter au moins 12 caractères."
    )
    missing = run(url, "export", "--reference", "VG-ZZZZZZ", "--output", "x.json")
    assert missing.returncode == 2
    assert "Aucun prospect" in missing.stderr


def test_reset_password_deactivate_and_token_commands(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    password = "un-mot-de-passe-solide\n"
    run(
        url,
        "create-user",
        "alice",
        "--name",
        "Alice",
        "--role",
        "advisor",
        "--password-stdin",
        stdin=password,
    )
    token = run(url, "api-token", "alice", "--days", "30").stdout.strip()

    reset = run(url, "reset-password", "alice", "--password-stdin", stdin="un-autre-mot-de-passe\n")
    assert reset.returncode == 0, reset.stderr
    assert "Mot de passe de « alice » changé" in reset.stdout

    deactivated = run(url, "deactivate", "alice")
    assert deactivated.returncode == 0, deactivated.stderr
    assert "désactivé" in deactivated.stdout
    engine = open_engine(url)
    try:
        assert authenticate(engine, "alice", "un-autre-mot-de-passe") is None
        assert user_by_token(engine, token) is None
        assert run(url, "activate", "alice").returncode == 0
        assert authenticate(engine, "alice", "un-autre-mot-de-passe") is not None
        token = run(url, "api-token", "alice").stdout.strip()
        assert user_by_token(engine, token) is not None
        revoked = run(url, "revoke-token", "alice")
        assert "révoqué" in revoked.stdout
        assert user_by_token(engine, token) is None
    finally:
        engine.dispose()

    too_long = run(url, "api-token", "alice", "--days", "1000")
    assert too_long.returncode == 2
    assert "Durée de validité invalide" in too_long.stderr
    unknown = run(url, "deactivate", "personne")
    assert unknown.returncode == 2
    assert "Aucun utilisateur « personne »" in unknown.stderr
