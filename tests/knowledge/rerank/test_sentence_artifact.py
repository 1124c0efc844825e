"""The committed sentence selector: small, traceable, and it reproduces its recorded choices."""

import json

import pytest

from knowledge.eval.splits import MANIFEST, PIAF_FILE, Manifest
from knowledge.qa.model import artifact_present
from knowledge.rerank.evaluate import CHECK_SAMPLE, piaf_sentence_choices
from knowledge.rerank.reranker import PassageReranker
from knowledge.rerank.train import PROVENANCE_FILE
from knowledge.settings import SENTENCE_SELECTOR_DIR
from tests.knowledge.e5_helpers import converted_model_dir

pytestmark = pytest.mark.skipif(
    not artifact_present(SENTENCE_SELECTOR_DIR), reason="no sentence selector artifact"
)


def _provenance() -> dict:  # type: ignore[type-arg]
    return json.loads((SENTENCE_SELECTOR_DIR / PROVENANCE_FILE).read_text("utf-8"))


@pytest.mark.unit
def test_provenance_names_the_command_split_data_and_measures() -> None:
    provenance = _provenance()
    assert provenance["command"].startswith("python -m knowledge.rerank.train --unit sentence")
    assert provenance["options"]["unit"] == "sentence"
    # Trained on the train split, tuned and measured on today's held-out units (the train
    # split may have grown since: a unit's split never moves).
    assert Manifest.load(MANIFEST).held_out_unchanged(provenance["split_manifest"])
    assert provenance["loss_last_10"] < provenance["loss_chance"]  # it learned
    assert {"dev", "test", "piaf", "piaf_check_sample", "adopt"} <= set(provenance["metrics"])
    size = sum(path.stat().st_size for path in SENTENCE_SELECTOR_DIR.iterdir())
    assert size < 10_000_000


@pytest.mark.slow
@pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF not available")
def test_reproduces_its_recorded_piaf_choices_on_the_fixed_sample(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    recorded = _provenance()["metrics"]["piaf_check_sample"]
    scorer = PassageReranker(SENTENCE_SELECTOR_DIR, model_dir=converted_model_dir(tmp_path_factory))
    words, chosen = piaf_sentence_choices(scorer, CHECK_SAMPLE)
    assert len(words) == recorded["questions"]
    assert sum(words) / len(words) == pytest.approx(recorded["words"], abs=1e-4)  # no model
    # Float rounding may differ between CPUs (bfloat16 or not): one question either way.
    assert sum(chosen) / len(chosen) == pytest.approx(recorded["selector"], abs=1.01 / len(chosen))


@pytest.mark.slow
def test_a_question_longer_than_the_window_is_scored_by_its_end(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A person telling a long story before asking: the tokenizer could only cut the passage and
    refused the pair; the question now keeps its last tokens, where the question is."""
    from knowledge.qa.features import question_tail

    scorer = PassageReranker(SENTENCE_SELECTOR_DIR, model_dir=converted_model_dir(tmp_path_factory))
    story = "Mon chien a eu un accident dans le jardin la semaine dernière et " * 30
    asked = story + "est-ce que les frais de vétérinaire sont remboursés ?"
    passages = ["Les frais vétérinaires d'accident sont remboursés à 80 %.", "Le vol est exclu."]

    scores = scorer.scores(asked, passages)

    assert len(scores) == 2
    assert scores[0] > scores[1]
    tokenizer = scorer._tokenizer  # the scorer's own tokenizer, loaded by `scores`
    tail = question_tail(tokenizer, asked, 40)
    assert tail.endswith("sont remboursés ?")
    assert asked.endswith(tail)
    assert len(tokenizer(tail, add_special_tokens=False)["input_ids"]) <= 41
    assert question_tail(tokenizer, "Le vol est-il couvert ?", 40) == "Le vol est-il couvert ?"
