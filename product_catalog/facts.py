"""The facts of a needs profile the engine may report as missing, with the question to ask.

A fact is named by its path in the profile JSON (`investor.risk_tolerance`,
`projects.home_loan.loan_duration_years`); the dialogue maps these names to its slots.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    field: str
    question: str


FACTS: tuple[Fact, ...] = (
    Fact("resides_in_france", "Résidez-vous en France ?"),
    Fact("age", "Quel âge avez-vous ?"),
    Fact(
        "legal_protection",
        "Bénéficiez-vous d'une mesure de protection juridique, comme une curatelle ou une "
        "tutelle ?",
    ),
    Fact(
        "housing_status",
        "Êtes-vous locataire, propriétaire de votre logement, ou logé(e) gratuitement ?",
    ),
    Fact("rented_out_properties", "Mettez-vous un ou plusieurs logements en location ?"),
    Fact("vehicles", "Avez-vous un véhicule : voiture, deux-roues ou camping-car ?"),
    Fact(
        "projects",
        "Avez-vous un projet : achat immobilier avec un prêt, épargne pour un "
        "projet, préparation de la retraite ou transmission d'un capital ?",
    ),
    Fact(
        "projects.home_loan.loan_duration_years",
        "Sur combien d'années votre prêt immobilier est-il prévu ?",
    ),
    Fact(
        "employment_status",
        "Quelle est votre situation professionnelle : salarié(e), "
        "indépendant(e), retraité(e), étudiant(e) ou sans emploi ?",
    ),
    Fact(
        "employer_health_plan",
        "Bénéficiez-vous d'une mutuelle santé obligatoire par votre employeur ?",
    ),
    Fact("family_situation", "Quelle est votre situation familiale ?"),
    Fact("number_of_dependants", "Combien de personnes sont à votre charge ?"),
    Fact("children_at_school", "Combien de vos enfants sont scolarisés ?"),
    Fact("pets", "Avez-vous un chien ou un chat ?"),
    Fact(
        "investor.knowledge",
        "Comment évaluez-vous vos connaissances des placements "
        "financiers, notamment des unités de compte ?",
    ),
    Fact("investor.experience", "Quels placements avez-vous déjà détenus ?"),
    Fact("investor.annual_income_eur", "Quels sont les revenus annuels de votre foyer ?"),
    Fact("investor.financial_assets_eur", "À combien s'élève votre épargne disponible ?"),
    Fact(
        "investor.monthly_commitments_eur",
        "Combien remboursez-vous chaque mois pour vos crédits et charges fixes ?",
    ),
    Fact(
        "investor.objectives",
        "Quel est l'objectif de ce placement : préserver votre "
        "capital, le faire fructifier, obtenir des revenus, préparer la retraite ou transmettre ?",
    ),
    Fact(
        "investor.horizon_years", "Pendant combien d'années pouvez-vous laisser cet argent placé ?"
    ),
    Fact(
        "investor.risk_tolerance",
        "Quel niveau de risque acceptez-vous pour espérer un "
        "meilleur rendement : très faible, faible, modéré, élevé ou très élevé ?",
    ),
    Fact(
        "investor.loss_capacity",
        "Quelle perte sur le capital investi pourriez-vous "
        "supporter sans mettre en difficulté votre situation ?",
    ),
    Fact("monthly_budget_eur", "Quel budget mensuel pouvez-vous consacrer à vos assurances ?"),
    Fact("current_coverage", "Quels contrats d'assurance avez-vous déjà ?"),
)

FACTS_BY_FIELD: dict[str, Fact] = {fact.field: fact for fact in FACTS}
FACT_ORDER: dict[str, int] = {fact.field: index for index, fact in enumerate(FACTS)}

# The suitability facts: all must be known before a savings or retirement product is proposed.
INVESTOR_FACTS: tuple[str, ...] = tuple(
    fact.field for fact in FACTS if fact.field.startswith("investor.")
)
