"""Which missing fact is worth a question (product_catalog/questions.py)."""

import pytest

from product_catalog.engine import MissingFact, SuitabilityEngine
from product_catalog.facts import FACTS
from product_catalog.loader import load_catalogue
from product_catalog.profile import NeedsProfile, Vehicle
from product_catalog.questions import probe_values, top_codes, worth_asking


@pytest.fixture(scope="module")
def engine() -> SuitabilityEngine:
    return SuitabilityEngine(load_catalogue())


def fact(field: str, kind: str = "needs") -> MissingFact:
    return MissingFact(field=field, question_fr="?", kind=kind, affects=[])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "field", [f.field for f in FACTS if "." not in f.field and f.field != "age"]
)
def test_every_top_level_fact_has_answers_to_probe(engine, field):
    values = probe_values(engine, field)
    assert len(values) >= 2
    for value in values:  # each probe is a valid profile
        NeedsProfile(**{field: value})


def test_budgets_straddle_every_starting_price(engine):
    budgets = probe_values(engine, "monthly_budget_eur")
    minimums = {
        p.price.monthly_minimum_eur
        for p in engine.catalogue.products
        if p.price.monthly_minimum_eur is not None
    }
    for minimum in minimums:
        assert any(b < minimum for b in budgets)
    assert max(budgets) > max(minimums)


def test_a_fact_that_can_reveal_a_need_is_worth_asking(engine):
    profile = NeedsProfile(resides_in_france=True, age=40)
    result = engine.recommend(profile)
    assert worth_asking(engine, profile, fact("vehicles"), top_codes(result))


def test_a_fact_that_changes_nothing_shown_is_not_worth_asking(engine):
    # Focused on the car products: whether the person has pets cannot change them.
    profile = NeedsProfile(resides_in_france=True, age=40, vehicles=[Vehicle(kind="car")])
    focus = engine.goal_products(["vehicle_insurance"])
    result = engine.recommend(profile)
    assert not worth_asking(engine, profile, fact("pets"), top_codes(result, focus), focus)


def test_eligibility_and_suitability_facts_are_always_worth_asking(engine):
    profile = NeedsProfile(resides_in_france=True, age=40)
    baseline = top_codes(engine.recommend(profile))
    assert worth_asking(engine, profile, fact("legal_protection", "eligibility"), baseline)
    assert worth_asking(engine, profile, fact("investor.knowledge", "suitability"), baseline)


def test_goal_products_answer_the_goal(engine):
    codes = engine.goal_products(["pet_costs"])
    categories = {p.category for p in engine.catalogue.products if p.code in codes}
    assert categories == {"animaux"}
