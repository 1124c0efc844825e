"""Training the reader on a tiny separable set: the code path CI can afford (about a minute)."""

import json
from pathlib import Path

import pytest

from knowledge.qa.model import WEIGHTS_FILE, load_artifact
from knowledge.qa.train import PROVENANCE_FILE, TrainOptions, train
from tests.knowledge.e5_helpers import converted_model_dir

pytestmark = pytest.mark.slow

CASES = [
    ("un accident", "3 jours"), ("une maladie", "45 jours"), ("une chirurgie", "120 jours"),
    ("un vol", "10 jours"), ("un incendie", "7 jours"), ("une tempête", "5 jours"),
    ("un dégât des eaux", "2 jours"), ("un bris de glace", "30 jours"),
]  # fmt: skip


def _data(tmp_path: Path) -> tuple[Path, Path]:
    paragraphs = []
    for event, delay in CASES:
        context = f"Pour {event}, le délai de carence est de {delay}. Il court dès la souscription."
        paragraphs.append(
            {
                "context": context,
                "qas": [
                    {
                        "id": event,
                        "question": f"Quel est le délai de carence pour {event} ?",
                        "answers": [{"text": delay, "answer_start": context.index(delay)}],
                    }
                ],
            }
        )
    piaf = tmp_path / "squad.json"
    piaf.write_text(json.dumps({"data": [{"title": "T", "paragraphs": paragraphs}]}), "utf-8")
    manifest = tmp_path / "splits.json"
    empty = {"train": [], "dev": [], "test": []}
    manifest.write_text(
        json.dumps(
            {
                "piaf": {"file": "squad.json", "sha256": "x", "splits": {**empty, "train": ["T"]}},
                "own": {"files": {}, "splits": empty},
                "unanswerable": {"file": "u.jsonl", "sha256": "y", "splits": empty},
            }
        ),
        "utf-8",
    )
    return piaf, manifest


def test_loss_falls_on_a_tiny_set_and_the_run_resumes(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    piaf, manifest = _data(tmp_path)
    model_dir = converted_model_dir(tmp_path_factory)
    options = TrainOptions(
        out=tmp_path / "reader", work=tmp_path / "work", model_dir=model_dir, piaf=piaf,
        manifest=manifest, own=False, epochs=12, batch_size=4, lr=3e-3, rank=4, alpha=8,
        max_length=64, stride=16, threads=2, precision="float32", checkpoint_every=5,
        evaluate_dev=False,
    )  # fmt: skip
    provenance = train(options, "test")
    assert provenance["steps"] == 24
    assert provenance["resumed_from_step"] == 0
    assert provenance["loss_last_10"] < 0.5 * provenance["loss_first_10"]
    assert (tmp_path / "reader" / WEIGHTS_FILE).stat().st_size < 2_000_000  # adapters only
    _model, config = load_artifact(tmp_path / "reader", model_dir)
    assert config.rank == 4

    again = train(options, "test")  # the checkpoint is complete: nothing left to do
    assert again["steps"] == 24
    assert again["resumed_from_step"] == 24
    saved = json.loads((tmp_path / "reader" / PROVENANCE_FILE).read_text("utf-8"))
    assert saved["data"]["piaf_examples"] == len(CASES)
