"""Product models: what a valid product is, and that the shipped catalogue meets the brief."""

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from product_catalog.categories import CATEGORY_CODES
from product_catalog.errors import UnknownProductError
from product_catalog.schema import Catalogue, Product

pytestmark = pytest.mark.unit

VALID_PRODUCT: dict[str, Any] = {
    "code": "VG-TEST",
    "name": "Vergemont Test",
    "category": "gav",
    "pitch": "Un contrat d'essai.",
    "needs": ["accidents_vie"],
    "eligibility": {"min_age": 18, "max_age": 70},
    "guarantees": [{"name": "Garantie", "description": "Une garantie."}],
    "exclusions": ["Une exclusion."],
    "price": {"min": 10, "max": 20, "unit": "eur_per_month"},
    "documents": [
        {"kind": "conditions_generales", "title": "CG", "filename": "vg-test-cg.pdf"},
        {"kind": "document_information", "title": "IPID", "filename": "vg-test-ipid.pdf"},
    ],
}

SAVINGS_SUITABILITY = {
    "unit_linked": True,
    "risk_indicator": {"min": 2, "max": 6},
    "recommended_horizon_years": 8,
    "objectives": ["growth"],
}


def product(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID_PRODUCT)
    data.update(changes)
    return data


def error_fields(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Product.model_validate(data)
    return [".".join(str(part) for part in error["loc"]) for error in caught.value.errors()]


class TestProductModel:
    def test_a_complete_product_is_valid(self):
        assert Product.model_validate(VALID_PRODUCT).code == "VG-TEST"

    def test_unknown_key_is_refused_and_named(self):
        assert error_fields(product(colour="bleu")) == ["colour"]

    def test_loosely_typed_value_is_refused(self):
        assert error_fields(product(eligibility={"min_age": "18"})) == ["eligibility.min_age"]

    def test_min_age_above_max_age_is_refused(self):
        assert error_fields(product(eligibility={"min_age": 70, "max_age": 18})) == ["eligibility"]

    def test_unknown_need_is_refused(self):
        assert error_fields(product(needs=["voyage_lune"])) == ["needs"]

    def test_unknown_category_is_refused(self):
        assert error_fields(product(category="voyage")) == ["category"]

    def test_price_minimum_above_maximum_is_refused(self):
        price = {"min": 30, "max": 20, "unit": "eur_per_month"}
        assert error_fields(product(price=price)) == ["price"]

    def test_product_code_must_be_upper_case_words(self):
        assert error_fields(product(code="vg test")) == ["code"]

    def test_conditions_generales_are_required(self):
        documents = [
            VALID_PRODUCT["documents"][1],
            {**VALID_PRODUCT["documents"][1], "filename": "x.pdf"},
        ]
        with pytest.raises(ValidationError, match="conditions_generales"):
            Product.model_validate(product(documents=documents))

    def test_savings_product_needs_a_suitability_section(self):
        documents = [
            VALID_PRODUCT["documents"][0],
            {"kind": "document_informations_cles", "title": "DIC", "filename": "vg-test-dic.pdf"},
        ]
        with pytest.raises(ValidationError, match="suitability"):
            Product.model_validate(product(category="epargne", documents=documents))
        savings = product(category="epargne", documents=documents, suitability=SAVINGS_SUITABILITY)
        assert Product.model_validate(savings).is_investment

    def test_savings_product_needs_a_key_information_document(self):
        savings = product(category="epargne", suitability=SAVINGS_SUITABILITY)
        with pytest.raises(ValidationError, match="document_informations_cles"):
            Product.model_validate(savings)

    def test_insurance_product_cannot_have_a_suitability_section(self):
        with pytest.raises(ValidationError, match="suitability"):
            Product.model_validate(product(suitability=SAVINGS_SUITABILITY))

    def test_risk_indicator_is_between_1_and_7(self):
        suitability = {**SAVINGS_SUITABILITY, "risk_indicator": {"min": 0, "max": 8}}
        fields = error_fields(product(category="epargne", suitability=suitability))
        assert "suitability.risk_indicator.min" in fields
        assert "suitability.risk_indicator.max" in fields

    def test_a_pet_age_limit_needs_pet_species(self):
        assert error_fields(product(eligibility={"max_pet_age_years": 8})) == ["eligibility"]

    def test_yearly_price_is_converted_to_a_monthly_minimum(self):
        yearly = Product.model_validate(
            product(price={"min": 24, "max": 60, "unit": "eur_per_year"})
        )
        assert yearly.price.monthly_minimum_eur == 2

    def test_a_percentage_price_has_no_monthly_minimum(self):
        fees = Product.model_validate(
            product(price={"min": 0.5, "max": 1, "unit": "percent_per_year"})
        )
        assert fees.price.monthly_minimum_eur is None


class TestShippedCatalogue:
    def test_has_at_least_16_products(self, catalogue: Catalogue):
        assert len(catalogue.products) >= 16

    def test_covers_every_category(self, catalogue: Catalogue):
        assert {product.category for product in catalogue.products} == CATEGORY_CODES

    @pytest.mark.parametrize(
        ("category", "minimum"),
        [("epargne", 2), ("prevoyance", 3), ("sante", 2), ("habitation", 3)],
    )
    def test_has_the_required_variants(self, catalogue: Catalogue, category, minimum):
        assert len(catalogue.in_category(category)) >= minimum

    def test_has_a_provident_product_for_the_self_employed(self, catalogue: Catalogue):
        statuses = [
            product.eligibility.employment_statuses
            for product in catalogue.in_category("prevoyance")
        ]
        assert ["self_employed"] in statuses

    def test_covers_the_three_housing_situations(self, catalogue: Catalogue):
        situations = {
            situation
            for product in catalogue.in_category("habitation")
            for situation in product.eligibility.housing or []
        }
        assert situations == {"tenant", "owner_occupier", "landlord"}

    def test_has_euro_fund_and_unit_linked_savings(self, catalogue: Catalogue):
        unit_linked = {
            product.suitability.unit_linked
            for product in catalogue.in_category("epargne")
            if product.suitability is not None
        }
        assert unit_linked == {True, False}

    def test_unit_linked_products_carry_a_risk_indicator_above_1(self, catalogue: Catalogue):
        for product in catalogue.products:
            if product.suitability is not None and product.suitability.unit_linked:
                assert product.suitability.risk_indicator.max > 1, product.code

    def test_products_are_insured_by_the_fictional_insurer(self, catalogue: Catalogue):
        assert catalogue.insurer.name == "Vergemont Assurances"
        assert all(product.name.startswith("Vergemont ") for product in catalogue.products)

    def test_lookup_by_code(self, catalogue: Catalogue):
        assert catalogue.get("VG-AUTO").category == "auto"
        with pytest.raises(UnknownProductError):
            catalogue.get("VG-NOTHING")

    def test_duplicate_codes_are_refused(self, catalogue: Catalogue):
        twice = (catalogue.products[0], catalogue.products[0])
        with pytest.raises(ValidationError, match="duplicate product code"):
            Catalogue(insurer=catalogue.insurer, products=twice, version="x")
