"""The suitability engine: ranking, reasons, warnings, missing facts and advisor hand-over."""

import pytest

from product_catalog.engine import RecommendationResult, SuitabilityEngine
from product_catalog.profile import NeedsProfile
from tests.product_catalog.factories import investor, profile

pytestmark = pytest.mark.unit

TENANT_DRIVER = {
    "age": 30,
    "housing_status": "tenant",
    "vehicles": [{"kind": "car"}],
    "employment_status": "employee",
    "employer_health_plan": True,
    "family_situation": "single",
    "number_of_dependants": 0,
    "projects": [],
    "pets": [],
    "current_coverage": [],
    "monthly_budget_eur": 150,
}

SAVER = {
    "age": 40,
    "employment_status": "employee",
    "employer_health_plan": True,
    "projects": [{"kind": "savings_goal", "horizon_years": 10}],
    "monthly_budget_eur": 300,
}


def codes(result: RecommendationResult) -> list[str]:
    return [item.code for item in result.items]


def item(result: RecommendationResult, code: str):
    return next(item for item in result.items if item.code == code)


def missing(result: RecommendationResult) -> dict[str, object]:
    return {fact.field: fact for fact in result.missing_facts}


class TestRanking:
    def test_legal_obligations_come_first(self, engine: SuitabilityEngine):
        result = engine.recommend(profile(**TENANT_DRIVER))
        assert codes(result)[:2] == ["VG-AUTO", "VG-HAB-LOC"]

    def test_items_are_ordered_by_score_then_code(self, engine: SuitabilityEngine):
        result = engine.recommend(
            profile(**{**TENANT_DRIVER, "pets": [{"species": "dog", "age_years": 2}]})
        )
        keys = [(-item.score, item.code) for item in result.items]
        assert keys == sorted(keys)

    def test_every_item_says_which_need_it_answers(self, engine: SuitabilityEngine):
        result = engine.recommend(profile(**TENANT_DRIVER))
        assert all(item.reasons for item in result.items)
        assert "locataire" in item(result, "VG-HAB-LOC").reasons[0]

    def test_same_profile_same_result(self, engine: SuitabilityEngine):
        first = engine.recommend(profile(**TENANT_DRIVER))
        reordered = NeedsProfile.model_validate(
            dict(reversed(list({"resides_in_france": True, **TENANT_DRIVER}.items())))
        )
        assert engine.recommend(reordered) == first
        assert (
            engine.recommend(profile(**TENANT_DRIVER)).model_dump_json() == first.model_dump_json()
        )

    def test_result_quotes_the_catalogue_version(self, engine: SuitabilityEngine, catalogue):
        assert engine.recommend(profile()).catalogue_version == catalogue.version

    def test_self_employed_gets_the_self_employed_provident_plan_first(self, engine):
        result = engine.recommend(
            profile(age=38, employment_status="self_employed", number_of_dependants=1)
        )
        prevoyance = [item.code for item in result.items if item.category == "prevoyance"]
        assert prevoyance[0] == "VG-PREV-TNS"
        assert "VG-PREV-SALARIE" not in codes(result)

    def test_senior_health_plan_outranks_the_standard_one_at_60(self, engine):
        result = engine.recommend(profile(age=60, employment_status="retired"))
        sante = [item.code for item in result.items if item.category == "sante"]
        assert sante == ["VG-SANTE-SENIOR", "VG-SANTE"]

    def test_employer_health_plan_removes_the_health_need(self, engine):
        covered = engine.recommend(
            profile(age=30, employment_status="employee", employer_health_plan=True)
        )
        assert not any(item.category == "sante" for item in covered.items)

    def test_existing_cover_lowers_the_score_with_a_warning(self, engine):
        fresh = item(engine.recommend(profile(**TENANT_DRIVER)), "VG-AUTO")
        covered_facts = {**TENANT_DRIVER, "current_coverage": ["auto"]}
        covered = item(engine.recommend(profile(**covered_facts)), "VG-AUTO")
        assert covered.score < fresh.score
        assert "déjà un contrat « Automobile »" in covered.warnings[0]

    def test_a_price_above_the_budget_is_flagged(self, engine):
        result = engine.recommend(profile(**{**TENANT_DRIVER, "monthly_budget_eur": 20}))
        assert any("dépasse le budget" in warning for warning in item(result, "VG-AUTO").warnings)
        assert not item(result, "VG-HAB-LOC").warnings


