"""Hard eligibility rules of a product, compiled once and evaluated against a needs profile.

Each rule answers MET, NOT_MET (with the French reason) or UNKNOWN (naming the facts it lacks).
A product is proposed only when every rule passes: a fact the profile does not give never counts
as satisfied.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from product_catalog.facts import INVESTOR_FACTS
from product_catalog.profile import NeedsProfile
from product_catalog.schema import Eligibility, MinimumPayment, Product
from product_catalog.vocabulary import (
    EMPLOYMENT_STATUS_LABELS,
    LOSS_CAPACITY_LABELS,
    LOSS_CAPACITY_ORDER,
    PET_SPECIES_LABELS,
    VEHICLE_KIND_LABELS,
)

HOUSING_SITUATION_PLURALS: dict[str, str] = {
    "tenant": "locataires",
    "owner_occupier": "propriétaires occupants",
    "landlord": "propriétaires bailleurs",
}


class Verdict(Enum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    verdict: Verdict
    reason: str = ""
    missing: tuple[str, ...] = ()


PASSED = RuleOutcome(Verdict.MET)


def failed(reason: str) -> RuleOutcome:
    return RuleOutcome(Verdict.NOT_MET, reason=reason)


def unknown(*facts: str) -> RuleOutcome:
    return RuleOutcome(Verdict.UNKNOWN, missing=facts)


Rule = Callable[[NeedsProfile], RuleOutcome]


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    status: Literal["eligible", "ineligible", "pending"]
    failures: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


ELIGIBLE = EligibilityResult("eligible")


def french_list(words: Sequence[str], last: str = "ou") -> str:
    """'a', 'a ou b', 'a, b ou c'."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def investor_fact(profile: NeedsProfile, field: str) -> object:
    """Value of an `investor.<name>` fact, None when the investor section or the fact is absent."""
    if profile.investor is None:
        return None
    value: object = getattr(profile.investor, field.removeprefix("investor."))
    return value


def _residence(profile: NeedsProfile) -> RuleOutcome:
    if profile.resides_in_france is None:
        return unknown("resides_in_france")
    if not profile.resides_in_france:
        return failed("Ce contrat est réservé aux personnes résidant en France.")
    return PASSED


def _age_rule(min_age: int | None, max_age: int | None) -> Rule:
    def check(profile: NeedsProfile) -> RuleOutcome:
        age = profile.age
        if age is None:
            return unknown("age")
        if min_age is not None and age < min_age:
            return failed(
                f"Ce contrat se souscrit à partir de {min_age} ans (vous avez {age} ans)."
            )
        if max_age is not None and age > max_age:
            return failed(f"Ce contrat se souscrit jusqu'à {max_age} ans (vous avez {age} ans).")
        return PASSED

    return check


def _housing_rule(situations: Sequence[str]) -> Rule:
    wanted = tuple(situations)
    labels = french_list([HOUSING_SITUATION_PLURALS[situation] for situation in wanted])

    def check(profile: NeedsProfile) -> RuleOutcome:
        missing: list[str] = []
        for situation in wanted:
            if situation == "landlord":
                landlord = profile.is_landlord
                if landlord:
                    return PASSED
                if landlord is None:
                    if profile.housing_status is None:
                        missing.append("housing_status")
                    missing.append("rented_out_properties")
            elif profile.housing_status is None:
                missing.append("housing_status")
            elif profile.housing_status == situation:
                return PASSED
        if missing:
            return unknown(*dict.fromkeys(missing))
        return failed(f"Ce contrat est réservé aux {labels}.")

    return check


def _vehicle_rule(kinds: Sequence[str]) -> Rule:
    wanted = frozenset(kinds)
    labels = french_list([VEHICLE_KIND_LABELS[kind] for kind in kinds])

    def check(profile: NeedsProfile) -> RuleOutcome:
        if profile.vehicles is None:
            return unknown("vehicles")
        if any(vehicle.kind in wanted for vehicle in profile.vehicles):
            return PASSED
        return failed(f"Ce contrat assure uniquement ce type de véhicule : {labels}.")

    return check


def _pet_rule(species: Sequence[str], max_age: int | None) -> Rule:
    wanted = frozenset(species)
    labels = french_list([PET_SPECIES_LABELS[kind] + "s" for kind in species], last="et")
    limit = "" if max_age is None else f" de {max_age} ans au plus à la souscription"

    def check(profile: NeedsProfile) -> RuleOutcome:
        if profile.pets is None:
            return unknown("pets")
        for pet in profile.pets:
            if pet.species in wanted and (max_age is None or pet.age_years <= max_age):
                return PASSED
        return failed(f"Ce contrat assure les {labels}{limit}.")

    return check


def _employment_rule(statuses: Sequence[str]) -> Rule:
    wanted = frozenset(statuses)
    labels = french_list([EMPLOYMENT_STATUS_LABELS[status] for status in statuses])

    def check(profile: NeedsProfile) -> RuleOutcome:
        if profile.employment_status is None:
            return unknown("employment_status")
        if profile.employment_status in wanted:
            return PASSED
        return failed(f"Ce contrat est réservé à la situation professionnelle : {labels}.")

    return check


def _children_at_school(profile: NeedsProfile) -> RuleOutcome:
    if profile.children_at_school is None:
        return unknown("children_at_school")
    if profile.children_at_school > 0:
        return PASSED
    return failed("Ce contrat couvre des enfants scolarisés.")


