"""deploy/docker/wait_for_schema.py, the init container that holds a release's pods until its
migrations ran: on real SQLite databases, migrated or not."""

import os
import subprocess
from pathlib import Path

import pytest
from alembic import command

from advisor.database import alembic_config
from tests.deploy.helpers import DEPLOY, ROOT, load_script

pytestmark = pytest.mark.unit

SCRIPT = DEPLOY / "docker" / "wait_for_schema.py"
wait_for_schema = load_script(SCRIPT)


def migrated(path: Path) -> str:
    url = f"sqlite:///{path}"
    command.upgrade(alembic_config(url), "head")
    return url


def test_the_script_returns_once_every_database_is_at_head(tmp_path: Path) -> None:
    url = migrated(tmp_path / "app.db")
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(SCRIPT), "--timeout", "5"],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "ADVISOR_DATABASE_URL": url,
            "WEBAPP_DATABASE_URL": url,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "at head" in result.stdout


def test_it_gives_up_on_a_database_that_was_not_migrated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADVISOR_DATABASE_URL", migrated(tmp_path / "migrated.db"))
    monkeypatch.setenv("WEBAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    status = wait_for_schema.main(["--root", str(ROOT), "--timeout", "0.3", "--interval", "0.1"])
    assert status == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert "WEBAPP_DATABASE_URL at revision none" in last
    assert "ADVISOR_DATABASE_URL" not in last


def test_it_waits_while_a_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADVISOR_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/none")
    monkeypatch.delenv("WEBAPP_DATABASE_URL", raising=False)
    status = wait_for_schema.main(["--root", str(ROOT), "--timeout", "0", "--interval", "0"])
    assert status == 1
    err = capsys.readouterr().err
    assert "ADVISOR_DATABASE_URL unreachable" in err
    assert "pw" not in err  # the URL, and its password, never reach the logs


def test_it_needs_a_database_to_wait_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVISOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("WEBAPP_DATABASE_URL", raising=False)
    assert wait_for_schema.main(["--root", str(ROOT)]) == 2
