"""The needs profile: strict, bounded, and refusing contradictory facts by naming the field."""

from typing import Any

import pytest
from pydantic import ValidationError

from product_catalog.errors import ProfileValidationError
from product_catalog.profile import NeedsProfile

pytestmark = pytest.mark.unit


def rejected_field(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        NeedsProfile.model_validate(data)
    return ProfileValidationError.from_validation_error(caught.value).field


class TestShape:
    def test_an_empty_profile_is_valid_and_unknown_everywhere(self):
        profile = NeedsProfile.model_validate({})
        assert profile.age is None
        assert profile.legal_protection is None  # unknown: asked when it matters

    def test_unknown_field_is_refused(self):
        assert rejected_field({"salary": 3000}) == "salary"

    @pytest.mark.parametrize("age", [-1, 121, 10_000])
    def test_absurd_ages_are_refused(self, age):
        assert rejected_field({"age": age}) == "age"

    @pytest.mark.parametrize("age", ["35", 35.0, True, None])
    def test_age_must_be_a_whole_number(self, age):
        if age is None:
            assert NeedsProfile.model_validate({"age": None}).age is None
        else:
            assert rejected_field({"age": age}) == "age"

    def test_nested_errors_name_the_full_path(self):
        data = {"investor": {"risk_tolerance": "extrême"}}
        assert rejected_field(data) == "investor.risk_tolerance"
        assert rejected_field({"pets": [{"species": "dog", "age_years": -2}]}) == "pets.0.age_years"

    def test_projects_are_told_apart_by_kind(self):
        profile = NeedsProfile.model_validate(
            {"projects": [{"kind": "home_loan", "loan_duration_years": 20}, {"kind": "retirement"}]}
        )
        assert profile.home_loan is not None
        assert profile.has_project("retirement")
        assert not profile.has_project("transmission")
        assert rejected_field({"projects": [{"kind": "lottery"}]}) == "projects.0"

    def test_unknown_pcs_code_is_refused(self):
        assert rejected_field({"pcs_code": "99"}) == "pcs_code"
        assert NeedsProfile.model_validate({"pcs_code": "37"}).pcs_code == "37"

    def test_unknown_coverage_category_is_refused(self):
        assert rejected_field({"current_coverage": ["auto", "bateau"]}) == "current_coverage"

    def test_budget_cannot_be_negative_or_infinite(self):
        assert rejected_field({"monthly_budget_eur": -5}) == "monthly_budget_eur"
        assert rejected_field({"monthly_budget_eur": float("inf")}) == "monthly_budget_eur"


class TestContradictions:
    @pytest.mark.parametrize(
        ("facts", "field"),
        [
            ({"age": 19, "employment_status": "retired"}, "employment_status"),
            ({"number_of_dependants": 0, "children_at_school": 1}, "children_at_school"),
            ({"number_of_dependants": 1, "children_at_school": 3}, "children_at_school"),
            ({"housing_status": "landlord", "rented_out_properties": 0}, "rented_out_properties"),
            ({"employment_status": "employee", "pcs_code": "74"}, "pcs_code"),
            ({"employment_status": "employee", "pcs_code": "84"}, "pcs_code"),
            ({"employment_status": "self_employed", "pcs_code": "81"}, "pcs_code"),
            ({"age": 40, "pcs_code": "86"}, "pcs_code"),
            ({"age": 65, "pcs_code": "85"}, "pcs_code"),
            (
                {"employment_status": "self_employed", "employer_health_plan": True},
                "employer_health_plan",
            ),
            ({"age": 15, "family_situation": "married"}, "family_situation"),
            ({"age": 12, "number_of_dependants": 1}, "number_of_dependants"),
            ({"age": 16, "legal_protection": "guardianship"}, "legal_protection"),
            ({"age": 16, "projects": [{"kind": "home_loan"}]}, "projects"),
            ({"investor": {"objectives": ["growth", "growth"]}}, "investor.objectives"),
        ],
    )
    def test_contradiction_names_the_field(self, facts, field):
        assert rejected_field(facts) == field

    def test_contradiction_message_is_a_french_sentence(self):
        with pytest.raises(ValidationError) as caught:
            NeedsProfile.model_validate({"age": 19, "employment_status": "retired"})
        assert caught.value.errors()[0]["msg"] == "retraité(e) à 19 ans n'est pas possible"

    @pytest.mark.parametrize(
        "facts",
        [
            {"age": 58, "employment_status": "retired", "pcs_code": "75"},
            {"number_of_dependants": 3, "children_at_school": 3},
            {"housing_status": "tenant", "rented_out_properties": 2},
            {"employment_status": "unemployed", "employer_health_plan": True},
            {"employment_status": "retired", "pcs_code": "37"},
            {"age": 17, "vehicles": [{"kind": "car"}]},
        ],
    )
    def test_plausible_combinations_are_accepted(self, facts):
        NeedsProfile.model_validate(facts)


class TestDerivedFacts:
    @pytest.mark.parametrize(
        ("facts", "landlord"),
        [
            ({"housing_status": "landlord"}, True),
            ({"housing_status": "tenant", "rented_out_properties": 1}, True),
            ({"housing_status": "owner_occupier", "rented_out_properties": 0}, False),
            ({"housing_status": "owner_occupier"}, None),
            ({}, None),
        ],
    )
    def test_landlord_is_known_only_when_the_profile_says_so(self, facts, landlord):
        assert NeedsProfile.model_validate(facts).is_landlord is landlord

    def test_minor(self):
        assert NeedsProfile.model_validate({"age": 17}).is_minor
        assert not NeedsProfile.model_validate({"age": 18}).is_minor
        assert not NeedsProfile.model_validate({}).is_minor
