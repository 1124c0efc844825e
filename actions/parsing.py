"""Reading the prospect's French answers into profile facts, shared by every action.

Two kinds of reading:
- `parse_answer(slot, text)`: the answer to the question the assistant just asked ("42",
  "quarante-deux", "oui", "une voiture et un scooter"); the slot tells how to read it;
- `volunteered_facts(text)`: facts stated spontaneously, in or out of the form ("en fait j'ai 42
  ans", "je suis locataire", "je suis sous curatelle"); only unambiguous phrasings are read.

Every function returns plain values (the slot values) or raises `ParseError` with a French hint.
Numbers go through `common.french_numbers` (digits with French separators and number words).
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common.french_numbers import NUMBER_WORDS, parse_amount, parse_decimal, words_to_number

# Longer messages are cut before parsing: nobody answers a question in more than this.
MAX_PARSED_CHARS = 500

SKIPPED = "unknown"
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]?")


class ParseError(ValueError):
    """The answer could not be read; the message is a French hint for the prospect."""


def normalize(text: str) -> str:
    """Lower case, accents folded, control characters and odd spaces removed, length capped."""
    text = _ANSI_ESCAPE.sub(" ", text[:MAX_PARSED_CHARS])
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in text)
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("’", "'").replace("œ", "oe")
    return re.sub(r"\s+", " ", folded).strip()


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(pattern, text) for pattern in patterns)


# ---------------------------------------------------------------- numbers

_NUMBER_WORD_PATTERN = "|".join(
    sorted((normalize(word) for word in NUMBER_WORDS - {"et"}), key=len, reverse=True)
)
_NUMBER = re.compile(
    r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
    r"|(?:\b(?:" + _NUMBER_WORD_PATTERN + r")\b(?:[\s-]+(?:et[\s-]+)?)?)+"
)


def numbers(text: str) -> list[Decimal]:
    """Every number of a normalised text, digits or words, in order ("un"/"une" included)."""
    found: list[Decimal] = []
    for match in _NUMBER.finditer(text):
        raw = match.group().strip(" -")
        value = parse_decimal(raw)
        if value is None:
            words = words_to_number(raw)
            value = Decimal(words) if words is not None else None
        if value is not None:
            found.append(value)
    return found


def first_integer(text: str, low: int, high: int) -> int | None:
    for value in numbers(text):
        if value == value.to_integral_value() and low <= value <= high:
            return int(value)
    return None


_AMOUNT = re.compile(
    r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)\s*(k|m)?\s*(?:€|eur|euros?)?"
    r"(?![\w])",
)


def amount(text: str) -> float | None:
    """An amount in euros: "1 500 €", "1,5 k€", "2k", "cent euros par mois", "30 000"."""
    cleaned = text.replace("k€", "k").replace("keur", "k").replace("m€", "m")
    for match in _AMOUNT.finditer(cleaned):
        value = parse_decimal(match.group(1))
        if value is None:
            continue
        suffix = match.group(2)
        if suffix == "k":
            value *= 1000
        elif suffix == "m":
            value *= 1_000_000
        return float(value)
    words = re.search(r"(?:\b(?:" + _NUMBER_WORD_PATTERN + r")\b[\s-]*(?:et[\s-]+)?)+", cleaned)
    if words:
        parsed = parse_amount(words.group().strip(" -"))
        if parsed is not None:
            return float(parsed)
    return None


def years(text: str, high: int) -> int | None:
    """A duration in years: "20 ans", "dix ans", "6 mois" (rounded up to a year), "15"."""
    months = re.search(r"(\S+)\s*mois", text)
    if months and not re.search(r"\bans?\b|annees?", text):
        value = first_integer(months.group(1), 0, 1200)
        if value is not None:
            return min(high, (value + 11) // 12)
    return first_integer(text, 0, high)


# ---------------------------------------------------------------- yes / no / don't know

_YES = (r"\boui\b", r"\bouais\b", r"\bbien sur\b", r"\bexact", r"\btout a fait\b", r"\byes\b",
        r"\baffirmatif\b", r"\bd'accord\b", r"\bj'accepte\b", r"\bok\b", r"\bcorrect\b",
        r"\bc'est ca\b", r"\bvolontiers\b", r"\bevidemment\b")  # fmt: skip
_NO = (r"\bnon\b", r"\bpas\b", r"\baucun", r"\bjamais\b", r"\bnope\b", r"\bno\b", r"\brefuse",
       r"\bni\b", r"\brien\b")  # fmt: skip
_DONT_KNOW = (r"je (?:ne )?sais pas", r"\bj'sais pas\b", r"\bsais pas\b", r"\baucune idee\b",
              r"\bje ne suis pas sur", r"\bpasser\b", r"\bje prefere ne pas", r"\bnsp\b",
              r"\bpas d'idee\b", r"\bje passe\b", r"\bjoker\b")  # fmt: skip


def is_dont_know(text: str) -> bool:
    return _has(normalize(text), *_DONT_KNOW)


def yes_no(text: str, intent: str | None = None) -> bool | None:
    if intent in ("affirm", "give_consent"):
        return True
    if intent in ("deny", "refuse_consent"):
        return False
    text = normalize(text)
    no = _has(text, *_NO)
    yes = _has(text, *_YES)
    if yes and not no:
        return True
    if no and not yes:
        return False
    return None


# ---------------------------------------------------------------- vocabularies


@dataclass(frozen=True)
class Term:
    value: str
    patterns: tuple[str, ...]


def _terms(text: str, terms: tuple[Term, ...]) -> list[str]:
    found: list[str] = []
    for term in terms:
        if _has(text, *term.patterns) and term.value not in found:
            found.append(term.value)
    return found


HOUSING = (
    Term("hosted", (r"\bloge (?:a titre )?gratuit", r"\bheberge", r"chez (?:mes|mon|ma) ",
                    r"gratuitement")),
    Term("landlord", (r"\bbailleur", r"non occupant", r"proprietaire d'un (?:logement|appartement"
                      r"|bien) (?:que je|en) lou", r"\bje (?:mets|loue) (?:un|mon|des|deux)"
                      r" (?:logement|appartement|bien|maison)s? en location")),
    Term("tenant", (r"\blocataire", r"\bje (?:suis en )?lou(?:e|er)\b(?! (?:un|mon|des|deux) "
                    r"(?:logement|appartement|bien|maison)s? en location)", r"\ben location\b")),
    Term("owner_occupier", (r"\bproprietaire\b", r"\bproprio\b", r"\bj'ai achete\b",
                            r"\bma maison\b", r"\bje possede\b")),
)  # fmt: skip
EMPLOYMENT = (
    Term("retired", (r"\bretraite", r"\bà la retraite", r"\ben retraite")),
    Term("student", (r"\betudiant", r"\blyceen", r"\ben etudes\b", r"\balternan")),
    Term("unemployed", (r"\bsans emploi", r"\bchomage\b", r"\bchomeu", r"\bdemandeur d'emploi",
                        r"\bsans activite", r"\bau foyer\b", r"\bne travaille pas")),
    Term("self_employed", (r"\bindependant", r"\bfreelance", r"\bauto.?entrepreneur",
                           r"\bmicro.?entrepreneur", r"\bliberal", r"\bartisan", r"\bcommercant",
                           r"\bagricult", r"\bmon (?:propre )?(?:compte|entreprise|cabinet)",
                           r"\bchef d'entreprise", r"\bgerant", r"\btns\b")),
    Term("employee", (r"\bsalarie", r"\bemploye", r"\bfonctionnaire", r"\bcadre\b",
                      r"\bouvrier", r"\ben cdi\b", r"\ben cdd\b", r"\bingenieur",
                      r"\binfirmi", r"\benseignant", r"\bprofesseur", r"\btechnicien",
                      r"\bvendeu", r"\bsecretaire", r"\bcomptable", r"\binterimaire")),
)  # fmt: skip
FAMILY = (
    Term("civil_partnership", (r"\bpacse", r"\bpacs\b")),
    Term("married", (r"\bmarie", r"\bmon mari\b", r"\bma femme\b", r"\bmon epouse?\b")),
    Term("divorced", (r"\bdivorce", r"\bsepare")),
    Term("widowed", (r"\bveu(?:f|ve)\b",)),
    Term("cohabiting", (r"\bconcubin", r"\ben couple\b", r"\bunion libre", r"\bcompagn",
                        r"\bvis avec", r"\bmon conjoint", r"\bma conjointe")),
    Term("single", (r"\bcelibataire", r"\bseul\b", r"\bseule\b", r"\bcelib\b")),
)  # fmt: skip
VEHICLES = (
    Term("motorhome", (r"camping.?car", r"\bcamping car", r"\bvan amenage", r"\bfourgon amenage")),
    Term("car", (r"\bvoiture", r"\bauto\b", r"\bautomobile", r"\bberline", r"\bsuv\b",
                 r"\bcitadine", r"\bvehicule\b(?!.*(?:deux|2).?roues)")),
    Term("motorcycle", (r"\bmoto\b", r"\bmotos\b", r"\bmotocyclette", r"\bgros cube")),
    Term("scooter", (r"\bscooter",)),
    Term("moped", (r"\bcyclomoteur", r"\bmobylette", r"\b50 ?cc", r"\bmeule\b")),
)  # fmt: skip
PETS = (
    Term("dog", (r"\bchien", r"\bchiot", r"\blabrador", r"\bberger", r"\bcaniche", r"\btoutou")),
    Term("cat", (r"\bchat\b", r"\bchats\b", r"\bchaton", r"\bminou", r"\bchatte\b")),
    Term("other", (r"\blapin", r"\bhamster", r"\bcheval", r"\boiseau", r"\bperroquet",
                   r"\bfurets?\b", r"\btortue", r"\bpoisson", r"\bcochon d'inde")),
)  # fmt: skip
PROJECTS = (
    Term("home_loan", (r"\bpret immobilier", r"\bemprunt", r"\bcredit immobilier",
                       r"\bacheter (?:un|une|mon|ma) (?:appartement|maison|logement|bien)",
                       r"\bachat (?:d'un|d'une|immobilier)", r"\bacquisition", r"\bpret\b")),
    Term("retirement", (r"\bretraite",)),
    Term("savings_goal", (r"\bepargn", r"\bmettre de cote", r"\bmettre de l'argent",
                          r"\bplacer", r"\bplacement", r"\bfaire fructifier", r"\bepargne")),
    Term("transmission", (r"\btransmett", r"\btransmission", r"\bheritage", r"\bsuccession",
                          r"\bmes enfants heritent", r"\bleguer", r"\bdonation")),
)  # fmt: skip
KNOWLEDGE = (
    Term("expert", (r"\bexpert", r"\bprofessionnel", r"\btres bonne?s?\b", r"\bexcellente?s?")),
    Term("good", (r"\bbonnes?\b", r"\bbien\b", r"\bcorrecte?s?\b", r"\bsolides?\b",
                  r"\bje m'y connais")),
    Term("basic", (r"\bbases?\b", r"\bbasiques?\b", r"\bun peu\b", r"\bmoyennes?\b",
                   r"\blimitees?\b", r"\bnotions?\b", r"\bdebutant", r"\bfaibles?\b")),
    Term("none", (r"\baucune?s?\b", r"\brien\b", r"\bnulles?\b", r"\bpas du tout\b",
                  r"\bjamais\b", r"\bnon\b", r"\bzero\b")),
)  # fmt: skip
EXPERIENCE = (
    Term("active_investor", (r"\bactions?\b", r"\bbourse", r"\bpea\b", r"\bcompte[- ]titres?",
                             r"\btrading", r"\bcrypto", r"\bobligations?")),
    Term("unit_linked", (r"\bunites? de compte", r"\buc\b", r"\bmultisupport", r"\bopcvm",
                         r"\bsicav", r"\bfonds (?:d'investissement|actions)", r"\betf\b")),
    Term("euro_funds", (r"\bfonds? (?:en )?euros?", r"\bassurance.?vie")),
    Term("savings_accounts", (r"\blivret", r"\bldds\b", r"\bpel\b", r"\bcel\b",
                              r"\bcompte (?:d'epargne|epargne)", r"\bepargne salariale")),
    Term("none", (r"\baucun", r"\brien\b", r"\bjamais\b", r"\bnon\b", r"\bpas de placement")),
)  # fmt: skip
OBJECTIVES = (
    Term("capital_preservation", (r"\bpreserv", r"\bsecuris", r"\bproteger (?:mon|le) capital",
                                  r"\bsans risque", r"\bgarantir (?:mon|le) capital",
                                  r"\bne pas perdre")),
    Term("growth", (r"\bfructifier", r"\brendement", r"\bcroissance", r"\bvaloris",
                    r"\bfaire grossir", r"\bgagner", r"\bperformance", r"\bdynamis")),
    Term("income", (r"\brevenus? (?:complementaires?|reguliers?)", r"\brente", r"\bcomplement de"
                    r" revenus?", r"\bobtenir des revenus")),
    Term("retirement", (r"\bretraite",)),
    Term("transmission", (r"\btransmett", r"\btransmission", r"\bheritage", r"\bsuccession",
                          r"\bmes enfants", r"\bleguer")),
)  # fmt: skip
RISK = (
    Term("very_high", (r"\btres (?:eleve|fort|important)", r"\bmaximum\b", r"\btres dynamique")),
    Term("very_low", (r"\btres (?:faible|bas|peu)", r"\baucun risque", r"\bzero risque",
                      r"\bsans risque", r"\bpas de risque", r"\bpas du tout")),
    Term("high", (r"\beleve", r"\bfort\b", r"\bimportant", r"\bdynamique", r"\bbeaucoup")),
    Term("low", (r"\bfaible", r"\bbas\b", r"\bpeu\b", r"\bprudent", r"\blimite")),
    Term("moderate", (r"\bmodere", r"\bmoyen", r"\bequilibre", r"\braisonnable", r"\bun peu\b")),
)  # fmt: skip
LOSS = (
    Term("total", (r"\btout\b", r"\btotal", r"\bla totalite", r"\bl'integralite", r"\b100 ?%")),
    Term("none", (r"\baucune\b", r"\brien\b", r"\bpas de perte", r"\bzero\b", r"\bjamais\b",
                  r"\bne (?:peux|pourrais) (?:rien|pas)", r"\bpas du tout\b")),
    Term("substantial", (r"\bimportante", r"\bgrosse", r"\bforte", r"\bla moitie",
                         r"\bune bonne partie", r"\bbeaucoup", r"\bsubstantielle")),
    Term("limited", (r"\blimitee", r"\bpetite", r"\bfaible", r"\bun peu\b", r"\blegere",
                     r"\bmoderee", r"\bquelques", r"\b(?:5|10|dix|cinq) ?%")),
)  # fmt: skip
COVERAGE = (
    Term("auto", (r"\bauto\b", r"\bvoiture", r"\bautomobile")),
    Term("habitation", (r"\bhabitation", r"\bmultirisque", r"\blogement", r"\bmaison\b")),
    Term("sante", (r"\bsante\b", r"\bmutuelle", r"\bcomplementaire")),
    Term("prevoyance", (r"\bprevoyance", r"\bdeces\b")),
    Term("emprunteur", (r"\bemprunteur", r"\bassurance (?:de|du) pret")),
    Term("epargne", (r"\bassurance.?vie", r"\bepargne")),
    Term("retraite", (r"\bper\b", r"\bretraite")),
    Term("deux_roues", (r"\bmoto\b", r"\bscooter", r"\bdeux.?roues")),
    Term("camping_car", (r"camping.?car",)),
    Term("gav", (r"\bgav\b", r"\baccidents? de la vie")),
    Term("protection_juridique", (r"\bprotection juridique",)),
    Term("scolaire", (r"\bscolaire",)),
    Term("animaux", (r"\banimaux\b", r"\bchien", r"\bchat\b")),
    Term("obseques", (r"\bobseques",)),
)  # fmt: skip


def _one(text: str, terms: tuple[Term, ...], hint: str) -> str:
    found = _terms(normalize(text), terms)
    if not found:
        raise ParseError(hint)
    return found[0]


def _none_said(text: str) -> bool:
    return _has(text, r"^(?:non|aucun\w*|rien|pas du tout|jamais|zero|0|nan)\b",
                r"\bpas d(?:e|')\b", r"\bje n'(?:ai|en ai) (?:pas|aucun)", r"\baucun")  # fmt: skip


# ---------------------------------------------------------------- answers to a question


def _age(text: str, intent: str | None) -> Any:
    value = first_integer(normalize(text), 0, 200)
    if value is None:
        raise ParseError("Indiquez votre âge en années, par exemple « 42 » ou « quarante-deux ».")
    if value > 120:
        raise ParseError("Cet âge ne semble pas possible : indiquez votre âge en années.")
    return value


def _boolean(hint: str) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        value = yes_no(text, intent)
        if value is None:
            raise ParseError(hint)
        return value

    return parse


def _count(hint: str, high: int = 20) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        normalized = normalize(text)
        value = first_integer(normalized, 0, 1000)
        if value is None:
            if intent == "deny" or _none_said(normalized):
                return 0
            raise ParseError(hint)
        if value > high:
            raise ParseError(f"Ce nombre semble trop élevé (au plus {high}). {hint}")
        return value

    return parse


def _money(hint: str) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        normalized = normalize(text)
        value = amount(normalized)
        if value is None:
            if intent == "deny" or _none_said(normalized):
                return 0.0
            raise ParseError(hint)
        if value > 100_000_000:
            raise ParseError("Ce montant semble trop élevé. " + hint)
        return value

    return parse


def _list_of(terms: tuple[Term, ...], hint: str) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        normalized = normalize(text)
        found = _terms(normalized, terms)
        if found:
            return found
        if intent == "deny" or _none_said(normalized):
            return []
        raise ParseError(hint)

    return parse


def _choice(terms: tuple[Term, ...], hint: str) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        return _one(text, terms, hint)

    return parse


def _rented_out(text: str, intent: str | None) -> Any:
    normalized = normalize(text)
    value = first_integer(normalized, 0, 1000)
    if value is not None:
        if value > 100:
            raise ParseError("Indiquez le nombre de logements que vous louez (au plus 100).")
        return value
    answer = yes_no(normalized, intent)
    if answer is False:
        return 0
    if answer is True:
        return 1
    raise ParseError("Répondez par oui ou non, ou indiquez le nombre de logements que vous louez.")


def _years_of(hint: str, high: int) -> Callable[[str, str | None], Any]:
    def parse(text: str, intent: str | None) -> Any:
        value = years(normalize(text), 10_000)
        if value is None:
            raise ParseError(hint)
        if value > high:
            raise ParseError(f"Indiquez une durée d'au plus {high} ans.")
        return value

    return parse


ANSWER_PARSERS: dict[str, Callable[[str, str | None], Any]] = {
    "resides_in_france": _boolean("Répondez simplement par oui ou par non."),
    "age": _age,
    "housing_status": _choice(
        HOUSING, "Dites-moi si vous êtes locataire, propriétaire ou logé(e) gratuitement."
    ),
    "rented_out_properties": _rented_out,
    "vehicles": _list_of(
        VEHICLES,
        "Citez vos véhicules (voiture, moto, scooter, cyclomoteur, camping-car) ou "
        "répondez « aucun ».",
    ),
    "projects": _list_of(
        PROJECTS,
        "Citez votre projet (achat immobilier avec un prêt, épargne, retraite, "
        "transmission) ou répondez « aucun ».",
    ),
    "loan_duration_years": _years_of(
        "Indiquez la durée du prêt en années, par exemple « 20 ans ».", 40
    ),
    "employment_status": _choice(
        EMPLOYMENT,
        "Dites-moi si vous êtes salarié(e), indépendant(e), retraité(e), "
        "étudiant(e) ou sans emploi.",
    ),
    "employer_health_plan": _boolean("Répondez par oui ou par non."),
    "family_situation": _choice(
        FAMILY,
        "Dites-moi si vous êtes célibataire, marié(e), pacsé(e), en couple, divorcé(e) "
        "ou veuf(ve).",
    ),
    "number_of_dependants": _count(
        "Indiquez un nombre de personnes, par exemple « 2 » ou « aucune »."
    ),
    "children_at_school": _count("Indiquez un nombre d'enfants, par exemple « 1 » ou « aucun »."),
    "pets": _list_of(PETS, "Dites-moi si vous avez un chien, un chat, ou répondez « non »."),
    "pet_age_years": _years_of(
        "Indiquez l'âge de votre animal en années, par exemple « 3 ans ».", 40
    ),
    "investor_knowledge": _choice(
        KNOWLEDGE, "Dites-moi si vos connaissances sont nulles, de base, bonnes ou expertes."
    ),
    "investor_experience": _choice(
        EXPERIENCE,
        "Citez vos placements : livrets, fonds en euros, unités de compte, actions, ou « aucun ».",
    ),
    "annual_income_eur": _money("Indiquez un montant annuel, par exemple « 45 000 € »."),
    "financial_assets_eur": _money("Indiquez un montant, par exemple « 20 000 € » ou « 20 k€ »."),
    "monthly_commitments_eur": _money("Indiquez un montant mensuel, par exemple « 800 € »."),
    "investment_objectives": _list_of(
        OBJECTIVES,
        "Choisissez : préserver le capital, le faire fructifier, obtenir des revenus, "
        "préparer la retraite ou transmettre.",
    ),
    "investment_horizon_years": _years_of(
        "Indiquez une durée en années, par exemple « 8 ans ».", 60
    ),
    "risk_tolerance": _choice(
        RISK, "Choisissez un niveau : très faible, faible, modéré, élevé ou très élevé."
    ),
    "loss_capacity": _choice(
        LOSS,
        "Dites-moi si vous pourriez supporter aucune perte, une perte limitée, une perte "
        "importante ou la perte totale du capital.",
    ),
    "monthly_budget_eur": _money("Indiquez un montant par mois, par exemple « 80 € »."),
    "current_coverage": _list_of(
        COVERAGE, "Citez vos contrats (auto, habitation, santé…) ou répondez « aucun »."
    ),
}


def parse_answer(slot: str, text: str, intent: str | None = None) -> Any:
    """Read the answer to the question about `slot`; raise ParseError with a French hint."""
    parser = ANSWER_PARSERS.get(slot)
    if parser is None:
        raise KeyError(slot)
    if not normalize(text):
        raise ParseError("Je n'ai reçu aucune réponse.")
    return parser(text, intent)


# ---------------------------------------------------------------- facts said spontaneously


def volunteered_facts(text: str) -> dict[str, Any]:
    """Facts stated in any message, read only from unambiguous phrasings."""
    t = normalize(text)
    facts: dict[str, Any] = {}
    age = re.search(
        r"\b(?:j'ai|age de|agee? de|ai|je vais avoir|j'aurai)\s+(\S+(?:[\s-](?:et[\s-])?\S+){0,2}?)"
        r"\s*ans\b",
        t,
    )
    if age:
        value = first_integer(age.group(1), 0, 120)
        if value is not None:
            facts["age"] = value
    housing = _terms(t, HOUSING)
    if housing and _has(t, r"\bje suis\b", r"\bj'habite\b", r"\bje loue\b", r"\bje vis\b",
                        r"\bloge", r"\bje (?:mets|possede)\b", r"\bnous sommes\b"):  # fmt: skip
        facts["housing_status"] = housing[0]
    employment = _terms(t, EMPLOYMENT)
    if employment and _has(t, r"\bje suis\b", r"\bje travaille\b", r"\bje bosse\b",
                           r"\bmon metier\b", r"\bje suis a mon compte\b"):  # fmt: skip
        facts["employment_status"] = employment[0]
    family = _terms(t, FAMILY)
    if family and _has(t, r"\bje suis\b", r"\bje vis\b", r"\bnous sommes\b",
                       r"\bmon mari\b", r"\bma femme\b"):  # fmt: skip
        facts["family_situation"] = family[0]
    vehicles = _terms(t, VEHICLES)
    if vehicles and _has(t, r"\bj'ai\b", r"\bje (?:roule|conduis|possede)\b", r"\bma\b",
                         r"\bmon\b", r"\bnous avons\b", r"\bassurer\b"):  # fmt: skip
        facts["vehicles"] = vehicles
    pets = _terms(t, PETS)
    if pets and _has(t, r"\bj'ai\b", r"\bmon\b", r"\bma\b", r"\bnous avons\b", r"\bassurer\b"):
        facts["pets"] = pets
    projects = _terms(t, PROJECTS)
    wish = r"\bje (?:veux|voudrais|souhaite|vais|compte|prepare|pense)\b"
    if projects and _has(t, wish, r"\bprojet\b", r"\bj'ai un\b", r"\bnous (?:voulons|allons)\b"):
        facts["projects"] = projects
    children = re.search(r"\b(\S+) enfants?\b", t)
    if children and _has(t, r"\bj'ai\b", r"\bnous avons\b", r"\bon a\b"):
        value = first_integer(children.group(1), 0, 20)
        if value is not None:
            facts["number_of_dependants"] = value
    if _has(t, r"\bj'habite (?:a l'etranger|hors de france|en (?!france)\w+)",
            r"\bje (?:vis|reside) (?:a l'etranger|hors de france|en (?!france)\w+)",
            r"\bexpatrie", r"\bnon[- ]resident"):  # fmt: skip
        facts["resides_in_france"] = False
    if _has(t, r"\bsous curatelle", r"\bmon curateur", r"\bma curatrice"):
        facts["legal_protection"] = "curatorship"
    if _has(t, r"\bsous tutelle", r"\bmon tuteur", r"\bma tutrice"):
        facts["legal_protection"] = "guardianship"
    if _has(t, r"\ba deux\b", r"\bensemble\b.*\bsouscri", r"\bco-?souscri", r"\bsouscrire avec "
            r"(?:mon|ma)", r"\bconjointement\b"):  # fmt: skip
        facts["co_subscription"] = True
    if _has(t, r"\bdemembrement", r"\busufruit", r"\bnue[- ]propriete"):
        facts["dismembered_ownership"] = True
    return facts


# ---------------------------------------------------------------- contact details

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
_PHONE = re.compile(r"(?:\+33|0033|\b0)\s*[1-9](?:[\s.-]*\d{2}){4}\b")


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text[:MAX_PARSED_CHARS])
    return match.group().lower() if match else None


def find_phone(text: str) -> str | None:
    """A French phone number, normalised to "0X XX XX XX XX"."""
    match = _PHONE.search(text[:MAX_PARSED_CHARS])
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group())
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33"):
        digits = "0" + digits[2:]
    if len(digits) != 10:
        return None
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def clean_name(text: str) -> str:
    """A person's name from "je m'appelle Jeanne Martin" / "Jeanne Martin"; ParseError if none."""
    raw = "".join(ch for ch in text[:MAX_PARSED_CHARS] if unicodedata.category(ch)[0] != "C")
    raw = re.sub(
        r"^\s*(?:je m'appelle|je m’appelle|mon nom est|mon nom c'est|moi c'est|c'est|je suis)\s+",
        "", raw, flags=re.IGNORECASE,
    )  # fmt: skip
    raw = re.sub(r"\s+", " ", raw).strip(" .,!;:")
    if not re.fullmatch(r"[^\W\d_]+(?:[ '’.-]+[^\W\d_]+){0,5}\.?", raw) or len(raw) > 100:
        raise ParseError(
            "Indiquez simplement votre prénom et votre nom, par exemple « Camille Martin »."
        )
    if _EMAIL.search(raw) or any(ch.isdigit() for ch in raw):
        raise ParseError("Indiquez votre nom seul ; je vous demanderai ensuite vos coordonnées.")
    return raw.title() if raw.islower() or raw.isupper() else raw


def mask_email(email: str) -> str:
    """For logs: j***@example.fr."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"** ** ** ** {digits[-2:]}" if len(digits) >= 2 else "**"
