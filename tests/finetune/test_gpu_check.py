"""scripts/gpu-qlora-check in its CPU dry-run mode: the GPU machine runs the same code."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.slow]

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_dry_run_trains_and_writes_its_summary_and_loss_curve(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "OUT": str(tmp_path),
        "PYTHON": sys.executable,
    }
    result = subprocess.run(
        ["scripts/gpu-qlora-check", "--dry-run", "--steps", "3"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["steps"] == 3
    assert len(summary["train_losses"]) == 3
    assert summary["settings"]["rank"] == 32
    assert summary["model"]["linear4bit_modules"] == 0  # no quantization on a CPU
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_the_check_imports_no_project_module_outside_finetune() -> None:
    code = (
        "import sys, finetune.gpu_check, finetune.lora, finetune.tokenizer, finetune.plotting;"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
        "{'knowledge', 'common', 'actions', 'webapp', 'advisor', 'product_catalog'}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
