import json
from pathlib import Path

import pytest

from finetune.records import Provenance, Triplet
from finetune.retriever import (
    CorpusIndex,
    CrossEncoderReranker,
    TrainingPair,
    batches_without_collisions,
    training_pairs,
    wins,
    write_decision,
)
from knowledge.eval.datasets import Question
from knowledge.eval.retrieval import Metrics
from knowledge.interfaces import Chunk
from knowledge.retrieval import StoreRetriever
from tests.knowledge.fakes import HashingEmbedder

pytestmark = pytest.mark.unit

CHUNKS = [
    Chunk(
        "a#1",
        "auto.pdf",
        1,
        "Le bris de glace est couvert sans franchise en cas de réparation.",
        section="Bris de glace",
        metadata={"title": "Assurance auto"},
    ),
    Chunk(
        "a#2",
        "auto.pdf",
        2,
        "Le vol du véhicule est couvert après une franchise de 300 euros.",
        section="Vol",
        metadata={"title": "Assurance auto"},
    ),
    Chunk(
        "s#1",
        "sante.pdf",
        1,
        "Les lunettes sont remboursées une fois tous les deux ans.",
        section="Optique",
        metadata={"title": "Complémentaire santé"},
    ),
]


def triplet(question: str, chunk: Chunk) -> Triplet:
    return Triplet(
        question, chunk.text, "x", Provenance(chunk.document, chunk.page, chunk.chunk_id)
    )


class TestTrainingData:
    def test_the_hard_negative_comes_from_another_page(self) -> None:
        index = CorpusIndex(CHUNKS, None)
        try:
            [pair] = training_pairs(
                [triplet("Le vol du véhicule est-il couvert ?", CHUNKS[1])], CHUNKS, index.store
            )
        finally:
            index.close()
        assert pair.positive.startswith("Assurance auto — Vol\n")
        assert pair.negative is not None
        assert "bris de glace" in pair.negative

    def test_no_batch_holds_two_questions_of_one_page(self) -> None:
        pairs = [TrainingPair(f"q{i}", "p", f"page{i % 3}") for i in range(12)]
        batches = batches_without_collisions(pairs, batch_size=4, seed=1)
        assert all(len({p.positive_key for p in batch}) == len(batch) for batch in batches)
        assert sum(len(b) for b in batches) == 12


class TestEvaluationIndex:
    def test_a_kept_index_is_reused(self, tmp_path: Path) -> None:
        embedder = HashingEmbedder()
        CorpusIndex(CHUNKS, embedder, tmp_path / "index").close()
        before = embedder.passages_embedded
        index = CorpusIndex(CHUNKS, embedder, tmp_path / "index")
        try:
            metrics = index.evaluate(
                [Question("Les lunettes sont-elles remboursées ?", "sante.pdf", 1)], ("dense",)
            )
        finally:
            index.close()
        assert embedder.passages_embedded == before
        assert metrics["dense"].hit_at_k == 1.0


class TestReranker:
    def test_the_cross_encoder_order_wins(self) -> None:
        class ReverseScorer:
            def score(self, questions: list[str], passages: list[str]) -> list[float]:
                return [float(i) for i in range(len(passages))]

        index = CorpusIndex(CHUNKS, HashingEmbedder())
        try:
            retriever = StoreRetriever(index.store, index.embedder, mode="dense")
            plain = retriever.retrieve("bris de glace", top_k=3)
            reranked = CrossEncoderReranker(retriever, ReverseScorer(), candidates=3).retrieve(
                "bris de glace", top_k=2
            )
        finally:
            index.close()
        assert [r.chunk.chunk_id for r in reranked] == [
            plain[2].chunk.chunk_id,
            plain[1].chunk.chunk_id,
        ]


class TestDecision:
    @staticmethod
    def metrics(hit: float, mrr: float) -> Metrics:
        return Metrics(questions=50, k=4, hit_at_1=0.5, hit_at_k=hit, mrr_at_k=mrr)

    def test_the_model_wins_on_hit_rate_then_on_mrr(self) -> None:
        assert wins(self.metrics(0.80, 0.70), self.metrics(0.84, 0.60))
        assert wins(self.metrics(0.80, 0.70), self.metrics(0.80, 0.72))
        assert not wins(self.metrics(0.80, 0.70), self.metrics(0.80, 0.70))
        assert not wins(self.metrics(0.80, 0.70), self.metrics(0.78, 0.90))

    def test_a_win_writes_the_settings_to_adopt_and_a_loss_removes_them(
        self, tmp_path: Path
    ) -> None:
        model = tmp_path / "model"
        options = {
            "model_dir": model,
            "base_model": "e5",
            "mode": "hybrid",
            "store_dir": Path(".run/kb-ft"),
        }
        decision = write_decision(
            tmp_path, before=self.metrics(0.8, 0.7), after=self.metrics(0.9, 0.8), **options
        )
        assert decision["adopt"] is True
        env = (tmp_path / "retriever.env").read_text(encoding="utf-8")
        assert f"KNOWLEDGE_EMBEDDING_MODEL={model.resolve()}" in env
        assert "KNOWLEDGE_STORE_DIR=.run/kb-ft" in env
        write_decision(
            tmp_path, before=self.metrics(0.8, 0.7), after=self.metrics(0.7, 0.8), **options
        )
        assert not (tmp_path / "retriever.env").exists()
        assert (
            json.loads((tmp_path / "decision.json").read_text(encoding="utf-8"))["adopt"] is False
        )
