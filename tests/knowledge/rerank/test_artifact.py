"""The committed reranker artifact: small, traceable, and it reproduces its recorded scores."""

import json

import pytest

from knowledge.eval.splits import MANIFEST, PIAF_FILE, Manifest
from knowledge.qa.model import artifact_present
from knowledge.rerank.evaluate import CHECK_SAMPLE, compare, piaf_ranks
from knowledge.rerank.reranker import PassageReranker
from knowledge.rerank.train import PROVENANCE_FILE
from knowledge.settings import RERANKER_DIR
from tests.knowledge.e5_helpers import converted_model_dir

pytestmark = pytest.mark.skipif(not artifact_present(RERANKER_DIR), reason="no reranker artifact")


def _provenance() -> dict:  # type: ignore[type-arg]
    return json.loads((RERANKER_DIR / PROVENANCE_FILE).read_text("utf-8"))


@pytest.mark.unit
def test_provenance_names_the_command_split_data_and_measures() -> None:
    provenance = _provenance()
    assert provenance["command"].startswith("python -m knowledge.rerank.train")
    # Trained on the train split, tuned and measured on today's held-out units (the train
    # split may have grown since: a unit's split never moves).
    assert Manifest.load(MANIFEST).held_out_unchanged(provenance["split_manifest"])
    assert provenance["loss_last_10"] < provenance["loss_chance"]  # it learned
    assert {"own_all_documents", "own_product_filter", "piaf"} <= set(provenance["metrics"])


@pytest.mark.slow
@pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF not available")
def test_reproduces_its_recorded_piaf_ranking_on_the_fixed_sample(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    metrics = _provenance()["metrics"]
    recorded = metrics["piaf_check_sample"]
    reranker = PassageReranker(RERANKER_DIR, model_dir=converted_model_dir(tmp_path_factory))
    measured = compare(*piaf_ranks(reranker, metrics["candidates"], CHECK_SAMPLE))
    assert measured["questions"] == recorded["questions"]
    for name in ("hit@4", "mrr@4"):
        assert measured[name]["before"] == recorded[name]["before"]  # BM25: deterministic
        assert measured[name]["after"] == pytest.approx(recorded[name]["after"], abs=0.034)
