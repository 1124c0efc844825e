import shutil
from pathlib import Path

import pytest

from stack import training

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "bot", tmp_path / "bot")
    (tmp_path / "models").mkdir()
    return tmp_path


def _pretend_trained(project: Path) -> None:
    training.model_path(project).write_bytes(b"model")
    (project / "models" / "current.fingerprint").write_text(training.fingerprint(project))


def test_fingerprint_is_stable(project):
    assert training.fingerprint(project) == training.fingerprint(project)


def test_model_is_up_to_date_only_with_matching_fingerprint(project):
    assert not training.is_up_to_date(project)
    _pretend_trained(project)
    assert training.is_up_to_date(project)


@pytest.mark.parametrize("changed", ["config.yml", "domain.yml", "bot/nlu/greetings.yml"])
def test_changing_an_input_requires_training(project, changed):
    _pretend_trained(project)
    path = project / changed
    path.write_text(path.read_text() + "\n# edited\n")
    assert not training.is_up_to_date(project)


def test_new_training_file_requires_training(project):
    _pretend_trained(project)
    (project / "bot" / "nlu" / "new_topic.yml").write_text('version: "3.1"\n')
    assert not training.is_up_to_date(project)


def test_failed_training_raises_and_leaves_no_fingerprint(project, monkeypatch):
    fake_rasa = project / "fake-rasa"
    fake_rasa.write_text("#!/bin/sh\necho 'training failed' >&2\nexit 3\n")
    fake_rasa.chmod(0o755)
    monkeypatch.setattr(training, "rasa_executable", lambda root=None: fake_rasa)
    with pytest.raises(training.TrainingError, match="exit code 3"):
        training.train_if_needed(project)
    assert not (project / "models" / "current.fingerprint").exists()
