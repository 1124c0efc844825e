"""INSEE socio-professional categories (PCS 2003, two-digit level), as subscription forms use them.

INSEE publishes the two-digit level in two nested versions: 42 detailed categories and an
aggregated version in 24 categories. Forms use either, so both are accepted: each code carries its
label, the aggregated category it belongs to, and its group (the first digit).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PcsCategory:
    code: str
    label: str
    aggregate: str
    detailed: bool

    @property
    def group(self) -> str:
        return self.code[0]


def _aggregated(code: str, label: str) -> PcsCategory:
    return PcsCategory(code, label, aggregate=code, detailed=False)


def _detailed(code: str, label: str, aggregate: str | None = None) -> PcsCategory:
    return PcsCategory(code, label, aggregate=aggregate or code, detailed=True)


PCS_CATEGORIES: tuple[PcsCategory, ...] = (
    _aggregated("10", "Agriculteurs exploitants"),
    _detailed("11", "Agriculteurs sur petite exploitation", "10"),
    _detailed("12", "Agriculteurs sur moyenne exploitation", "10"),
    _detailed("13", "Agriculteurs sur grande exploitation", "10"),
    _detailed("21", "Artisans"),
    _detailed("22", "Commerçants et assimilés"),
    _detailed("23", "Chefs d'entreprise de 10 salariés ou plus"),
    _detailed("31", "Professions libérales"),
    _aggregated("32", "Cadres de la fonction publique, professions intellectuelles et artistiques"),
    _detailed("33", "Cadres de la fonction publique", "32"),
    _detailed("34", "Professeurs, professions scientifiques", "32"),
    _detailed("35", "Professions de l'information, des arts et des spectacles", "32"),
    _aggregated("36", "Cadres d'entreprise"),
    _detailed("37", "Cadres administratifs et commerciaux d'entreprise", "36"),
    _detailed("38", "Ingénieurs et cadres techniques d'entreprise", "36"),
    _aggregated(
        "41",
        "Professions intermédiaires de l'enseignement, de la santé, de la fonction publique "
        "et assimilés",
    ),
    _detailed("42", "Professeurs des écoles, instituteurs et assimilés", "41"),
    _detailed("43", "Professions intermédiaires de la santé et du travail social", "41"),
    _detailed("44", "Clergé, religieux", "41"),
    _detailed("45", "Professions intermédiaires administratives de la fonction publique", "41"),
    _detailed("46", "Professions intermédiaires administratives et commerciales des entreprises"),
    _detailed("47", "Techniciens"),
    _detailed("48", "Contremaîtres, agents de maîtrise"),
    _aggregated("51", "Employés de la fonction publique"),
    _detailed("52", "Employés civils et agents de service de la fonction publique", "51"),
    _detailed("53", "Policiers et militaires", "51"),
    _detailed("54", "Employés administratifs d'entreprise"),
    _detailed("55", "Employés de commerce"),
    _detailed("56", "Personnels des services directs aux particuliers"),
    _aggregated("61", "Ouvriers qualifiés"),
    _detailed("62", "Ouvriers qualifiés de type industriel", "61"),
    _detailed("63", "Ouvriers qualifiés de type artisanal", "61"),
    _detailed("64", "Chauffeurs", "61"),
    _detailed("65", "Ouvriers qualifiés de la manutention, du magasinage et du transport", "61"),
    _aggregated("66", "Ouvriers non qualifiés"),
    _detailed("67", "Ouvriers non qualifiés de type industriel", "66"),
    _detailed("68", "Ouvriers non qualifiés de type artisanal", "66"),
    _detailed("69", "Ouvriers agricoles"),
    _detailed("71", "Anciens agriculteurs exploitants"),
    _detailed("72", "Anciens artisans, commerçants, chefs d'entreprise"),
    _aggregated("73", "Anciens cadres et professions intermédiaires"),
    _detailed("74", "Anciens cadres", "73"),
    _detailed("75", "Anciennes professions intermédiaires", "73"),
    _aggregated("76", "Anciens employés et ouvriers"),
    _detailed("77", "Anciens employés", "76"),
    _detailed("78", "Anciens ouvriers", "76"),
    _detailed("81", "Chômeurs n'ayant jamais travaillé"),
    _aggregated("82", "Inactifs divers (autres que retraités)"),
    _detailed("83", "Militaires du contingent", "82"),
    _detailed("84", "Élèves, étudiants", "82"),
    _detailed(
        "85",
        "Personnes diverses sans activité professionnelle de moins de 60 ans (sauf retraités)",
        "82",
    ),
    _detailed(
        "86",
        "Personnes diverses sans activité professionnelle de 60 ans et plus (sauf retraités)",
        "82",
    ),
)

PCS_BY_CODE: dict[str, PcsCategory] = {category.code: category for category in PCS_CATEGORIES}

# Codes whose meaning fixes the employment status declared alongside them.
RETIRED_PCS_CODES: frozenset[str] = frozenset({"71", "72", "73", "74", "75", "76", "77", "78"})
STUDENT_PCS_CODE = "84"
NEVER_WORKED_PCS_CODE = "81"
INACTIVE_UNDER_60_PCS_CODE = "85"
INACTIVE_60_AND_OVER_PCS_CODE = "86"


def get_pcs(code: str) -> PcsCategory:
    """Return the category with this two-digit code; raise KeyError for an unknown code."""
    return PCS_BY_CODE[code]
