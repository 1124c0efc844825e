"""Between the conversation's slots and the catalogue's `NeedsProfile`.

Each profile fact lives in one slot (named as the fact, `investor.` facts flattened); the engine
names its missing facts by profile path, `FACT_SLOTS` maps them to the slots the form asks.
A slot holding `SKIPPED` means the prospect did not know: the fact stays unknown and is not
asked again. `summary_lines` words the facts for the summary; `profile_fingerprint` tells whether
two profiles hold the same facts.
"""

import hashlib
import json
from typing import Any

from pydantic import ValidationError

from actions.slot_parsers import SKIPPED
from product_catalog.goals import goal_label
from product_catalog.profile import NeedsProfile
from product_catalog.vocabulary import (
    EMPLOYMENT_STATUS_LABELS,
    LOSS_CAPACITY_LABELS,
    OBJECTIVE_LABELS,
    PET_SPECIES_LABELS,
    VEHICLE_KIND_LABELS,
)

INVESTOR_SLOTS: dict[str, str] = {
    "investor_knowledge": "knowledge",
    "investor_experience": "experience",
    "annual_income_eur": "annual_income_eur",
    "financial_assets_eur": "financial_assets_eur",
    "monthly_commitments_eur": "monthly_commitments_eur",
    "investment_objectives": "objectives",
    "investment_horizon_years": "horizon_years",
    "risk_tolerance": "risk_tolerance",
    "loss_capacity": "loss_capacity",
}

# Engine fact (profile path) → slot asked by the needs-discovery form.
FACT_SLOTS: dict[str, str] = {
    "resides_in_france": "resides_in_france",
    "age": "age",
    "housing_status": "housing_status",
    "rented_out_properties": "rented_out_properties",
    "vehicles": "vehicles",
    "projects": "projects",
    "projects.home_loan.loan_duration_years": "loan_duration_years",
    "employment_status": "employment_status",
    "employer_health_plan": "employer_health_plan",
    "family_situation": "family_situation",
    "number_of_dependants": "number_of_dependants",
    "children_at_school": "children_at_school",
    "pets": "pets",
    "monthly_budget_eur": "monthly_budget_eur",
    "current_coverage": "current_coverage",
    "legal_protection": "legal_protection",
    **{f"investor.{field}": slot for slot, field in INVESTOR_SLOTS.items()},
}

# Facts stated spontaneously that the form never asks (they default to "no").
SITUATION_SLOTS = ("legal_protection", "co_subscription", "dismembered_ownership")

PROFILE_SLOTS: tuple[str, ...] = tuple(
    dict.fromkeys((*FACT_SLOTS.values(), "pet_age_years", *SITUATION_SLOTS))
)

# Facts the form never lets the prospect skip: every product depends on them.
MANDATORY_SLOTS = frozenset({"resides_in_france", "age"})


def _known(value: Any) -> bool:
    return value is not None and value != SKIPPED


def _int(value: Any) -> int:
    return round(float(value))


def profile_data(slots: dict[str, Any]) -> dict[str, Any]:
    """The JSON profile the slots describe (unknown and skipped facts left out)."""

    def get(name: str) -> Any:
        value = slots.get(name)
        return value if _known(value) else None

    data: dict[str, Any] = {}
    for name in ("resides_in_france", "employer_health_plan"):
        if get(name) is not None:
            data[name] = bool(get(name))
    for name in ("age", "number_of_dependants", "children_at_school", "rented_out_properties"):
        if get(name) is not None:
            data[name] = _int(get(name))
    for name in ("family_situation", "employment_status", "housing_status"):
        if get(name) is not None:
            data[name] = str(get(name))
    if get("monthly_budget_eur") is not None:
        data["monthly_budget_eur"] = float(get("monthly_budget_eur"))
    if get("current_coverage") is not None:
        data["current_coverage"] = list(dict.fromkeys(get("current_coverage")))
    if get("vehicles") is not None:
        data["vehicles"] = [{"kind": kind} for kind in get("vehicles")]
    if get("pets") is not None:
        age = get("pet_age_years")
        pets = []
        for species in get("pets"):
            if age is None and species in ("dog", "cat"):
                continue  # an insurable pet's age is needed: asked as pet_age_years
            pets.append({"species": species, "age_years": _int(age) if age is not None else 0})
        if pets or not [s for s in get("pets") if s in ("dog", "cat")]:
            data["pets"] = pets
    if get("projects") is not None:
        projects: list[dict[str, Any]] = []
        for kind in dict.fromkeys(get("projects")):
            project: dict[str, Any] = {"kind": kind}
            if kind == "home_loan" and get("loan_duration_years") is not None:
                project["loan_duration_years"] = _int(get("loan_duration_years"))
            projects.append(project)
        data["projects"] = projects
    investor: dict[str, Any] = {}
    for slot, field in INVESTOR_SLOTS.items():
        value = get(slot)
        if value is None:
            continue
        if field == "horizon_years":
            investor[field] = _int(value)
        elif field.endswith("_eur"):
            investor[field] = float(value)
        elif field == "objectives":
            investor[field] = list(dict.fromkeys(value))
        else:
            investor[field] = str(value)
    if investor:
        data["investor"] = investor
    if get("legal_protection") is not None:
        data["legal_protection"] = str(get("legal_protection"))
    for name in ("co_subscription", "dismembered_ownership"):
        if get(name) is not None:
            data[name] = bool(get(name))
    if get("goals"):
        data["goals"] = list(dict.fromkeys(get("goals")))
    return data


def build_profile(slots: dict[str, Any]) -> NeedsProfile:
    """The profile of the slots; raises pydantic's ValidationError on contradictory facts."""
    return NeedsProfile.model_validate(profile_data(slots))


