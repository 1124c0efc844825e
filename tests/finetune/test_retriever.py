import json
from pathlib import Path

import pytest

from finetune.records import Provenance, Triplet
from finetune.retriever import (
    CorpusIndex,
    CrossEncoderReranker,
    TrainingPair,
    adoption_decision,
    batches_without_collisions,
    loss_fell,
    question_ranks,
    training_pairs,
    write_decision,
)
from knowledge.eval.datasets import Question
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


def ranks(hits: list[bool], source: str, offset: int = 0) -> dict[str, tuple[str, int | None]]:
    return {f"{source}{offset + i}": (source, 1 if h else None) for i, h in enumerate(hits)}


class TestAdoption:
    def test_a_clear_gain_is_adopted(self) -> None:
        base = {**ranks([True, False] * 100, "piaf"), **ranks([True, False] * 40, "own")}
        tuned = {**ranks([True] * 200, "piaf"), **ranks([True, True, True, False] * 20, "own")}
        decision = adoption_decision(base, tuned)
        assert decision["adopt"] is True
        assert decision["difference"]["hit@4"]["low"] > 0
        assert decision["questions"] == 280
        assert decision["own_questions"] == 80

    def test_no_shown_difference_is_not_adopted(self) -> None:
        base = ranks([True, False] * 150, "piaf")
        tuned = ranks([False, True] * 150, "piaf")  # as many gained as lost
        decision = adoption_decision(base, tuned)
        assert decision["adopt"] is False
        assert "includes 0" in decision["reason"]

    def test_a_gain_on_piaf_does_not_excuse_a_loss_on_insurance_questions(self) -> None:
        base = {**ranks([False] * 300, "piaf"), **ranks([True] * 60, "own")}
        tuned = {**ranks([True] * 300, "piaf"), **ranks([False] * 60, "own")}
        decision = adoption_decision(base, tuned)
        assert decision["difference"]["hit@4"]["low"] > 0
        assert decision["adopt"] is False
        assert "own questions" in decision["reason"]

    def test_a_decision_writes_the_settings_to_adopt_and_a_rejection_removes_them(
        self, tmp_path: Path
    ) -> None:
        model = tmp_path / "model"
        options = {
            "model_dir": model,
            "base_model": "e5",
            "mode": "hybrid",
            "store_dir": Path(".run/kb-ft"),
        }
        write_decision(tmp_path, decision={"adopt": True, "rule": "r"}, **options)
        env = (tmp_path / "retriever.env").read_text(encoding="utf-8")
        assert f"KNOWLEDGE_EMBEDDING_MODEL={model.resolve()}" in env
        assert "KNOWLEDGE_STORE_DIR=.run/kb-ft" in env
        write_decision(tmp_path, decision={"adopt": False, "rule": "r"}, **options)
        assert not (tmp_path / "retriever.env").exists()
        saved = json.loads((tmp_path / "decision.json").read_text(encoding="utf-8"))
        assert saved["adopt"] is False


class TestTrainingLoss:
    def test_a_falling_loss_fell(self) -> None:
        fell, first, last = loss_fell([1.0] * 10 + [0.5] * 10)
        assert fell
        assert (first, last) == (1.0, 0.5)

    def test_a_loss_stuck_at_ln_2_did_not_fall(self) -> None:
        fell, _, _ = loss_fell([0.6931, 0.6932, 0.6930] * 10)
        assert not fell

    def test_one_step_is_not_a_fall(self) -> None:
        assert loss_fell([1.0])[0] is False


class TestQuestionRanks:
    def test_the_rank_of_the_first_passage_of_the_questions_page(self) -> None:
        index = CorpusIndex(CHUNKS, HashingEmbedder())
        try:
            found = question_ranks(
                index.store,
                index.embedder,
                [
                    Question("Le vol du véhicule est-il couvert ?", "auto.pdf", 2),
                    Question("Les lunettes sont-elles remboursées ?", "sante.pdf", 1),
                    Question("Les lunettes sont-elles remboursées ?", "habitation.pdf", 9),
                ],
                k=2,
            )
        finally:
            index.close()
        assert found == [1, 1, None]


def test_a_cross_encoder_pair_with_a_question_longer_than_the_window_keeps_its_end(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The tokenizer can only cut the passage: a long story before the question made it refuse
    the pair; the question now keeps its last tokens, and the passage its first ones."""
    from finetune.retriever import _encode_pairs
    from knowledge.qa.features import load_tokenizer
    from tests.knowledge.e5_helpers import converted_model_dir

    tokenizer = load_tokenizer(converted_model_dir(tmp_path_factory))
    story = "Mon chien a eu un accident dans le jardin la semaine dernière et " * 30
    asked = story + "est-ce que les frais de vétérinaire sont remboursés ?"
    passage = "Les frais vétérinaires d'accident sont remboursés à 80 %."

    encoded = _encode_pairs(tokenizer, [asked, "Le vol est-il couvert ?"], [passage] * 2, 64)

    assert encoded["input_ids"].shape[1] <= 64
    long_pair = tokenizer.decode(encoded["input_ids"][0], skip_special_tokens=True)
    assert "de vétérinaire sont remboursés" in long_pair
    assert "passage: les frais" in long_pair.lower()
    short_pair = tokenizer.decode(encoded["input_ids"][1], skip_special_tokens=True)
    assert short_pair.startswith("query: Le vol est-il couvert")
