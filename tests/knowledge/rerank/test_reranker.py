"""The reranking retriever (order, scores kept, filters passed on, fallback), its wiring in the
knowledge base, and the evaluation's arithmetic."""

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.interfaces import SearchFilters
from knowledge.pipelines import with_reranker
from knowledge.rerank.evaluate import adopt, compare, paired_interval
from knowledge.rerank.reranker import PassageReranker, RerankingRetriever
from knowledge.settings import KnowledgeSettings
from tests.knowledge.helpers import FixedRetriever, chunk

PASSAGES = [
    chunk("Le vol est couvert si les serrures sont forcées.", page=1),
    chunk("Les lunettes sont remboursées tous les deux ans.", page=2, product_code="VG-SANTE"),
    chunk("Le délai de carence est de 45 jours pour une maladie.", page=3),
]


class KeywordReranker:
    """Scores a passage by whether it holds the word; records what it was asked."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls: list[int] = []

    def warm_up(self) -> None: ...

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        self.calls.append(len(passages))
        return [1.0 if self.word in passage else 0.0 for passage in passages]


class BrokenReranker(KeywordReranker):
    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        raise KnowledgeError("weights damaged")


def test_the_reranker_reorders_the_candidates_and_keeps_their_first_stage_scores() -> None:
    reranker = KeywordReranker("carence")
    retriever = RerankingRetriever(FixedRetriever(PASSAGES), reranker, candidates=3)  # type: ignore[arg-type]
    found = retriever.retrieve("délai de carence ?", top_k=2)
    assert [item.chunk.page for item in found] == [3, 1]
    assert found[0].score == pytest.approx(0.8)  # the hybrid score of that passage
    assert reranker.calls == [3]  # it read every candidate, not just the first two


def test_filters_and_the_conversation_product_reach_the_first_stage() -> None:
    inner = FixedRetriever(PASSAGES)
    retriever = RerankingRetriever(inner, KeywordReranker("vol"), candidates=3)  # type: ignore[arg-type]
    found = retriever.retrieve("vol ?", filters=SearchFilters(product_code="VG-HAB-LOC"))
    assert inner.calls[-1][1] == SearchFilters(product_code="VG-HAB-LOC")
    assert {item.chunk.product_code for item in found} == {"VG-HAB-LOC"}
    in_context = retriever.retrieve_in_context("vol ?", "VG-HAB-LOC")
    assert in_context[0].chunk.page == 1


def test_a_failing_reranker_leaves_the_first_stage_order_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    retriever = RerankingRetriever(FixedRetriever(PASSAGES), BrokenReranker("x"), candidates=3)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        first = retriever.retrieve("question", top_k=2)
        second = retriever.retrieve("question", top_k=2)
    assert [item.chunk.page for item in first] == [1, 2]
    assert first == second
    assert sum("reranker unavailable" in r.message for r in caplog.records) == 1


def test_a_missing_artifact_fails_at_warm_up_and_answers_still_come(tmp_path: Path) -> None:
    retriever = RerankingRetriever(FixedRetriever(PASSAGES), PassageReranker(tmp_path), 3)
    retriever.warm_up()
    assert [item.chunk.page for item in retriever.retrieve("q", top_k=3)] == [1, 2, 3]


def test_the_knowledge_base_wraps_its_retriever_only_when_enabled_and_present(
    tmp_path: Path,
) -> None:
    inner = FixedRetriever(PASSAGES)
    assert with_reranker(KnowledgeSettings(llm_model=""), inner) is inner  # off by default
    absent = KnowledgeSettings(llm_model="", reranker_enabled=True, reranker_dir=tmp_path)
    assert with_reranker(absent, inner) is inner
    (tmp_path / "reader.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")
    present = KnowledgeSettings(
        llm_model="", reranker_enabled=True, reranker_dir=tmp_path, reranker_candidates=6
    )
    wrapped = with_reranker(present, inner)
    assert isinstance(wrapped, RerankingRetriever)
    assert wrapped.candidates == 6


def test_paired_differences_and_the_adoption_rule() -> None:
    mean, low, high = paired_interval([0, 0, 1, 1] * 10, [1, 0, 1, 1] * 10)
    assert mean == pytest.approx(0.25)
    assert 0 < low <= mean <= high
    same = compare([1, 2, None, 3], [1, 2, None, 3])
    assert same["hit@4"]["difference"] == 0
    better = compare([3, None, 2, 1] * 10, [1, 4, 1, 1] * 10)
    assert better["hit@4"]["after"] == 1.0
    assert better["mrr@4"]["after"] > better["mrr@4"]["before"]
    assert adopt({"own_all_documents": better, "own_product_filter": better})
    assert not adopt({"own_all_documents": better, "own_product_filter": same})
