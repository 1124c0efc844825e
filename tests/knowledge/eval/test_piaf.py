"""The PIAF benchmark helpers: SQuAD loading, the metrics, dense ranking and rank fusion."""

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.errors import DatasetError
from knowledge.eval.piaf import fuse_rrf, load_squad, rank_dense, score

pytestmark = pytest.mark.unit


def write_squad(path: Path, paragraphs: list[tuple[str, list[str]]]) -> Path:
    articles = [
        {
            "title": "t",
            "paragraphs": [
                {"context": context, "qas": [{"question": q, "id": q, "answers": []} for q in qs]}
                for context, qs in paragraphs
            ],
        }
    ]
    path.write_text(json.dumps({"version": "1.0", "data": articles}), encoding="utf-8")
    return path


class TestLoadSquad:
    def test_each_question_points_to_its_paragraph_and_repeats_are_indexed_once(
        self, tmp_path: Path
    ) -> None:
        path = write_squad(
            tmp_path / "squad.json",
            [("Paris", ["Capitale ?"]), ("Lyon", ["Gones ?", "Rhône ?"]), ("Paris", ["Seine ?"])],
        )
        benchmark = load_squad(path)
        assert benchmark.paragraphs == ["Paris", "Lyon"]
        assert benchmark.questions == ["Capitale ?", "Gones ?", "Rhône ?", "Seine ?"]
        assert benchmark.gold.tolist() == [0, 1, 1, 0]

    def test_a_file_without_squad_structure_is_a_dataset_error(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({"data": [{"paragraphs": [{"qas": []}]}]}))
        with pytest.raises(DatasetError, match="context"):
            load_squad(path)


class TestMetrics:
    def test_hits_and_reciprocal_ranks_count_only_the_top_k(self) -> None:
        ranking = np.array([[3, 1, 2, 0, 4], [1, 0, 2, 3, 4], [4, 3, 2, 1, 0]])
        gold = np.array([3, 2, 0])  # rank 1, rank 3, rank 5 (beyond k=4)
        result = score(ranking, gold, k=4)
        assert result.hit_at_1 == pytest.approx(1 / 3)
        assert result.hit_at_k == pytest.approx(2 / 3)
        assert result.mrr_at_k == pytest.approx((1 + 1 / 3) / 3)


class TestRanking:
    def test_dense_ranking_orders_by_decreasing_similarity(self) -> None:
        passages = np.eye(3, dtype=np.float32)
        queries = np.array([[0.1, 0.9, 0.3]], dtype=np.float32)
        assert rank_dense(queries, passages, depth=3).tolist() == [[1, 2, 0]]

    def test_fusion_prefers_what_both_rankings_agree_on(self) -> None:
        bm25 = np.array([[0, 1, 2]])
        dense = np.array([[3, 1, 0]])
        fused = fuse_rrf([bm25, dense], depth=2)
        # 0: ranks 1 and 3; 1: ranks 2 and 2 -> 0 first (1/61 + 1/63 > 2/62), then 1.
        assert fused.tolist() == [[0, 1]]
