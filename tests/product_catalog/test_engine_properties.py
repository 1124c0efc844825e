"""Properties of the engine over random profiles (hypothesis).

The eligibility oracle below is written from the product model alone, independently of
`product_catalog.eligibility`: the engine must never propose a product the oracle cannot prove
eligible, nor an investment product without every suitability fact.
"""

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from product_catalog.engine import SuitabilityEngine, is_unknown
from product_catalog.loader import load_catalogue
from product_catalog.pcs import PCS_BY_CODE
from product_catalog.profile import HomeLoanProject, NeedsProfile
from product_catalog.schema import Product
from product_catalog.vocabulary import LOSS_CAPACITY_ORDER

pytestmark = pytest.mark.unit

ENGINE = SuitabilityEngine(load_catalogue())
INVESTOR_FIELDS = (
    "knowledge",
    "experience",
    "annual_income_eur",
    "financial_assets_eur",
    "monthly_commitments_eur",
    "objectives",
    "horizon_years",
    "risk_tolerance",
    "loss_capacity",
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Known or unknown, evenly."""
    return st.one_of(st.none(), strategy)


def usually(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly known, so that many draws get past the eligibility rules."""
    return st.one_of(strategy, strategy, strategy, st.none())


money = st.floats(min_value=0, max_value=500_000, allow_nan=False, allow_infinity=False)
projects = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"kind": st.just("home_loan")},
            optional={
                "loan_amount_eur": money,
                "loan_duration_years": st.integers(1, 40),
            },
        ),
        st.just({"kind": "retirement"}),
        st.fixed_dictionaries(
            {"kind": st.just("savings_goal")}, optional={"horizon_years": st.integers(0, 60)}
        ),
        st.just({"kind": "transmission"}),
    ),
    max_size=3,
)
INVESTOR_FACTS: dict[str, st.SearchStrategy[Any]] = {
    "knowledge": st.sampled_from(["none", "basic", "good", "expert"]),
    "experience": st.sampled_from(
        ["none", "savings_accounts", "euro_funds", "unit_linked", "active_investor"]
    ),
    "annual_income_eur": money,
    "financial_assets_eur": money,
    "monthly_commitments_eur": st.floats(0, 10_000),
    "objectives": st.lists(
        st.sampled_from(["capital_preservation", "income", "growth", "retirement", "transmission"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    "horizon_years": st.integers(0, 60),
    "risk_tolerance": st.sampled_from(["very_low", "low", "moderate", "high", "very_high"]),
    "loss_capacity": st.sampled_from(LOSS_CAPACITY_ORDER),
}
# Half complete (investment products can then be proposed), half with facts missing.
investor = st.one_of(
    st.fixed_dictionaries(INVESTOR_FACTS),
    st.fixed_dictionaries({}, optional=INVESTOR_FACTS),
)


@st.composite
def investor_missing_one_fact(draw: st.DrawFn) -> dict[str, Any]:
    complete = draw(st.fixed_dictionaries(INVESTOR_FACTS))
    del complete[draw(st.sampled_from(sorted(complete)))]
    return complete


@st.composite
def profiles(draw: st.DrawFn, investing: bool = False) -> NeedsProfile:
    """Random profiles; `investing` ones have a savings or retirement project in France."""
    dependants = draw(maybe(st.integers(0, 6)))
    data: dict[str, Any] = {
        "age": draw(usually(st.one_of(st.integers(18, 85), st.integers(0, 120)))),
        "resides_in_france": draw(st.sampled_from([True, True, True, True, False, None])),
        "family_situation": draw(
            maybe(
                st.sampled_from(
                    ["single", "married", "civil_partnership", "cohabiting", "divorced", "widowed"]
                )
            )
        ),
        "number_of_dependants": dependants,
        "children_at_school": draw(maybe(st.integers(0, dependants or 0))),
        "employment_status": draw(
            maybe(
                st.sampled_from(["employee", "self_employed", "retired", "student", "unemployed"])
            )
        ),
        "pcs_code": draw(maybe(st.sampled_from(sorted(PCS_BY_CODE)))),
        "housing_status": draw(
            maybe(st.sampled_from(["tenant", "owner_occupier", "landlord", "hosted"]))
        ),
        "rented_out_properties": draw(maybe(st.integers(0, 4))),
        "projects": draw(usually(projects)),
        "vehicles": draw(
            maybe(
                st.lists(
                    st.builds(
                        dict,
                        kind=st.sampled_from(
                            ["car", "motorcycle", "scooter", "moped", "motorhome"]
                        ),
                    ),
                    max_size=3,
                )
            )
        ),
        "pets": draw(
            maybe(
                st.lists(
                    st.builds(
                        dict,
                        species=st.sampled_from(["dog", "cat", "other"]),
                        age_years=st.integers(0, 20),
                    ),
                    max_size=3,
                )
            )
        ),
        "current_coverage": draw(
            maybe(st.lists(st.sampled_from(["auto", "sante", "habitation", "gav"]), unique=True))
        ),
        "employer_health_plan": draw(maybe(st.booleans())),
        "monthly_budget_eur": draw(usually(st.floats(0, 2_000))),
        "investor": draw(usually(investor)),
        "legal_protection": draw(st.sampled_from(["none", "none", "curatorship", "guardianship"])),
        "co_subscription": draw(st.booleans()),
        "dismembered_ownership": draw(st.booleans()),
    }
    if investing:
        data["resides_in_france"] = True
        data["age"] = draw(st.integers(18, 70))
        data["projects"] = [{"kind": draw(st.sampled_from(["savings_goal", "retirement"]))}]
        data["investor"] = draw(
            st.one_of(st.fixed_dictionaries(INVESTOR_FACTS), investor_missing_one_fact())
        )
    try:
        return NeedsProfile.model_validate(data)
    except ValidationError:
        assume(False)  # a contradictory draw: the model rightly refuses it
        raise


def provably_eligible(product: Product, profile: NeedsProfile) -> bool:
    """True only when every condition of the product holds on facts the profile gives."""
    rules = product.eligibility
    age = profile.age
    if rules.residence_in_france and profile.resides_in_france is not True:
        return False
    if rules.min_age is not None and (age is None or age < rules.min_age):
        return False
    if rules.max_age is not None and (age is None or age > rules.max_age):
        return False
    if rules.housing is not None:
        landlord = profile.housing_status == "landlord" or (profile.rented_out_properties or 0) > 0
        if not any(
            landlord if situation == "landlord" else profile.housing_status == situation
            for situation in rules.housing
        ):
            return False
    if rules.vehicle_kinds is not None and not any(
        vehicle.kind in rules.vehicle_kinds for vehicle in profile.vehicles or []
    ):
        return False
    if rules.pet_species is not None and not any(
        pet.species in rules.pet_species
        and (rules.max_pet_age_years is None or pet.age_years <= rules.max_pet_age_years)
        for pet in profile.pets or []
    ):
        return False
    if rules.employment_statuses is not None and (
        profile.employment_status not in rules.employment_statuses
    ):
        return False
    if rules.requires_children_at_school and not (profile.children_at_school or 0) > 0:
        return False
    loans = [p for p in profile.projects or [] if isinstance(p, HomeLoanProject)]
    if rules.requires_home_loan and not loans:
        return False
    if rules.max_age_at_loan_end is not None:
        duration = loans[0].loan_duration_years if loans else None
        if age is None or duration is None or age + duration > rules.max_age_at_loan_end:
            return False
    facts = profile.investor
    if rules.minimum_payment is not None:
        minimum = rules.minimum_payment
        by_savings = (
            minimum.initial_eur is not None
            and facts is not None
            and facts.financial_assets_eur is not None
            and facts.financial_assets_eur >= minimum.initial_eur
        )
        by_budget = (
            minimum.scheduled_monthly_eur is not None
            and profile.monthly_budget_eur is not None
            and profile.monthly_budget_eur >= minimum.scheduled_monthly_eur
        )
        if not (by_savings or by_budget):
            return False
    if rules.min_loss_capacity is not None and (
        facts is None
        or facts.loss_capacity is None
        or LOSS_CAPACITY_ORDER.index(facts.loss_capacity)
        < LOSS_CAPACITY_ORDER.index(rules.min_loss_capacity)
    ):
        return False
    if product.category in ("epargne", "retraite"):
        return has_every_suitability_fact(profile)
    return True


def has_every_suitability_fact(profile: NeedsProfile) -> bool:
    facts = profile.investor
    return facts is not None and all(getattr(facts, name) is not None for name in INVESTOR_FIELDS)


PROPERTY_SETTINGS = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class TestEngineProperties:
    @PROPERTY_SETTINGS
    @given(profiles())
    def test_never_proposes_an_ineligible_product(self, profile: NeedsProfile):
        for item in ENGINE.recommend(profile).items:
            assert provably_eligible(ENGINE.catalogue.get(item.code), profile), item.code

    @PROPERTY_SETTINGS
    @given(profiles(investing=True))
    def test_never_proposes_an_investment_without_the_suitability_facts(self, profile):
        result = ENGINE.recommend(profile)
        investments = [i for i in result.items if i.category in ("epargne", "retraite")]
        if not has_every_suitability_fact(profile):
            assert investments == []
        for item in investments:
            assert provably_eligible(ENGINE.catalogue.get(item.code), profile), item.code

    @PROPERTY_SETTINGS
    @given(profiles())
    def test_same_profile_same_output(self, profile: NeedsProfile):
        copy = NeedsProfile.model_validate(profile.model_dump())
        assert (
            ENGINE.recommend(copy).model_dump_json() == ENGINE.recommend(profile).model_dump_json()
        )

    @PROPERTY_SETTINGS
    @given(profiles())
    def test_result_is_well_formed(self, profile: NeedsProfile):
        result = ENGINE.recommend(profile)
        keys = [(-item.score, item.code) for item in result.items]
        assert keys == sorted(keys)
        assert len({item.code for item in result.items}) == len(result.items)
        assert all(item.reasons and item.score >= 1 for item in result.items)
        assert {entry.code for entry in result.excluded}.isdisjoint(
            item.code for item in result.items
        )
        assert result.advisor_required == bool(result.advisor_reasons)

    @PROPERTY_SETTINGS
    @given(profiles())
    def test_only_unknown_facts_are_asked(self, profile: NeedsProfile):
        for fact in ENGINE.recommend(profile).missing_facts:
            assert is_unknown(profile, fact.field), fact.field
            assert fact.affects
