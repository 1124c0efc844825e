"""Controlled vocabularies shared by the product catalogue and the needs profile.

Product files, profiles and the engine all speak these words; keeping them in one module means a
value accepted in a product's eligibility rules is always a value a profile can carry.
"""

from dataclasses import dataclass
from typing import Literal, get_args

EmploymentStatus = Literal["employee", "self_employed", "retired", "student", "unemployed"]
FamilySituation = Literal[
    "single", "married", "civil_partnership", "cohabiting", "divorced", "widowed"
]
HousingStatus = Literal["tenant", "owner_occupier", "landlord", "hosted"]
# What a product's eligibility can require about housing; "landlord" is also true of anyone who
# lets at least one property (see NeedsProfile.is_landlord).
HousingSituation = Literal["tenant", "owner_occupier", "landlord"]
VehicleKind = Literal["car", "motorcycle", "scooter", "moped", "motorhome"]
PetSpecies = Literal["dog", "cat", "other"]
InsurablePetSpecies = Literal["dog", "cat"]
LegalProtection = Literal["none", "curatorship", "guardianship"]

# Suitability facts of an investment product (duty to advise on insurance-based investments).
KnowledgeLevel = Literal["none", "basic", "good", "expert"]
InvestmentExperience = Literal[
    "none", "savings_accounts", "euro_funds", "unit_linked", "active_investor"
]
InvestmentObjective = Literal[
    "capital_preservation", "income", "growth", "retirement", "transmission"
]
RiskTolerance = Literal["very_low", "low", "moderate", "high", "very_high"]
LossCapacity = Literal["none", "limited", "substantial", "total"]

EMPLOYMENT_STATUSES: tuple[str, ...] = get_args(EmploymentStatus)
LOSS_CAPACITY_ORDER: tuple[str, ...] = get_args(LossCapacity)

# The highest risk indicator (SRI, 1 to 7) a prospect with this tolerance is ready to bear.
ACCEPTABLE_RISK_INDICATOR: dict[str, int] = {
    "very_low": 1,
    "low": 2,
    "moderate": 4,
    "high": 5,
    "very_high": 7,
}

EMPLOYMENT_STATUS_LABELS: dict[str, str] = {
    "employee": "salarié(e)",
    "self_employed": "travailleur indépendant",
    "retired": "retraité(e)",
    "student": "étudiant(e)",
    "unemployed": "sans emploi",
}
HOUSING_SITUATION_LABELS: dict[str, str] = {
    "tenant": "locataire",
    "owner_occupier": "propriétaire occupant",
    "landlord": "propriétaire bailleur",
}
VEHICLE_KIND_LABELS: dict[str, str] = {
    "car": "voiture",
    "motorcycle": "moto",
    "scooter": "scooter",
    "moped": "cyclomoteur",
    "motorhome": "camping-car",
}
PET_SPECIES_LABELS: dict[str, str] = {"dog": "chien", "cat": "chat", "other": "autre animal"}
OBJECTIVE_LABELS: dict[str, str] = {
    "capital_preservation": "préserver votre capital",
    "income": "obtenir des revenus complémentaires",
    "growth": "faire fructifier votre capital",
    "retirement": "préparer votre retraite",
    "transmission": "transmettre un capital",
}
LOSS_CAPACITY_LABELS: dict[str, str] = {
    "none": "aucune perte",
    "limited": "une perte limitée",
    "substantial": "une perte importante",
    "total": "la perte de tout le capital investi",
}


@dataclass(frozen=True)
class Need:
    """A need a product can answer; products name needs by code in their YAML file."""

    code: str
    label: str


NEEDS: tuple[Need, ...] = (
    Need("logement_locataire", "assurer le logement que vous louez"),
    Need("logement_proprietaire", "assurer le logement dont vous êtes propriétaire"),
    Need("logement_bailleur", "assurer le logement que vous mettez en location"),
    Need("vehicule_auto", "assurer votre voiture"),
    Need("vehicule_deux_roues", "assurer votre deux-roues"),
    Need("vehicule_camping_car", "assurer votre camping-car"),
    Need("pret_immobilier", "garantir votre prêt immobilier"),
    Need("frais_sante", "rembourser vos frais de santé"),
    Need("sante_senior", "renforcer vos remboursements santé après 60 ans"),
    Need("deces_famille", "protéger vos proches en cas de décès"),
    Need("arret_travail", "maintenir vos revenus en cas d'arrêt de travail ou d'invalidité"),
    Need("revenus_independant", "protéger les revenus de votre activité indépendante"),
    Need("frais_obseques", "financer vos obsèques sans peser sur vos proches"),
    Need("accidents_vie", "être indemnisé après un accident de la vie privée"),
    Need("accidents_scolaires", "protéger vos enfants à l'école et pendant leurs activités"),
    Need("frais_veterinaires", "rembourser les frais vétérinaires de votre animal"),
    Need("litiges", "être défendu en cas de litige"),
    Need("epargne_projet", "épargner pour un projet"),
    Need("preparation_retraite", "préparer votre retraite"),
    Need("transmission_capital", "transmettre un capital à vos proches"),
)

NEED_CODES: frozenset[str] = frozenset(need.code for need in NEEDS)
NEED_LABELS: dict[str, str] = {need.code: need.label for need in NEEDS}

# Categories whose products are insurance-based investments: they need the suitability facts.
INVESTMENT_CATEGORIES: frozenset[str] = frozenset({"epargne", "retraite"})
