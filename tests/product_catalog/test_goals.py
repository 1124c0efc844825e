"""Stated goals: the catalogue data, the profile field, how the engine ranks and explains them."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from product_catalog.engine import SuitabilityEngine
from product_catalog.goals import GoalsFileError, _read, goals, join_labels
from product_catalog.profile import NeedsProfile
from tests.product_catalog.factories import investor, profile

pytestmark = pytest.mark.unit

# A 58-year-old self-employed craftsman: facts alone put health and income cover first.
CRAFTSMAN = {
    "age": 58,
    "employment_status": "self_employed",
    "housing_status": "owner_occupier",
    "family_situation": "married",
    "number_of_dependants": 0,
    "vehicles": [],
    "pets": [],
    "projects": [],
    "legal_protection": "none",
    "current_coverage": [],
    "monthly_budget_eur": 400,
}


def codes(result) -> list[str]:
    return [item.code for item in result.items]


class TestGoalsData:
    def test_every_goal_names_known_categories_and_needs(self):
        assert "retirement" in goals()
        for goal in goals().values():
            assert goal.categories
            assert goal.needs
            assert goal.reason.startswith("Vous souhaitez")

    def test_a_goal_with_an_unknown_category_is_refused(self, tmp_path: Path):
        bad = tmp_path / "goals.yaml"
        bad.write_text(
            "goals:\n  x:\n    label: x\n    categories: [yacht]\n    needs: [litiges]\n"
            "    reason: Vous souhaitez x.\n",
            encoding="utf-8",
        )
        with pytest.raises(GoalsFileError, match="yacht"):
            _read(bad)

    def test_labels_are_joined_as_french_enumerations(self):
        assert join_labels(["retirement", "tax_reduction"]) == (
            "préparer votre retraite et réduire vos impôts"
        )


class TestProfileGoals:
    def test_unknown_or_repeated_goals_are_refused(self):
        with pytest.raises(ValidationError, match="objectif inconnu"):
            NeedsProfile.model_validate({"goals": ["get_rich"]})
        with pytest.raises(ValidationError, match="deux fois"):
            NeedsProfile.model_validate({"goals": ["retirement", "retirement"]})


class TestEngineGoals:
    def test_a_stated_goal_ranks_its_product_first_and_says_why(self, engine: SuitabilityEngine):
        facts_only = engine.recommend(profile(**CRAFTSMAN, investor=investor()))
        assert "VG-PER" not in codes(facts_only)[:1]
        wished = engine.recommend(profile(**CRAFTSMAN, investor=investor(), goals=["retirement"]))
        first = wished.items[0]
        assert first.code == "VG-PER"
        assert first.goals == ["retirement"]
        assert first.reasons[0].startswith("Vous souhaitez préparer votre retraite :")
        assert all(not item.goals for item in wished.items[1:])

    def test_goal_products_come_before_every_fact_only_product(self, engine: SuitabilityEngine):
        result = engine.recommend(profile(**CRAFTSMAN, goals=["legal_disputes"]))
        # Legal protection weighs 20 from facts, far below health (80) or income (75).
        assert codes(result)[0] == "VG-PJ"

    def test_a_goal_never_overrides_eligibility(self, engine: SuitabilityEngine):
        rabbit = {**CRAFTSMAN, "pets": [{"species": "other", "age_years": 2}]}
        result = engine.recommend(profile(**rabbit, goals=["pet_costs"]))
        assert "VG-ANIMAUX" not in codes(result)
        assert any("frais de vétérinaire" in warning for warning in result.warnings)

    def test_a_goal_never_proposes_an_investment_without_suitability(
        self, engine: SuitabilityEngine
    ):
        result = engine.recommend(profile(**CRAFTSMAN, goals=["retirement", "savings_project"]))
        assert not {"VG-PER", "VG-EPARGNE-EURO", "VG-EPARGNE-MULTI"} & set(codes(result))
        # What the goal needs is asked first: the investor profile.
        assert result.missing_facts[0].field.startswith("investor.")

    def test_a_goal_keeps_the_suitability_warnings(self, engine: SuitabilityEngine):
        cautious = investor(risk_tolerance="very_low", objectives=["capital_preservation"])
        result = engine.recommend(profile(**CRAFTSMAN, investor=cautious, goals=["retirement"]))
        per = next(item for item in result.items if item.code == "VG-PER")
        assert per.warnings  # risk and objective mismatches are still said

    def test_a_pet_goal_asks_about_pets_first(self, engine: SuitabilityEngine):
        result = engine.recommend(profile(age=40, goals=["pet_costs"]))
        assert result.missing_facts[0].field == "pets"

    def test_legal_protection_is_asked_when_savings_or_loans_are_candidates(
        self, engine: SuitabilityEngine
    ):
        unknown = engine.recommend(
            profile(**{**CRAFTSMAN, "legal_protection": None}, goals=["savings_project"])
        )
        assert "legal_protection" in [fact.field for fact in unknown.missing_facts]
        pet_owner = engine.recommend(
            profile(age=30, pets=[{"species": "dog", "age_years": 2}], goals=["pet_costs"])
        )
        assert "legal_protection" not in [fact.field for fact in pet_owner.missing_facts]
