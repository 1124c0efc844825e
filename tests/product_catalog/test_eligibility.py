"""Eligibility rules: met, not met with a French reason, or unknown naming the missing facts."""

import pytest

from product_catalog.eligibility import compile_rules, evaluate
from tests.product_catalog.factories import investor, profile

pytestmark = pytest.mark.unit


def verdict(catalogue, code, **facts):
    return evaluate(compile_rules(catalogue.get(code)), profile(**facts))


class TestEligibility:
    def test_all_conditions_met(self, catalogue):
        assert (
            verdict(catalogue, "VG-AUTO", age=30, vehicles=[{"kind": "car"}]).status == "eligible"
        )

    def test_an_unknown_fact_never_counts_as_met(self, catalogue):
        result = verdict(catalogue, "VG-AUTO", vehicles=[{"kind": "car"}])
        assert result.status == "pending"
        assert result.missing == ("age",)

    def test_residence_must_be_known(self, catalogue):
        result = evaluate(
            compile_rules(catalogue.get("VG-PJ")), profile(resides_in_france=None, age=40)
        )
        assert result.missing == ("resides_in_france",)

    def test_age_bounds_give_a_french_reason(self, catalogue):
        result = verdict(catalogue, "VG-OBSEQUES", age=90)
        assert result.status == "ineligible"
        assert result.failures == ("Ce contrat se souscrit jusqu'à 85 ans (vous avez 90 ans).",)

    def test_every_failure_is_kept_for_the_audit_trail(self, catalogue):
        result = verdict(catalogue, "VG-PREV-SALARIE", age=65, employment_status="self_employed")
        assert len(result.failures) == 2

    def test_a_failure_wins_over_unknown_facts(self, catalogue):
        result = verdict(catalogue, "VG-HAB-LOC", age=16)
        assert result.status == "ineligible"

    def test_landlord_is_recognised_from_rented_out_properties(self, catalogue):
        facts = {"age": 50, "housing_status": "owner_occupier", "rented_out_properties": 2}
        assert verdict(catalogue, "VG-HAB-PNO", **facts).status == "eligible"

    def test_landlord_is_unknown_until_rented_properties_are_known(self, catalogue):
        result = verdict(catalogue, "VG-HAB-PNO", age=50, housing_status="owner_occupier")
        assert result.missing == ("rented_out_properties",)

    def test_pet_age_limit(self, catalogue):
        young = verdict(catalogue, "VG-ANIMAUX", age=30, pets=[{"species": "cat", "age_years": 8}])
        old = verdict(catalogue, "VG-ANIMAUX", age=30, pets=[{"species": "cat", "age_years": 9}])
        rabbit = verdict(
            catalogue, "VG-ANIMAUX", age=30, pets=[{"species": "other", "age_years": 1}]
        )
        assert (young.status, old.status, rabbit.status) == ("eligible", "ineligible", "ineligible")

    def test_loan_must_end_before_the_age_limit(self, catalogue):
        loan = {"kind": "home_loan", "loan_duration_years": 25}
        assert verdict(catalogue, "VG-EMPRUNTEUR", age=55, projects=[loan]).status == "eligible"
        too_late = verdict(catalogue, "VG-EMPRUNTEUR", age=56, projects=[loan])
        assert too_late.failures == (
            "Le prêt doit être remboursé avant 80 ans (vous auriez 81 ans à son terme).",
        )

    def test_loan_duration_is_asked_when_unknown(self, catalogue):
        result = verdict(catalogue, "VG-EMPRUNTEUR", age=40, projects=[{"kind": "home_loan"}])
        assert result.missing == ("projects.home_loan.loan_duration_years",)

    def test_investment_needs_every_suitability_fact(self, catalogue):
        facts = {"age": 40, "monthly_budget_eur": 200}
        partial = verdict(
            catalogue, "VG-EPARGNE-EURO", investor=investor(risk_tolerance=None), **facts
        )
        assert partial.missing == ("investor.risk_tolerance",)
        complete = verdict(catalogue, "VG-EPARGNE-EURO", investor=investor(), **facts)
        assert complete.status == "eligible"

    def test_minimum_payment_is_met_by_savings_or_by_monthly_budget(self, catalogue):
        poor_saver = investor(financial_assets_eur=100)
        by_budget = verdict(
            catalogue, "VG-EPARGNE-EURO", age=40, monthly_budget_eur=60, investor=poor_saver
        )
        neither = verdict(
            catalogue, "VG-EPARGNE-EURO", age=40, monthly_budget_eur=20, investor=poor_saver
        )
        assert by_budget.status == "eligible"
        assert neither.failures == (
            "Versement minimum : 500 € à l'ouverture ou 50 € par mois en versements programmés.",
        )

    def test_unit_linked_contract_needs_a_capacity_for_loss(self, catalogue):
        result = verdict(
            catalogue,
            "VG-EPARGNE-MULTI",
            age=40,
            monthly_budget_eur=200,
            investor=investor(loss_capacity="none"),
        )
        assert result.status == "ineligible"
        assert "perte en capital" in result.failures[0]
