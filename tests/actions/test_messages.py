import pytest

from actions.messages import (
    ANSWER_MODES,
    PAYLOAD_TYPES,
    UNSOURCED_MODES,
    answer_payload,
    categories_payload,
    cited,
    recommendations_payload,
    recommended_item,
)
from knowledge.interfaces import Answer, Source
from product_catalog.categories import CATEGORIES
from product_catalog.engine import Recommendation

pytestmark = pytest.mark.unit

SOURCE = Source(document="vg-auto-cg.pdf", page=4, passage="Le bris de glace est couvert.")
PRODUCT = Recommendation(
    code="VG-AUTO", name="Vergemont Auto", category="auto", score=80,
    reasons=["Vous avez une voiture."], warnings=[],
)  # fmt: skip


class TestPayloads:
    def test_every_payload_names_its_type(self):
        answer = answer_payload(Answer("Oui.", (SOURCE,), "extractive", True))
        cards = recommendations_payload([recommended_item(PRODUCT, SOURCE)], "v1", "f1")
        families = categories_payload(CATEGORIES)
        assert [answer["type"], cards["type"], families["type"]] == list(PAYLOAD_TYPES)

    def test_an_answer_cites_at_most_two_passages(self):
        answer = Answer("Oui.", (SOURCE,) * 3, "generative", True)
        assert answer_payload(answer) == {
            "type": "answer",
            "text": "Oui.",
            "sources": [
                {"document": "vg-auto-cg.pdf", "page": 4, "passage": SOURCE.passage},
            ]
            * 2,
            "mode": "generative",
            "validated": True,
        }

    @pytest.mark.parametrize("mode", sorted(UNSOURCED_MODES))
    def test_a_refusal_or_an_unavailable_base_cites_nothing(self, mode):
        assert answer_payload(Answer("Je ne sais pas.", (SOURCE,), mode, True))["sources"] == []

    def test_the_modes_without_sources_are_answer_modes(self):
        assert set(ANSWER_MODES) >= UNSOURCED_MODES

    def test_a_card_has_the_fields_the_clients_read(self):
        item = recommended_item(PRODUCT, None)
        assert item == {
            "code": "VG-AUTO",
            "name": "Vergemont Auto",
            "category": "auto",
            "reasons": ["Vous avez une voiture."],
            "warnings": [],
            "sources": [],
        }
        payload = recommendations_payload([item], "v1", "f1")
        assert set(payload) == {"type", "items", "catalogue_version", "profile_fingerprint"}

    def test_the_citation_of_the_texts(self):
        source = answer_payload(Answer("Oui.", (SOURCE,), "extractive", True))["sources"][0]
        assert cited([source, source]) == "vg-auto-cg.pdf, page 4; vg-auto-cg.pdf, page 4"