class TestInvestmentProducts:
    def test_never_proposed_without_the_suitability_facts(self, engine):
        result = engine.recommend(profile(**SAVER))
        assert not any(item.category == "epargne" for item in result.items)
        facts = missing(result)
        assert facts["investor.risk_tolerance"].kind == "suitability"
        # At 40, an employee also has a (lighter) retirement need: the PER waits for the same facts.
        assert facts["investor.risk_tolerance"].affects == [
            "VG-EPARGNE-EURO",
            "VG-EPARGNE-MULTI",
            "VG-PER",
        ]
        assert any("profil d'investisseur" in warning for warning in result.warnings)

    def test_one_missing_suitability_fact_still_blocks(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor(loss_capacity=None)))
        assert not any(item.category == "epargne" for item in result.items)
        suitability = [fact.field for fact in result.missing_facts if fact.kind == "suitability"]
        assert suitability == ["investor.loss_capacity"]

    def test_proposed_once_the_facts_are_known(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor()))
        assert {"VG-EPARGNE-EURO", "VG-EPARGNE-MULTI"} <= set(codes(result))

    def test_low_risk_tolerance_warns_about_unit_linked_funds(self, engine):
        cautious = investor(risk_tolerance="low", objectives=["capital_preservation", "growth"])
        result = engine.recommend(profile(**SAVER, investor=cautious))
        multi = item(result, "VG-EPARGNE-MULTI")
        assert any("unités de compte" in warning for warning in multi.warnings)
        assert item(result, "VG-EPARGNE-EURO").score > multi.score

    def test_high_risk_tolerance_and_long_horizon_favour_unit_linked_funds(self, engine):
        bold = investor(risk_tolerance="high", horizon_years=15, objectives=["growth"])
        result = engine.recommend(profile(**SAVER, investor=bold))
        assert item(result, "VG-EPARGNE-MULTI").score > item(result, "VG-EPARGNE-EURO").score
        assert any(
            "niveau de risque" in reason for reason in item(result, "VG-EPARGNE-MULTI").reasons
        )

    def test_short_horizon_is_flagged(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor(horizon_years=3)))
        warnings = item(result, "VG-EPARGNE-MULTI").warnings
        assert (
            "La durée de placement recommandée est d'au moins 8 ans ; vous envisagez 3 ans."
            in warnings
        )

    def test_no_matching_objective_is_flagged(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor(objectives=["retirement"])))
        assert any(
            "aucun des objectifs" in warning for warning in item(result, "VG-EPARGNE-EURO").warnings
        )

    def test_no_knowledge_of_unit_linked_funds_is_flagged(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor(knowledge="none")))
        assert any("conseiller" in warning for warning in item(result, "VG-EPARGNE-MULTI").warnings)

    def test_no_capacity_for_loss_excludes_unit_linked_funds_with_the_reason(self, engine):
        result = engine.recommend(profile(**SAVER, investor=investor(loss_capacity="none")))
        assert "VG-EPARGNE-MULTI" not in codes(result)
        assert "VG-EPARGNE-EURO" in codes(result)
        excluded = {entry.code: entry for entry in result.excluded}
        assert "perte en capital" in excluded["VG-EPARGNE-MULTI"].reasons[0]


