"""INSEE socio-professional categories."""

import pytest

from product_catalog.pcs import PCS_BY_CODE, PCS_CATEGORIES, get_pcs

pytestmark = pytest.mark.unit


class TestPcsCodes:
    def test_both_published_versions_are_present(self):
        detailed = [category for category in PCS_CATEGORIES if category.detailed]
        aggregated_codes = {category.aggregate for category in PCS_CATEGORIES}
        assert len(detailed) == 42
        assert len(aggregated_codes) == 24

    def test_codes_run_from_10_to_86_and_are_unique(self):
        codes = [category.code for category in PCS_CATEGORIES]
        assert len(codes) == len(set(codes))
        assert min(codes) == "10"
        assert max(codes) == "86"

    def test_every_detailed_category_belongs_to_a_listed_aggregate_of_its_group(self):
        for category in PCS_CATEGORIES:
            assert category.aggregate in PCS_BY_CODE
            assert PCS_BY_CODE[category.aggregate].group == category.group

    @pytest.mark.parametrize(
        ("code", "label"),
        [
            ("11", "Agriculteurs sur petite exploitation"),
            ("37", "Cadres administratifs et commerciaux d'entreprise"),
            ("75", "Anciennes professions intermédiaires"),
            ("84", "Élèves, étudiants"),
        ],
    )
    def test_labels_are_the_insee_ones(self, code, label):
        assert get_pcs(code).label == label

    def test_unknown_code_raises(self):
        with pytest.raises(KeyError):
            get_pcs("99")
