"""Which needs a profile reveals, how strongly, and the French sentence that says why.

A detector reads a few facts of the profile and returns a `DetectedNeed` or None. It never guesses:
when a fact it reads is unknown, the need is simply not detected, and the engine reports that fact
as missing for the products answering the need. Weights are points on a common scale: legal
obligations (car, rented home) weigh most, then what a lender or a household cannot do without.
"""

from collections.abc import Callable
from dataclasses import dataclass

from product_catalog.profile import NeedsProfile, SavingsGoalProject
from product_catalog.vocabulary import PET_SPECIES_LABELS

SENIOR_AGE = 60
FUNERAL_PLANNING_AGE = 50
LATE_FUNERAL_PLANNING_AGE = 65
RETIREMENT_PLANNING_AGES = range(40, 63)
ACTIVE_STATUSES = frozenset({"employee", "self_employed"})
NO_EMPLOYER_PLAN_STATUSES = frozenset({"self_employed", "student", "retired"})


@dataclass(frozen=True, slots=True)
class DetectedNeed:
    code: str
    weight: int
    reason: str


@dataclass(frozen=True)
class NeedDetector:
    code: str
    facts: tuple[str, ...]
    detect: Callable[[NeedsProfile], DetectedNeed | None]


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _tenant(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.housing_status != "tenant":
        return None
    return DetectedNeed(
        "logement_locataire",
        85,
        "Vous êtes locataire : la loi vous oblige à assurer votre logement contre les risques "
        "locatifs (incendie, dégât des eaux, explosion).",
    )


def _owner_occupier(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.housing_status != "owner_occupier":
        return None
    return DetectedNeed(
        "logement_proprietaire",
        75,
        "Vous êtes propriétaire de votre logement : c'est souvent le premier patrimoine à "
        "protéger, avec votre responsabilité civile envers les voisins et la copropriété.",
    )


def _landlord(profile: NeedsProfile) -> DetectedNeed | None:
    if not profile.is_landlord:
        return None
    count = profile.rented_out_properties or 1
    return DetectedNeed(
        "logement_bailleur",
        70,
        f"Vous mettez {_plural(count, 'logement', 'logements')} en location : l'assurance "
        "propriétaire non occupant couvre ce que l'assurance du locataire ne prend pas en charge, "
        "et elle est obligatoire en copropriété.",
    )


def _vehicle_detector(code: str, kinds: frozenset[str], what: str) -> NeedDetector:
    def detect(profile: NeedsProfile) -> DetectedNeed | None:
        if not any(vehicle.kind in kinds for vehicle in profile.vehicles or ()):
            return None
        return DetectedNeed(
            code,
            90,
            f"Vous avez {what} : l'assurance de responsabilité civile est obligatoire pour "
            "circuler, et même pour un véhicule qui reste au garage.",
        )

    return NeedDetector(code, ("vehicles",), detect)


def _home_loan(profile: NeedsProfile) -> DetectedNeed | None:
    loan = profile.home_loan
    if loan is None:
        return None
    amount = ""
    if loan.loan_amount_eur is not None:
        amount = f" de {loan.loan_amount_eur:,.0f} €".replace(",", "\u202f")
    return DetectedNeed(
        "pret_immobilier",
        85,
        f"Vous financez l'achat d'un logement par un prêt{amount} : les prêteurs exigent une "
        "assurance emprunteur, que vous êtes libre de choisir.",
    )


def _health(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.employment_status in NO_EMPLOYER_PLAN_STATUSES:
        reason = (
            "Vous ne bénéficiez pas d'une mutuelle d'entreprise : une complémentaire santé "
            "rembourse ce que l'Assurance maladie ne prend pas en charge."
        )
    elif profile.employer_health_plan is False:
        reason = (
            "Vous n'êtes pas couvert(e) par une mutuelle d'entreprise : une complémentaire santé "
            "rembourse ce que l'Assurance maladie ne prend pas en charge."
        )
    else:
        return None
    return DetectedNeed("frais_sante", 80, reason)


def _senior_health(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.age is None or profile.age < SENIOR_AGE or _health(profile) is None:
        return None
    return DetectedNeed(
        "sante_senior",
        25,
        f"À {profile.age} ans, des remboursements renforcés en hospitalisation, dentaire, "
        "optique et audition deviennent prioritaires.",
    )


def _death(profile: NeedsProfile) -> DetectedNeed | None:
    dependants = profile.number_of_dependants
    if dependants:
        return DetectedNeed(
            "deces_famille",
            70,
            f"Vous avez {_plural(dependants, 'personne', 'personnes')} à charge : un capital "
            "décès leur assurerait des ressources si vous veniez à disparaître.",
        )
    if profile.family_situation in ("married", "civil_partnership", "cohabiting"):
        return DetectedNeed(
            "deces_famille",
            45,
            "Vous vivez en couple : un capital décès préserverait le niveau de vie de votre "
            "conjoint.",
        )
    return None


def _work_stoppage(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.employment_status == "employee":
        return DetectedNeed(
            "arret_travail",
            50,
            "Salarié(e), vos indemnités journalières ne remplacent qu'une partie de votre salaire "
            "en cas d'arrêt de travail ou d'invalidité.",
        )
    if profile.employment_status == "self_employed":
        return DetectedNeed(
            "arret_travail",
            60,
            "Indépendant(e), vos indemnités en cas d'arrêt de travail sont faibles et tardives.",
        )
    return None


def _self_employed_income(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.employment_status != "self_employed":
        return None
    return DetectedNeed(
        "revenus_independant",
        75,
        "En tant qu'indépendant(e), votre protection obligatoire en cas d'invalidité ou de décès "
        "est limitée : vos revenus et vos frais professionnels sont à protéger.",
    )


def _funeral(profile: NeedsProfile) -> DetectedNeed | None:
    age = profile.age
    if age is None or age < FUNERAL_PLANNING_AGE:
        return None
    weight = 55 if age >= LATE_FUNERAL_PLANNING_AGE else 35
    return DetectedNeed(
        "frais_obseques",
        weight,
        f"À {age} ans, financer vos obsèques à l'avance évite cette charge et ces démarches à "
        "vos proches.",
    )


def _everyday_accidents(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.number_of_dependants:
        return DetectedNeed(
            "accidents_vie",
            45,
            "Avec des personnes à charge, un accident domestique, de sport ou de loisir aux "
            "séquelles graves pèserait lourdement sur votre foyer.",
        )
    if profile.age is not None and profile.age >= SENIOR_AGE:
        return DetectedNeed(
            "accidents_vie",
            35,
            "Après 60 ans, les chutes et accidents domestiques deviennent plus fréquents et "
            "plus graves.",
        )
    return None


def _school(profile: NeedsProfile) -> DetectedNeed | None:
    children = profile.children_at_school
    if not children:
        return None
    return DetectedNeed(
        "accidents_scolaires",
        60,
        f"Vous avez {_plural(children, 'enfant scolarisé', 'enfants scolarisés')} : l'assurance "
        "scolaire couvre les accidents qu'ils subissent ou causent, à l'école comme pendant les "
        "activités extrascolaires.",
    )


def _pets(profile: NeedsProfile) -> DetectedNeed | None:
    pets = profile.pets or []
    if not pets:
        return None
    names = sorted({PET_SPECIES_LABELS[pet.species] for pet in pets})
    return DetectedNeed(
        "frais_veterinaires",
        50,
        f"Vous avez un animal de compagnie ({', '.join(names)}) : les frais vétérinaires d'une "
        "maladie ou d'une opération peuvent atteindre plusieurs centaines d'euros.",
    )


def _legal_disputes(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.is_landlord:
        return DetectedNeed(
            "litiges",
            40,
            "Propriétaire bailleur, vous pouvez avoir à gérer des loyers impayés ou des litiges "
            "avec vos locataires.",
        )
    if profile.housing_status in ("tenant", "owner_occupier"):
        return DetectedNeed(
            "litiges",
            20,
            "Un litige de voisinage, de consommation ou de travaux peut coûter cher en frais "
            "d'avocat et d'expertise.",
        )
    return None


def _savings_goal(profile: NeedsProfile) -> DetectedNeed | None:
    goals = [p for p in profile.projects or () if isinstance(p, SavingsGoalProject)]
    if not goals:
        return None
    horizons = sorted(goal.horizon_years for goal in goals if goal.horizon_years is not None)
    horizon = f" à {horizons[0]} ans" if horizons else ""
    return DetectedNeed(
        "epargne_projet",
        65,
        f"Vous souhaitez épargner pour un projet{horizon} : l'assurance vie permet de constituer "
        "une épargne disponible à tout moment.",
    )


def _retirement(profile: NeedsProfile) -> DetectedNeed | None:
    if profile.has_project("retirement"):
        return DetectedNeed(
            "preparation_retraite",
            70,
            "Vous souhaitez préparer votre retraite : un plan d'épargne retraite complète vos "
            "futures pensions, et vos versements peuvent réduire votre impôt sur le revenu.",
        )
    age = profile.age
    if (
        age is not None
        and age in RETIREMENT_PLANNING_AGES
        and profile.employment_status in (ACTIVE_STATUSES)
    ):
        return DetectedNeed(
            "preparation_retraite",
            30,
            f"À {age} ans, il est temps de compléter vos futures pensions de retraite.",
        )
    return None


def _transmission(profile: NeedsProfile) -> DetectedNeed | None:
    if not profile.has_project("transmission"):
        return None
    return DetectedNeed(
        "transmission_capital",
        65,
        "Vous souhaitez transmettre un capital : l'assurance vie le transmet aux bénéficiaires "
        "de votre choix, hors succession et avec une fiscalité favorable.",
    )


NEED_DETECTORS: tuple[NeedDetector, ...] = (
    NeedDetector("logement_locataire", ("housing_status",), _tenant),
    NeedDetector("logement_proprietaire", ("housing_status",), _owner_occupier),
    NeedDetector("logement_bailleur", ("housing_status", "rented_out_properties"), _landlord),
    _vehicle_detector("vehicule_auto", frozenset({"car"}), "une voiture"),
    _vehicle_detector(
        "vehicule_deux_roues", frozenset({"motorcycle", "scooter", "moped"}), "un deux-roues"
    ),
    _vehicle_detector("vehicule_camping_car", frozenset({"motorhome"}), "un camping-car"),
    NeedDetector("pret_immobilier", ("projects",), _home_loan),
    NeedDetector("frais_sante", ("employment_status", "employer_health_plan"), _health),
    NeedDetector(
        "sante_senior", ("age", "employment_status", "employer_health_plan"), _senior_health
    ),
    NeedDetector("deces_famille", ("number_of_dependants", "family_situation"), _death),
    NeedDetector("arret_travail", ("employment_status",), _work_stoppage),
    NeedDetector("revenus_independant", ("employment_status",), _self_employed_income),
    NeedDetector("frais_obseques", ("age",), _funeral),
    NeedDetector("accidents_vie", ("number_of_dependants", "age"), _everyday_accidents),
    NeedDetector("accidents_scolaires", ("children_at_school",), _school),
    NeedDetector("frais_veterinaires", ("pets",), _pets),
    NeedDetector("litiges", ("housing_status", "rented_out_properties"), _legal_disputes),
    NeedDetector("epargne_projet", ("projects",), _savings_goal),
    NeedDetector("preparation_retraite", ("projects", "age", "employment_status"), _retirement),
    NeedDetector("transmission_capital", ("projects",), _transmission),
)


def detect_needs(profile: NeedsProfile) -> dict[str, DetectedNeed]:
    """The needs the profile reveals, by code."""
    found: dict[str, DetectedNeed] = {}
    for detector in NEED_DETECTORS:
        need = detector.detect(profile)
        if need is not None:
            found[need.code] = need
    return found
