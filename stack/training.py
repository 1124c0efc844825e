"""Train the Rasa model only when its inputs changed.

The fingerprint covers config.yml, domain.yml and every YAML file under bot/; it is written beside
the model after a successful training, so an interrupted training is redone next time.
"""

import hashlib
import subprocess
from pathlib import Path

from stack.settings import PROJECT_ROOT

MODEL_NAME = "current"


class TrainingError(RuntimeError):
    """`rasa train` failed."""


def rasa_executable(root: Path = PROJECT_ROOT) -> Path:
    return root / ".venv-rasa" / "bin" / "rasa"


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return root / "models" / f"{MODEL_NAME}.tar.gz"


def training_inputs(root: Path = PROJECT_ROOT) -> list[Path]:
    files = [root / "config.yml", root / "domain.yml"]
    files += sorted((root / "bot").rglob("*.yml"))
    # The pipeline's own components: a change in them changes what training produces.
    files += sorted((root / "bot" / "components").glob("*.py"))
    return files


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _fingerprint_file(root: Path) -> Path:
    return root / "models" / f"{MODEL_NAME}.fingerprint"


def is_up_to_date(root: Path = PROJECT_ROOT) -> bool:
    stamp = _fingerprint_file(root)
    return (
        model_path(root).exists()
        and stamp.exists()
        and stamp.read_text().strip() == fingerprint(root)
    )


def train_if_needed(root: Path = PROJECT_ROOT) -> bool:
    """Train when the inputs changed; return True when a training ran."""
    if is_up_to_date(root):
        return False
    current = fingerprint(root)
    command = [
        str(rasa_executable(root)),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "bot",
        "--out",
        "models",
        "--fixed-model-name",
        MODEL_NAME,
    ]
    result = subprocess.run(command, cwd=root, check=False)
    if result.returncode != 0 or not model_path(root).exists():
        raise TrainingError(f"rasa train failed with exit code {result.returncode}")
    _fingerprint_file(root).write_text(current + "\n")
    return True