def profile_fingerprint(profile: NeedsProfile) -> str:
    """A short digest of the profile's facts: equal for profiles holding the same facts."""
    facts = json.dumps(profile.model_dump(mode="json", exclude_none=True), sort_keys=True)
    return hashlib.sha256(facts.encode()).hexdigest()[:16]


def contradiction_message(error: ValidationError) -> str:
    """The French reason of the first contradiction pydantic found."""
    first = error.errors()[0]
    return str(first.get("msg", "ces informations ne sont pas compatibles"))


def pending_pet_age(slots: dict[str, Any]) -> bool:
    pets = slots.get("pets")
    return (
        isinstance(pets, list)
        and any(species in ("dog", "cat") for species in pets)
        and slots.get("pet_age_years") is None
    )


HOUSING_LABELS = {
    "tenant": "locataire",
    "owner_occupier": "propriétaire de votre logement",
    "landlord": "propriétaire bailleur",
    "hosted": "logé(e) gratuitement",
}
FAMILY_LABELS = {
    "single": "célibataire",
    "married": "marié(e)",
    "civil_partnership": "pacsé(e)",
    "cohabiting": "en couple",
    "divorced": "divorcé(e)",
    "widowed": "veuf ou veuve",
}
PROJECT_LABELS = {
    "home_loan": "achat immobilier avec un prêt",
    "retirement": "préparation de la retraite",
    "savings_goal": "épargne pour un projet",
    "transmission": "transmission d'un capital",
}
RISK_LABELS = {
    "very_low": "très faible",
    "low": "faible",
    "moderate": "modéré",
    "high": "élevé",
    "very_high": "très élevé",
}
LEGAL_PROTECTION_LABELS = {"none": "aucune", "curatorship": "curatelle", "guardianship": "tutelle"}
KNOWLEDGE_LABELS = {"none": "aucune", "basic": "de base", "good": "bonnes", "expert": "expertes"}


def _euros(value: float) -> str:
    return f"{value:,.0f} €".replace(",", "\u202f")


def summary_lines(slots: dict[str, Any]) -> list[str]:
    """One French line per known fact, in the order of the conversation."""
    data = profile_data(slots)
    lines: list[str] = []
    if data.get("goals"):
        lines.append("Vos objectifs : " + ", ".join(goal_label(code) for code in data["goals"]))
    if data.get("resides_in_france") is not None:
        lines.append("Résidence en France : " + ("oui" if data["resides_in_france"] else "non"))
    if "age" in data:
        lines.append(f"Âge : {data['age']} ans")
    if "housing_status" in data:
        lines.append("Logement : " + HOUSING_LABELS[data["housing_status"]])
    if "rented_out_properties" in data:
        lines.append(f"Logements mis en location : {data['rented_out_properties']}")
    if "vehicles" in data:
        kinds = [VEHICLE_KIND_LABELS[v["kind"]] for v in data["vehicles"]]
        lines.append("Véhicules : " + (", ".join(kinds) if kinds else "aucun"))
    if "projects" in data:
        labels = [PROJECT_LABELS[p["kind"]] for p in data["projects"]]
        lines.append("Projets : " + (", ".join(labels) if labels else "aucun"))
    if "loan_duration_years" in slots and _known(slots.get("loan_duration_years")):
        lines.append(f"Durée du prêt : {_int(slots['loan_duration_years'])} ans")
    if "employment_status" in data:
        lines.append(
            "Situation professionnelle : " + EMPLOYMENT_STATUS_LABELS[data["employment_status"]]
        )
    if data.get("employer_health_plan") is not None:
        lines.append(
            "Mutuelle d'entreprise : " + ("oui" if data["employer_health_plan"] else "non")
        )
    if "family_situation" in data:
        lines.append("Situation familiale : " + FAMILY_LABELS[data["family_situation"]])
    if "number_of_dependants" in data:
        lines.append(f"Personnes à charge : {data['number_of_dependants']}")
    if "children_at_school" in data:
        lines.append(f"Enfants scolarisés : {data['children_at_school']}")
    if _known(slots.get("pets")):
        species = [PET_SPECIES_LABELS[s] for s in slots["pets"]]
        lines.append("Animaux : " + (", ".join(species) if species else "aucun"))
    investor = data.get("investor", {})
    if "knowledge" in investor:
        lines.append("Connaissances financières : " + KNOWLEDGE_LABELS[investor["knowledge"]])
    if "annual_income_eur" in investor:
        lines.append("Revenus annuels du foyer : " + _euros(investor["annual_income_eur"]))
    if "financial_assets_eur" in investor:
        lines.append("Épargne disponible : " + _euros(investor["financial_assets_eur"]))
    if "monthly_commitments_eur" in investor:
        lines.append("Charges mensuelles : " + _euros(investor["monthly_commitments_eur"]))
    if "objectives" in investor:
        lines.append(
            "Objectifs : " + ", ".join(OBJECTIVE_LABELS[o] for o in investor["objectives"])
        )
    if "horizon_years" in investor:
        lines.append(f"Horizon de placement : {investor['horizon_years']} ans")
    if "risk_tolerance" in investor:
        lines.append("Risque accepté : " + RISK_LABELS[investor["risk_tolerance"]])
    if "loss_capacity" in investor:
        lines.append("Perte supportable : " + LOSS_CAPACITY_LABELS[investor["loss_capacity"]])
    if "monthly_budget_eur" in data:
        lines.append("Budget mensuel : " + _euros(data["monthly_budget_eur"]))
    if data.get("legal_protection") is not None:
        lines.append(
            "Mesure de protection juridique : " + LEGAL_PROTECTION_LABELS[data["legal_protection"]]
        )
    if "current_coverage" in data:
        lines.append("Contrats déjà détenus : " + (", ".join(data["current_coverage"]) or "aucun"))
    return lines
