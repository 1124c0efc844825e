"""The needs profile in French for the advisor console: one line per fact, as a person reads it.

A lead keeps the profile as the dialogue dumped it (codes: `married`, `[{"kind": "car"}]`). The
console shows "Situation familiale : Marié(e)", "Véhicules : Voiture, scooter", "Animaux : Chien
de 3 ans", "Budget mensuel : 60 € par mois". Field names and the labels the catalogue lacks are
data (`profile_wording.yml`); the others are the catalogue's own. A code without a label (a value
added since) is shown as it is, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from product_catalog.categories import CATEGORIES
from product_catalog.goals import goals
from product_catalog.pcs import PCS_BY_CODE
from product_catalog.vocabulary import (
    EMPLOYMENT_STATUS_LABELS,
    HOUSING_SITUATION_LABELS,
    LOSS_CAPACITY_LABELS,
    OBJECTIVE_LABELS,
    PET_SPECIES_LABELS,
    VEHICLE_KIND_LABELS,
)

WORDING_FILE = Path(__file__).resolve().with_name("profile_wording.yml")
NONE = "Aucun"
YES, NO = "Oui", "Non"
# Amounts per month; the other `_eur` fields are totals.
MONTHLY = frozenset({"monthly_budget_eur", "monthly_commitments_eur"})


@dataclass(frozen=True)
class ProfileLine:
    label: str
    value: str


@dataclass(frozen=True)
class ProfileWording:
    fields: dict[str, str]  # NeedsProfile field → its French name
    investor_fields: dict[str, str]
    project_fields: dict[str, str]
    values: dict[
        str, dict[str, str]
    ]  # field → {code: label}; `vehicles`, `pets`, `projects`: kinds


@cache
def wording() -> ProfileWording:
    """The console's wording file with the catalogue's labels (read once)."""
    with WORDING_FILE.open(encoding="utf-8") as file:
        raw = yaml.safe_load(file)
    catalogue: dict[str, Mapping[str, str]] = {
        "employment_status": EMPLOYMENT_STATUS_LABELS,
        "housing_status": HOUSING_SITUATION_LABELS,
        "vehicles": VEHICLE_KIND_LABELS,
        "pets": PET_SPECIES_LABELS,
        "objectives": OBJECTIVE_LABELS,
        "loss_capacity": LOSS_CAPACITY_LABELS,
        "current_coverage": {category.code: category.label for category in CATEGORIES},
        "pcs_code": {code: f"{pcs.label} ({code})" for code, pcs in PCS_BY_CODE.items()},
        "goals": {code: goal.label for code, goal in goals().items()},
    }
    values = {field: dict(labels) for field, labels in raw["values"].items()}
    for field, labels in catalogue.items():
        values[field] = {**labels, **values.get(field, {})}
    return ProfileWording(
        fields=dict(raw["fields"]),
        investor_fields=dict(raw["investor_fields"]),
        project_fields=dict(raw["project_fields"]),
        values=values,
    )


# A fact said in words, or a code the wording has no label for, shown as it is.
Said = tuple[str, bool]


def _enumeration(items: list[Said]) -> str:
    """ "Voiture, scooter": the first label capitalised, the others as inside a sentence ("PER"
    stays); codes as they are."""
    if not items:
        return NONE
    words = []
    for position, (text, known) in enumerate(items):
        if known and position == 0:
            text = text[:1].upper() + text[1:]
        elif known and text[1:2].islower():
            text = text[:1].lower() + text[1:]
        words.append(text)
    return ", ".join(words)


def euros(amount: float, monthly: bool = False) -> str:
    """2000 → "2 000 €", 59.9 → "59,90 €" (French separators, no break inside the amount)."""
    whole = float(amount).is_integer()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    text = text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"
    return text + (" par mois" if monthly else "")


def years(count: int) -> str:
    return "moins d'un an" if count == 0 else f"{count} an" + ("s" if count > 1 else "")


def _code(field: str, code: Any) -> Said:
    label = wording().values.get(field, {}).get(str(code))
    return (label, True) if label is not None else (str(code), False)


def _pet(pet: Any) -> Said:
    if not isinstance(pet, Mapping):
        return str(pet), False
    species, known = _code("pets", pet.get("species"))
    age = pet.get("age_years")
    if isinstance(age, int) and not isinstance(age, bool):
        species += f" de {years(age)}"
    return species, known


def _project(project: Any) -> Said:
    if not isinstance(project, Mapping):
        return str(project), False
    kind, known = _code("projects", project.get("kind"))
    details = [
        f"{wording().project_fields.get(key, key)} {_value(key, value)}"
        for key, value in project.items()
        if key != "kind" and value is not None
    ]
    return (f"{kind} ({', '.join(details)})" if details else kind), known


def _value(field: str, value: Any) -> str:
    """One fact in French."""
    if isinstance(value, bool):
        return YES if value else NO
    if field == "vehicles" and isinstance(value, list):
        kinds = [v.get("kind") if isinstance(v, Mapping) else v for v in value]
        return _enumeration([_code(field, kind) for kind in kinds])
    if field == "pets" and isinstance(value, list):
        return _enumeration([_pet(pet) for pet in value])
    if field == "projects" and isinstance(value, list):
        return _enumeration([_project(project) for project in value])
    if isinstance(value, list):
        return _enumeration([_code(field, code) for code in value])
    if isinstance(value, (int, float)):
        if field.endswith("_eur"):
            return euros(value, monthly=field in MONTHLY)
        if field == "age" or field.endswith("_years"):
            return years(int(value))
        return str(value)
    if isinstance(value, str):
        return _enumeration([_code(field, value)])
    return str(value)


def profile_lines(profile: Mapping[str, Any]) -> list[ProfileLine]:
    """The known facts of a lead's profile, in the console's order, each named and said in French;
    the investor's answers last. A field the wording does not know is shown as it is."""
    names = wording()
    order = [*names.fields, *(field for field in profile if field not in names.fields)]
    lines: list[ProfileLine] = []
    for field in order:
        value = profile.get(field)
        if value is None:
            continue
        if field == "investor" and isinstance(value, Mapping):
            lines += [
                ProfileLine(names.investor_fields.get(key, key), _value(key, answer))
                for key, answer in _ordered(value, names.investor_fields)
            ]
            continue
        lines.append(ProfileLine(names.fields.get(field, field), _value(field, value)))
    return lines


def _ordered(values: Mapping[str, Any], known: Mapping[str, str]) -> list[tuple[str, Any]]:
    keys = [*(key for key in known if key in values), *(key for key in values if key not in known)]
    return [(key, values[key]) for key in keys if values[key] is not None]
