"""The two fusions of a lexical and a dense ranking."""

import pytest

from knowledge.stores.fusion import reciprocal_rank_fusion, relative_score_fusion


@pytest.mark.unit
class TestFusion:
    def test_relative_score_normalises_each_list_then_weights_by_alpha(self) -> None:
        lexical = [(1, 10.0), (2, 5.0), (3, 0.0)]
        dense = [(2, 0.9), (4, 0.5)]

        fused = dict(relative_score_fusion(lexical, dense, alpha=0.25))

        assert fused == pytest.approx({1: 0.75, 2: 0.75 * 0.5 + 0.25, 3: 0.0, 4: 0.0})

    def test_reciprocal_rank_fusion_sums_weighted_inverse_ranks(self) -> None:
        fused = reciprocal_rank_fusion([(1, 3.0), (2, 1.0)], [(2, 0.8)], alpha=0.5)

        assert fused[0][0] == 2
        assert dict(fused)[2] == pytest.approx(0.5 / 62 + 0.5 / 61)