class TestWarningsAndExclusions:
    def test_need_no_product_covers_is_flagged(self, engine):
        result = engine.recommend(profile(age=35, pets=[{"species": "other", "age_years": 2}]))
        assert any("frais vétérinaires" in warning for warning in result.warnings)
        assert [entry.code for entry in result.excluded] == ["VG-ANIMAUX"]

    def test_too_old_for_every_funeral_plan_is_flagged(self, engine):
        result = engine.recommend(profile(age=90, employment_status="retired"))
        assert any("obsèques" in warning for warning in result.warnings)

    def test_excluded_lists_only_products_answering_a_need(self, engine):
        result = engine.recommend(profile(**TENANT_DRIVER))
        excluded = {entry.code for entry in result.excluded}
        assert "VG-CAMPING-CAR" not in excluded
        assert excluded.isdisjoint(codes(result))

    def test_residence_abroad_proposes_nothing_and_says_why(self, engine):
        result = engine.recommend(profile(**{**TENANT_DRIVER, "resides_in_france": False}))
        assert result.items == []
        assert result.warnings == [
            "Les contrats de Vergemont Assurances sont réservés aux personnes résidant en France."
        ]
        assert result.advisor_required


class TestAdvisorRequired:
    @pytest.mark.parametrize(
        ("facts", "words"),
        [
            ({"age": 17}, "mineur"),
            ({"age": 40, "legal_protection": "curatorship"}, "curatelle"),
            ({"age": 80, "legal_protection": "guardianship"}, "tutelle"),
            ({"age": 40, "co_subscription": True}, "deux"),
            ({"age": 60, "dismembered_ownership": True}, "démembrement"),
            ({"age": 40, "resides_in_france": False}, "hors de France"),
        ],
    )
    def test_special_situation_requires_an_advisor(self, engine, facts, words):
        result = engine.recommend(profile(**facts))
        assert result.advisor_required
        assert words in result.advisor_reasons[0]

    def test_ordinary_adult_needs_no_advisor(self, engine):
        result = engine.recommend(profile(**TENANT_DRIVER))
        assert not result.advisor_required
        assert result.advisor_reasons == []

    def test_minor_driver_may_be_offered_a_contract_through_an_advisor(self, engine):
        result = engine.recommend(profile(age=17, vehicles=[{"kind": "moped"}]))
        assert codes(result) == ["VG-DEUX-ROUES"]
        assert result.advisor_required


class TestMissingFacts:
    def test_empty_profile_asks_what_reveals_needs(self, engine):
        result = engine.recommend(NeedsProfile())
        assert result.items == []
        assert {fact.kind for fact in result.missing_facts} == {"needs"}
        assert {"age", "housing_status", "vehicles", "projects"} <= set(missing(result))

    def test_facts_blocking_a_relevant_product_come_first(self, engine):
        result = engine.recommend(NeedsProfile(housing_status="tenant"))
        blocking = [fact for fact in result.missing_facts if fact.kind == "eligibility"]
        assert result.missing_facts[: len(blocking)] == blocking
        assert {fact.field for fact in blocking} == {"age", "resides_in_france"}
        assert all("VG-HAB-LOC" in fact.affects for fact in blocking)

    def test_each_fact_comes_with_a_french_question(self, engine):
        result = engine.recommend(NeedsProfile())
        assert all(fact.question_fr.endswith("?") for fact in result.missing_facts)

    def test_known_facts_are_not_asked_again(self, engine):
        result = engine.recommend(profile(**TENANT_DRIVER))
        assert set(missing(result)).isdisjoint(TENANT_DRIVER)

    def test_unknown_employer_plan_is_asked_for_an_employee(self, engine):
        result = engine.recommend(profile(age=30, employment_status="employee"))
        # The seniors' plan is out of reach at 30, so the question only concerns the other one.
        assert missing(result)["employer_health_plan"].affects == ["VG-SANTE"]

    def test_ranking_facts_come_last(self, engine):
        result = engine.recommend(profile(age=30, vehicles=[{"kind": "car"}]))
        kinds = [fact.kind for fact in result.missing_facts]
        assert kinds[-1] == "ranking"
        assert kinds == sorted(kinds, key=["eligibility", "needs", "suitability", "ranking"].index)
