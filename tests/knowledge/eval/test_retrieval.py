"""Retrieval evaluation: metrics on known ranks, and whole runs on tiny data."""

import json
from pathlib import Path

import pytest

from knowledge.eval.datasets import Question
from knowledge.eval.retrieval import (
    evaluate_questions,
    evaluate_squad,
    first_hit_rank,
    metrics_from_ranks,
    report,
)
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.eval.test_datasets import SQUAD
from tests.knowledge.fakes import HashingEmbedder
from tests.knowledge.stores.passages import PASSAGES, put

pytestmark = pytest.mark.unit


def scored(document: str, page: int) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{document}-{page}", document, page, "texte"), 1.0)


class TestMetrics:
    def test_hit_and_mrr_on_known_ranks(self) -> None:
        # ranks 1, 2, 4, beyond k (5), never found
        metrics = metrics_from_ranks([1, 2, 4, 5, None], k=4)

        assert metrics.questions == 5
        assert metrics.hit_at_1 == pytest.approx(1 / 5)
        assert metrics.hit_at_k == pytest.approx(3 / 5)
        assert metrics.mrr_at_k == pytest.approx((1 + 1 / 2 + 1 / 4) / 5)

    def test_first_hit_rank_needs_the_same_document_and_page(self) -> None:
        question = Question("q", "cg.pdf", 3)
        results = [scored("cg.pdf", 2), scored("autre.pdf", 3), scored("cg.pdf", 3)]

        assert first_hit_rank(results, question.is_hit) == 3
        assert first_hit_rank(results[:2], question.is_hit) is None

    def test_report_names_each_retriever_with_hit_at_1_hit_at_k_and_mrr(self) -> None:
        metrics = {"bm25": metrics_from_ranks([1, None], k=4)}

        document = report(metrics, data="q.jsonl")

        assert document == {
            "data": "q.jsonl",
            "k": 4,
            "questions": 2,
            "retrievers": {"bm25": {"questions": 2, "hit@1": 0.5, "hit@4": 0.5, "mrr@4": 0.5}},
        }


class TestSquad:
    def test_a_run_finds_each_paragraph_with_every_retriever(self, tmp_path: Path) -> None:
        path = tmp_path / "squad.json"
        path.write_text(json.dumps(SQUAD), encoding="utf-8")

        metrics = evaluate_squad(path, HashingEmbedder(), k=1)

        assert set(metrics) == {"bm25", "dense", "hybrid"}
        for values in metrics.values():
            assert values.hit_at_k == 1.0


def test_questions_are_scored_against_the_ingested_store(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    questions = [
        Question("Les lunettes sont-elles remboursées ?", "faq-sante.md", 1),
        Question("Le bris de glace est-il couvert ?", "cg-auto.pdf", 2),
        Question("Le bris de glace est-il couvert ?", "cg-auto.pdf", 3),  # wrong page on purpose
    ]

    metrics = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))

    assert metrics["bm25"].hit_at_k == pytest.approx(2 / 3)


def test_the_product_filter_searches_only_each_questions_product(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    # "vol ... effraction" is in the auto and the home documents: the product decides
    questions = [
        Question("vol après effraction", "cg-habitation.pdf", 2, product_code="VG-HABITATION"),
        Question("vol après effraction", "cg-auto.pdf", 3, product_code="VG-AUTO"),
    ]

    filtered = evaluate_questions(
        store, HashingEmbedder(), questions, k=1, modes=("bm25",), product_filter=True
    )
    unfiltered = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))

    assert filtered["bm25"].hit_at_k == 1.0
    assert unfiltered["bm25"].hit_at_k == 0.5


def test_another_answering_page_counts_only_under_the_answering_page_rule(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    # written from a page that does not hold the words; another listed page does
    questions = [
        Question(
            "Le bris de glace est-il couvert ?",
            "cg-auto.pdf",
            3,
            other_pages=(("cg-auto.pdf", 2),),
        )
    ]

    strict = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))
    answering = evaluate_questions(
        store, HashingEmbedder(), questions, k=1, modes=("bm25",), hit="answering_page"
    )

    assert strict["bm25"].hit_at_k == 0.0
    assert answering["bm25"].hit_at_k == 1.0
