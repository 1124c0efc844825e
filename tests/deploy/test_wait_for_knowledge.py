"""deploy/docker/wait_for_knowledge.py, the init container that holds the action server's pods
until the knowledge store holds the corpus: on a real embedded store, empty or not."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from knowledge.interfaces import Chunk, StoredDocument
from knowledge.stores.embedded import EmbeddedStore
from tests.deploy.helpers import DEPLOY, ROOT, load_script

pytestmark = pytest.mark.unit

SCRIPT = DEPLOY / "docker" / "wait_for_knowledge.py"
wait_for_knowledge = load_script(SCRIPT)


def test_it_waits_in_vain_on_an_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KNOWLEDGE_STORE", "embedded")
    monkeypatch.setenv("KNOWLEDGE_STORE_DIR", str(tmp_path / "store"))
    assert wait_for_knowledge.main(["--timeout", "0", "--interval", "0"]) == 1
    assert "0 chunks" in capsys.readouterr().err


def test_the_script_returns_once_the_store_holds_chunks(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.warm_up()
    chunk = Chunk("cg-auto.pdf#1", "cg-auto.pdf", 1, "Le délai de renonciation est de 14 jours.")
    store.replace_document(
        StoredDocument("cg-auto.pdf", "hash", "", 1), [chunk], np.ones((1, 4), dtype=np.float32)
    )
    store.close()
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(SCRIPT), "--timeout", "5"],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "KNOWLEDGE_STORE": "embedded",
            "KNOWLEDGE_STORE_DIR": str(tmp_path / "store"),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "holds 1 chunks" in result.stdout
