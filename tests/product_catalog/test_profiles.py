"""Example profiles (profiles.yaml) and the categories an advisor expects at the top."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from product_catalog.categories import CATEGORY_CODES
from product_catalog.engine import RecommendationResult
from product_catalog.profile import NeedsProfile

pytestmark = pytest.mark.unit

EXAMPLES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "profiles.yaml").read_text(encoding="utf-8")
)


def top_categories(result: RecommendationResult, count: int) -> list[str]:
    categories: list[str] = []
    for item in result.items:
        if item.category not in categories:
            categories.append(item.category)
    return categories[:count]


def test_there_are_at_least_30_examples_with_distinct_names():
    assert len(EXAMPLES) >= 30
    assert len({example["name"] for example in EXAMPLES}) == len(EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example["name"] for example in EXAMPLES])
def test_example_profile_gets_the_expected_top_categories(engine, example):
    expected = example["expected_top_categories"]
    absent = example.get("absent_categories", [])
    assert set(expected) | set(absent) <= CATEGORY_CODES, "typo in profiles.yaml"

    result = engine.recommend(NeedsProfile.model_validate(example["profile"]))

    top = top_categories(result, len(expected))
    assert sorted(top) == sorted(expected), [(i.code, i.score) for i in result.items]
    if not expected:
        assert result.items == []
    proposed = {item.category for item in result.items}
    assert proposed.isdisjoint(absent)
    assert result.advisor_required is example.get("advisor_required", False)
