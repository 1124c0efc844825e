"""The committed reader artifact: small, traceable, and it reproduces its recorded scores."""

import json
from pathlib import Path

import pytest

from knowledge.eval.splits import MANIFEST, PIAF_FILE, Manifest
from knowledge.qa.data import piaf_examples
from knowledge.qa.evaluate import check_sample, evaluate_piaf_reader
from knowledge.qa.model import artifact_present
from knowledge.qa.reader import SpanReader
from knowledge.qa.train import PROVENANCE_FILE
from knowledge.settings import READER_DIR
from tests.knowledge.e5_helpers import converted_model_dir

pytestmark = pytest.mark.skipif(not artifact_present(READER_DIR), reason="no reader artifact")


def _provenance() -> dict:  # type: ignore[type-arg]
    return json.loads((READER_DIR / PROVENANCE_FILE).read_text("utf-8"))


@pytest.mark.unit
class TestArtifactFiles:
    def test_trained_weights_stay_small(self) -> None:
        repository = Path(__file__).resolve().parents[3]
        weights = [p for p in (repository / "knowledge/artifacts").rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in weights) < 50 * 1024 * 1024

    def test_provenance_names_the_command_split_and_data(self) -> None:
        provenance = _provenance()
        assert provenance["command"].startswith("python -m knowledge.qa.train")
        # Trained on the train split, tuned and measured on today's held-out units (the train
        # split may have grown since: a unit's split never moves).
        assert Manifest.load(MANIFEST).held_out_unchanged(provenance["split_manifest"])
        assert provenance["machine"]["cpu"]
        assert {"piaf_test_reader", "own_test_reader"} <= set(provenance["metrics"])


@pytest.mark.slow
@pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF not available")
def test_reproduces_its_recorded_piaf_score_on_the_fixed_sample(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    recorded = _provenance()["metrics"]["piaf_test_check_sample"]
    sample = check_sample(piaf_examples(PIAF_FILE, Manifest.load(), "test"))
    reader = SpanReader(READER_DIR, model_dir=converted_model_dir(tmp_path_factory), threads=2)
    measured = evaluate_piaf_reader(reader, sample)
    assert measured["questions"] == recorded["questions"]
    assert measured["f1"] == pytest.approx(recorded["f1"], abs=0.02)
    assert measured["exact_match"] == pytest.approx(recorded["exact_match"], abs=0.034)


@pytest.mark.slow
def test_a_question_longer_than_a_window_keeps_its_end(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from knowledge.qa.features import load_tokenizer, windows

    tokenizer = load_tokenizer(converted_model_dir(tmp_path_factory))
    asked = "Mon chat a été opéré en urgence après une chute du balcon et " * 40 + "combien ?"
    found = windows(tokenizer, asked, ["Les frais de chirurgie sont remboursés à 80 %."], 256, 96)
    assert found  # the tokenizer refused the pair before
    assert all(len(window.input_ids) <= 256 for window in found)