def _home_loan(profile: NeedsProfile) -> RuleOutcome:
    if profile.projects is None:
        return unknown("projects")
    if profile.home_loan is None:
        return failed("Ce contrat garantit un prêt immobilier.")
    return PASSED


def _loan_end_rule(max_age: int) -> Rule:
    def check(profile: NeedsProfile) -> RuleOutcome:
        loan = profile.home_loan
        if loan is None:  # the home-loan rule already reports it
            return PASSED
        missing = []
        if profile.age is None:
            missing.append("age")
        if loan.loan_duration_years is None:
            missing.append("projects.home_loan.loan_duration_years")
        if missing or profile.age is None or loan.loan_duration_years is None:
            return unknown(*missing)
        end_age = profile.age + loan.loan_duration_years
        if end_age > max_age:
            return failed(
                f"Le prêt doit être remboursé avant {max_age} ans "
                f"(vous auriez {end_age} ans à son terme)."
            )
        return PASSED

    return check


def _minimum_payment_rule(minimum: MinimumPayment) -> Rule:
    options = []
    if minimum.initial_eur is not None:
        options.append(f"{minimum.initial_eur:.0f} € à l'ouverture")
    if minimum.scheduled_monthly_eur is not None:
        options.append(f"{minimum.scheduled_monthly_eur:.0f} € par mois en versements programmés")
    reason = f"Versement minimum : {french_list(options)}."

    def check(profile: NeedsProfile) -> RuleOutcome:
        missing = []
        if minimum.initial_eur is not None:
            investor = profile.investor
            assets = None if investor is None else investor.financial_assets_eur
            if assets is None:
                missing.append("investor.financial_assets_eur")
            elif assets >= minimum.initial_eur:
                return PASSED
        if minimum.scheduled_monthly_eur is not None:
            budget = profile.monthly_budget_eur
            if budget is None:
                missing.append("monthly_budget_eur")
            elif budget >= minimum.scheduled_monthly_eur:
                return PASSED
        if missing:
            return unknown(*missing)
        return failed(reason)

    return check


def _loss_capacity_rule(minimum: str) -> Rule:
    threshold = LOSS_CAPACITY_ORDER.index(minimum)
    reason = (
        "Ce contrat comporte un risque de perte en capital : il suppose de pouvoir supporter "
        f"au moins {LOSS_CAPACITY_LABELS[minimum]}."
    )

    def check(profile: NeedsProfile) -> RuleOutcome:
        capacity = None if profile.investor is None else profile.investor.loss_capacity
        if capacity is None:
            return unknown("investor.loss_capacity")
        if LOSS_CAPACITY_ORDER.index(capacity) < threshold:
            return failed(reason)
        return PASSED

    return check


_INVESTOR_ATTRIBUTES = tuple((fact, fact.removeprefix("investor.")) for fact in INVESTOR_FACTS)


def _suitability_facts(profile: NeedsProfile) -> RuleOutcome:
    investor = profile.investor
    if investor is None:
        return unknown(*INVESTOR_FACTS)
    missing = tuple(
        fact for fact, attribute in _INVESTOR_ATTRIBUTES if getattr(investor, attribute) is None
    )
    return unknown(*missing) if missing else PASSED


def compile_rules(product: Product) -> tuple[Rule, ...]:
    """The rules of a product, cheapest and most decisive first."""
    conditions: Eligibility = product.eligibility
    rules: list[Rule] = []
    if conditions.residence_in_france:
        rules.append(_residence)
    if conditions.min_age is not None or conditions.max_age is not None:
        rules.append(_age_rule(conditions.min_age, conditions.max_age))
    if conditions.housing is not None:
        rules.append(_housing_rule(conditions.housing))
    if conditions.vehicle_kinds is not None:
        rules.append(_vehicle_rule(conditions.vehicle_kinds))
    if conditions.pet_species is not None:
        rules.append(_pet_rule(conditions.pet_species, conditions.max_pet_age_years))
    if conditions.employment_statuses is not None:
        rules.append(_employment_rule(conditions.employment_statuses))
    if conditions.requires_children_at_school:
        rules.append(_children_at_school)
    if conditions.requires_home_loan:
        rules.append(_home_loan)
    if conditions.max_age_at_loan_end is not None:
        rules.append(_loan_end_rule(conditions.max_age_at_loan_end))
    if conditions.minimum_payment is not None:
        rules.append(_minimum_payment_rule(conditions.minimum_payment))
    if conditions.min_loss_capacity is not None:
        rules.append(_loss_capacity_rule(conditions.min_loss_capacity))
    if product.is_investment:
        rules.append(_suitability_facts)
    return tuple(rules)


def evaluate(rules: Sequence[Rule], profile: NeedsProfile) -> EligibilityResult:
    """Every failure is kept (for the audit trail); unknown facts matter only without failure."""
    failures: list[str] = []
    missing: list[str] = []
    for rule in rules:
        outcome = rule(profile)
        if outcome.verdict is Verdict.NOT_MET:
            failures.append(outcome.reason)
        elif outcome.verdict is Verdict.UNKNOWN:
            missing.extend(outcome.missing)
    if failures:
        return EligibilityResult("ineligible", failures=tuple(failures))
    if missing:
        return EligibilityResult("pending", missing=tuple(dict.fromkeys(missing)))
    return ELIGIBLE
