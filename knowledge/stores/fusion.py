"""Merging a lexical and a dense ranking into one, the two ways Weaviate's hybrid search does.

- Relative score fusion (Weaviate's default since 1.24): each list's scores are min-max
  normalised to [0, 1], then summed with weights `alpha` (dense) and `1 - alpha` (lexical).
- Reciprocal rank fusion: each list contributes `weight / (k + rank)`, rank from 1, k = 60.

A chunk found by one search only gets nothing from the other.
"""

from collections.abc import Sequence

RRF_K = 60


def _normalised(results: Sequence[tuple[int, float]]) -> dict[int, float]:
    if not results:
        return {}
    scores = [score for _, score in results]
    low, high = min(scores), max(scores)
    if high == low:
        return {key: 1.0 for key, _ in results}
    return {key: (score - low) / (high - low) for key, score in results}


def relative_score_fusion(
    lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]], alpha: float
) -> list[tuple[int, float]]:
    """(key, score) lists, best first, merged; the result is sorted best first."""
    fused: dict[int, float] = {}
    for weight, results in ((1.0 - alpha, lexical), (alpha, dense)):
        for key, score in _normalised(results).items():
            fused[key] = fused.get(key, 0.0) + weight * score
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(
    lexical: Sequence[tuple[int, float]],
    dense: Sequence[tuple[int, float]],
    alpha: float,
    k: int = RRF_K,
) -> list[tuple[int, float]]:
    fused: dict[int, float] = {}
    for weight, results in ((1.0 - alpha, lexical), (alpha, dense)):
        for rank, (key, _) in enumerate(results, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
