"""The cited-passage shape shared by the knowledge base, the handoff and the feedback API."""

import pytest
from pydantic import ValidationError

from common.sources import MAX_PASSAGE_CHARS, SourceRef, quoted

pytestmark = pytest.mark.unit


class TestSourceRef:
    def test_a_source_without_its_context_dumps_the_four_keys_stored_before(self) -> None:
        source = SourceRef(document="vg-auto-ipid.pdf", page=2, passage="Garanties", score=0.5)
        assert source.model_dump(mode="json") == {
            "document": "vg-auto-ipid.pdf",
            "page": 2,
            "passage": "Garanties",
            "score": 0.5,
        }

    def test_the_knowledge_base_context_is_dumped_when_known(self) -> None:
        source = SourceRef(document="a.pdf", page=1, product_code="VG-AUTO", section="Garanties")
        assert source.model_dump()["product_code"] == "VG-AUTO"
        assert source.model_dump()["section"] == "Garanties"

    def test_equal_sources_are_one_in_a_set(self) -> None:
        first = SourceRef(document="a.pdf", page=1, passage="x", score=0.9)
        assert {first, SourceRef(document="a.pdf", page=1, passage="x", score=0.9)} == {first}

    @pytest.mark.parametrize(
        "values",
        [
            {"document": ""},
            {"document": "x" * 301},
            {"document": "a.pdf", "page": 0},
            {"document": "a.pdf", "page": 100_001},
            {"document": "a.pdf", "passage": "x" * 5_001},
        ],
    )
    def test_values_out_of_bounds_are_refused(self, values: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            SourceRef.model_validate(values)


@pytest.mark.unit
class TestQuoted:
    def test_a_passage_within_the_limit_is_kept_whole(self) -> None:
        assert (
            quoted("Le délai de carence est de 45 jours.") == "Le délai de carence est de 45 jours."
        )

    def test_a_longer_passage_is_cut_to_what_a_source_accepts(self) -> None:
        passage = quoted("mot " * 2_000)
        assert len(passage) <= MAX_PASSAGE_CHARS
        assert passage.endswith("…")
        assert SourceRef(document="a.pdf", page=1, passage=passage).passage == passage
