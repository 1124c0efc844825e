"""The needs profile in French in the advisor console (webapp/console/profile.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

import pytest

from product_catalog.categories import CATEGORIES
from product_catalog.goals import goals
from product_catalog.pcs import PCS_BY_CODE
from product_catalog.profile import InvestorProfile, NeedsProfile, Project
from tests.webapp.helpers import FULL_PROFILE
from webapp.console.profile import ProfileLine, euros, profile_lines, wording

pytestmark = pytest.mark.unit

EXPECTED = [
    ("Âge", "38 ans"),
    ("Réside en France", "Oui"),
    ("Situation familiale", "Marié(e)"),
    ("Personnes à charge", "2"),
    ("Enfants scolarisés", "1"),
    ("Situation professionnelle", "Salarié(e)"),
    ("Catégorie socioprofessionnelle", "Cadres administratifs et commerciaux d'entreprise (37)"),
    ("Logement", "Propriétaire occupant"),
    ("Logements mis en location", "1"),
    ("Véhicules", "Voiture, scooter"),
    ("Animaux", "Chien de 3 ans, chat de moins d'un an"),
    (
        "Projets",
        "Prêt immobilier (montant 200 000 €, durée 20 ans), "
        "épargne pour un projet (horizon 5 ans, objectif 10 000 €)",
    ),
    (
        "Objectifs exprimés",
        "Protéger votre famille, couvrir les frais de vétérinaire de vos animaux",
    ),
    ("Contrats déjà détenus", "Automobile, habitation"),
    ("Mutuelle d'entreprise obligatoire", "Oui"),
    ("Budget mensuel", "150 € par mois"),
    ("Mesure de protection", "Aucune"),
    ("Souscription à deux", "Non"),
    ("Démembrement de propriété", "Non"),
    ("Connaissances financières", "De base"),
    ("Expérience des placements", "Fonds en euros"),
    ("Revenus annuels du foyer", "35 000 €"),
    ("Épargne disponible", "2 000 €"),
    ("Crédits et charges fixes", "700 € par mois"),
    ("Objectifs de placement", "Préserver votre capital, préparer votre retraite"),
    ("Horizon de placement", "10 ans"),
    ("Risque accepté", "Faible"),
    ("Perte supportable", "Une perte limitée"),
]


def plain(text: str) -> str:
    """The page's no-break spaces as plain ones, for comparing with readable expectations."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def said(profile: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line.label, plain(line.value)) for line in profile_lines(profile)]


def codes_in(
    schema: dict[str, Any], defs: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every (path, code) of the profile's JSON schema: enums and constants, nested included;
    `[]` in a path stands for a list's item."""
    if "$ref" in schema:
        yield from codes_in(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            yield from codes_in(branch, defs, path)
    for code in schema.get("enum", []):
        yield path, code
    if "const" in schema:
        yield path, schema["const"]
    if schema.get("type") == "array" and "items" in schema:
        yield from codes_in(schema["items"], defs, (*path, "[]"))
    for name, field in schema.get("properties", {}).items():
        yield from codes_in(field, defs, (*path, name))


def profile_with(path: tuple[str, ...], value: Any) -> Any:
    """{"vehicles": [{"kind": "car"}]} from (("vehicles", "[]", "kind"), "car")."""
    if not path:
        return value
    head, *rest = path
    inner = profile_with(tuple(rest), value)
    return [inner] if head == "[]" else {head: inner}


SCHEMA = NeedsProfile.model_json_schema()
SCHEMA_CODES = sorted(set(codes_in(SCHEMA, SCHEMA.get("$defs", {}))))


class TestProfileLines:
    def test_a_whole_profile_reads_as_french(self) -> None:
        NeedsProfile.model_validate(FULL_PROFILE)  # a profile the dialogue could have built
        assert said(FULL_PROFILE) == EXPECTED

    def test_every_field_of_the_profile_has_a_french_name(self) -> None:
        names = wording()
        assert set(NeedsProfile.model_fields) - set(names.fields) == set()
        assert set(InvestorProfile.model_fields) - set(names.investor_fields) == set()
        project_models = get_args(get_args(Project)[0])
        assert project_models, "the kinds of project"
        for model in project_models:
            assert set(model.model_fields) - {"kind"} - set(names.project_fields) == set(), model

    @pytest.mark.parametrize(("path", "code"), SCHEMA_CODES, ids=lambda v: str(v))
    def test_every_code_of_the_profile_is_said_in_french(
        self, path: tuple[str, ...], code: str
    ) -> None:
        [line] = profile_lines(profile_with(path, code))
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", line.value), line
        assert line.value[:1].isupper(), line

    def test_categories_pcs_codes_and_goals_take_the_catalogue_labels(self) -> None:
        for category in CATEGORIES:
            assert said({"current_coverage": [category.code]}) == [
                ("Contrats déjà détenus", category.label)
            ]
        for code, pcs in PCS_BY_CODE.items():
            assert said({"pcs_code": code}) == [
                ("Catégorie socioprofessionnelle", f"{pcs.label} ({code})")
            ]
        for code, goal in goals().items():
            [(_, value)] = said({"goals": [code]})
            assert value == goal.label[:1].upper() + goal.label[1:]

    def test_a_code_or_a_field_without_a_label_is_shown_as_it_is(self) -> None:
        profile = {
            "family_situation": "polyamorous",
            "goals": ["protect_family", "brand_new_goal"],
            "vehicles": [{"kind": "hovercraft"}, {"kind": "car"}],
            "new_fact": "abc",
        }
        assert said(profile) == [
            ("Situation familiale", "polyamorous"),
            ("Véhicules", "hovercraft, voiture"),
            ("Objectifs exprimés", "Protéger votre famille, brand_new_goal"),
            ("new_fact", "abc"),
        ]

    def test_nothing_known_and_empty_lists(self) -> None:
        assert profile_lines({}) == []
        assert profile_lines({"age": None}) == []
        assert said({"vehicles": [], "pets": [], "projects": [], "goals": []}) == [
            ("Véhicules", "Aucun"),
            ("Animaux", "Aucun"),
            ("Projets", "Aucun"),
            ("Objectifs exprimés", "Aucun"),
        ]

    def test_lines_are_plain_data(self) -> None:
        assert profile_lines({"age": 1}) == [ProfileLine("Âge", "1 an")]


class TestEuros:
    @pytest.mark.parametrize(
        ("amount", "shown"),
        [(2000, "2 000 €"), (1_250_000, "1 250 000 €"), (59.9, "59,90 €"), (0, "0 €")],
    )
    def test_french_separators(self, amount: float, shown: str) -> None:
        assert plain(euros(amount)) == shown

    def test_the_amount_never_breaks_across_lines(self) -> None:
        assert " " not in euros(1_234_567.5)
