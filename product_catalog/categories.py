"""The product families of the catalogue, with the French labels shown to users."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category("epargne", "Épargne", "assurance vie en fonds euros ou multisupport"),
    Category("retraite", "Retraite", "plan d'épargne retraite individuel (PER)"),
    Category("prevoyance", "Prévoyance", "décès, invalidité et arrêt de travail"),
    Category("obseques", "Obsèques", "financement et organisation des obsèques"),
    Category("sante", "Santé", "complémentaire santé individuelle et seniors"),
    Category("emprunteur", "Assurance emprunteur", "couverture d'un prêt immobilier"),
    Category("habitation", "Habitation", "locataire, propriétaire occupant ou bailleur"),
    Category("auto", "Automobile", "assurance de votre voiture"),
    Category("deux_roues", "Deux-roues", "moto, scooter et cyclomoteur"),
    Category("camping_car", "Camping-car", "assurance du camping-car et de son équipement"),
    Category("gav", "Accidents de la vie", "garantie des accidents de la vie privée"),
    Category(
        "protection_juridique", "Protection juridique", "assistance et frais en cas de litige"
    ),
    Category("scolaire", "Assurance scolaire", "accidents des enfants à l'école et en activité"),
    Category("animaux", "Animaux", "frais vétérinaires des chiens et chats"),
)

CATEGORY_CODES: frozenset[str] = frozenset(category.code for category in CATEGORIES)


def get_category(code: str) -> Category:
    """Return the category with this code; raise KeyError for an unknown code."""
    for category in CATEGORIES:
        if category.code == code:
            return category
    raise KeyError(code)
