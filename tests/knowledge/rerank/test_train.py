"""Training the reranker on a tiny separable set: the code path CI can afford."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.qa.model import WEIGHTS_FILE
from knowledge.rerank.reranker import PassageReranker
from knowledge.rerank.train import PROVENANCE_FILE, RerankTrainOptions, train
from tests.knowledge.e5_helpers import converted_model_dir

pytestmark = pytest.mark.slow

TOPICS = [
    ("incendie", "Le feu qui détruit la maison est couvert jusqu'à la valeur de reconstruction."),
    ("vol", "Le cambriolage est indemnisé si les serrures ont été forcées."),
    ("voyage", "L'assistance rapatrie l'assuré malade à l'étranger."),
    ("animal", "Les frais vétérinaires du chien sont remboursés à 70 %."),
    ("voiture", "Le bris de pare-brise est pris en charge sans franchise."),
    ("santé", "Les lunettes sont remboursées une fois tous les deux ans."),
]


def _data(tmp_path: Path) -> tuple[Path, Path]:
    articles = [
        {
            "title": topic,
            "paragraphs": [
                {
                    "context": text,
                    "qas": [
                        {
                            "id": topic,
                            "question": f"Que couvre le contrat {topic} ?",
                            "answers": [{"text": text[:5], "answer_start": 0}],
                        }
                    ],
                }
            ],
        }
        for topic, text in TOPICS
    ]
    piaf = tmp_path / "squad.json"
    data = {"data": articles}
    piaf.write_text(json.dumps(data), "utf-8")
    manifest = tmp_path / "splits.json"
    empty: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    titles = [topic for topic, _ in TOPICS]
    manifest.write_text(
        json.dumps(
            {
                "piaf": {"file": "squad.json", "sha256": "x", "splits": {**empty, "train": titles}},
                "own": {"files": {}, "splits": empty},
                "unanswerable": {"file": "u.jsonl", "sha256": "y", "splits": empty},
            }
        ),
        "utf-8",
    )
    return piaf, manifest


def _tiny_options(tmp_path: Path, model_dir: Path, out: str, work: str) -> RerankTrainOptions:
    """A run of 20 steps on the tiny separable set, PIAF-like data only."""
    piaf, manifest = _data(tmp_path)
    return RerankTrainOptions(
        out=tmp_path / out, work=tmp_path / work, model_dir=model_dir, piaf=piaf,
        manifest=manifest, own=False, epochs=10, groups_per_step=3, negatives=2, lr=3e-3,
        rank=4, alpha=8, max_length=64, threads=2, precision="float32", checkpoint_every=5,
    )  # fmt: skip


def test_loss_falls_on_a_tiny_set_and_the_positive_comes_first(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model_dir = converted_model_dir(tmp_path_factory)
    options = _tiny_options(tmp_path, model_dir, "reranker", "work")
    provenance = train(options, "test")
    assert provenance["steps"] == 20
    assert provenance["loss_last_10"] < 0.5 * provenance["loss_first_10"]
    assert provenance["data"]["piaf_groups"] == len(TOPICS)
    assert (tmp_path / "reranker" / WEIGHTS_FILE).stat().st_size < 2_000_000  # adapters only

    reranker = PassageReranker(tmp_path / "reranker", model_dir=model_dir, threads=2)
    texts = [f"{topic}\n{text}" for topic, text in TOPICS]
    for index, (topic, _) in enumerate(TOPICS):
        scores = reranker.scores(f"Que couvre le contrat {topic} ?", texts)
        assert max(range(len(texts)), key=scores.__getitem__) == index

    again = train(options, "test")  # the checkpoint is complete: nothing left to do
    assert again["resumed_from_step"] == 20
    saved = json.loads((tmp_path / "reranker" / PROVENANCE_FILE).read_text("utf-8"))
    assert saved["loss_chance"] == pytest.approx(1.0986, abs=1e-3)


def test_a_second_run_starts_from_a_trained_artifact_of_the_same_shape(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model_dir = converted_model_dir(tmp_path_factory)
    options = _tiny_options(tmp_path, model_dir, "first", "work1")
    first = train(options, "test")
    second = train(
        replace(options, out=tmp_path / "second", work=tmp_path / "work2", init=tmp_path / "first",
                max_steps=2, lr=1e-4),
        "test",
    )  # fmt: skip
    # Two small steps from trained weights keep the loss where the first run left it.
    assert second["loss_first_10"] < 0.5 * first["loss_first_10"]
    assert second["init"]["artifact"] == str(tmp_path / "first")
    with pytest.raises(KnowledgeError, match="rank"):
        train(replace(options, out=tmp_path / "third", work=tmp_path / "work3", rank=8,
                      init=tmp_path / "first"), "test")  # fmt: skip
