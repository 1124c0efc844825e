"""Reading the prospect's French answers into slot values, shared by every action.

Two kinds of reading, both on normalised text (`actions.text`) with the patterns of
`actions/vocabulary.yml`:
- `parse_answer(slot, text)`: the answer to the question the assistant just asked ("42",
  "quarante-deux", "oui", "une voiture et un scooter"); the slot tells how to read it;
- `volunteered_facts(text)`: facts stated spontaneously, in or out of the form ("en fait j'ai 42
  ans", "je suis locataire", "je suis sous curatelle"); only unambiguous phrasings are read.
`yes_no`, `is_dont_know` and `clean_name` (a person's name) serve the consent and handoff forms.

Every function returns plain values (the slot values) or raises `ParseError` with a French hint.
Numbers go through `common.french_numbers` (digits with French separators and number words).
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from actions.text import MAX_PARSED_CHARS, has, normalize, vocabulary
from common.contact import find_email
from common.french_numbers import NUMBER_WORDS, parse_amount, parse_decimal, words_to_number

# The value of a fact the prospect did not know: it stays unknown and is not asked again.
SKIPPED = "unknown"


class ParseError(ValueError):
    """The answer could not be read; the message is a French hint for the prospect."""


@dataclass(frozen=True)
class Term:
    """A value of a choice or list slot and the patterns that name it."""

    value: str
    patterns: tuple[str, ...]


_VOCABULARY = vocabulary()
_YES: tuple[str, ...] = tuple(_VOCABULARY["affirmative"])
_NO: tuple[str, ...] = tuple(_VOCABULARY["negative"])
_DONT_KNOW: tuple[str, ...] = tuple(_VOCABULARY["dont_know"])
_NONE_SAID: tuple[str, ...] = tuple(_VOCABULARY["none_said"])
# Vocabulary name ("housing", "vehicles"…) → its terms, in the file's order.
TERMS: dict[str, tuple[Term, ...]] = {
    name: tuple(Term(str(value), tuple(patterns)) for value, patterns in terms.items())
    for name, terms in _VOCABULARY["terms"].items()
}


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


def is_dont_know(text: str) -> bool:
    return has(normalize(text), _DONT_KNOW)


def yes_no(text: str, intent: str | None = None) -> bool | None:
    if intent in ("affirm", "give_consent"):
        return True
    if intent in ("deny", "refuse_consent"):
        return False
    text = normalize(text)
    no = has(text, _NO)
    yes = has(text, _YES)
    if yes and not no:
        return True
    if no and not yes:
        return False
    return None


# ---------------------------------------------------------------- answers to a question


def _terms(text: str, terms: tuple[Term, ...]) -> list[str]:
    found: list[str] = []
    for term in terms:
        if has(text, term.patterns) and term.value not in found:
            found.append(term.value)
    return found


def _one(text: str, terms: tuple[Term, ...], hint: str) -> str:
    found = _terms(normalize(text), terms)
    if not found:
        raise ParseError(hint)
    return found[0]


def _none_said(text: str) -> bool:
    return has(text, _NONE_SAID)


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
        TERMS["housing"], "Dites-moi si vous êtes locataire, propriétaire ou logé(e) gratuitement."
    ),
    "rented_out_properties": _rented_out,
    "vehicles": _list_of(
        TERMS["vehicles"],
        "Citez vos véhicules (voiture, moto, scooter, cyclomoteur, camping-car) ou "
        "répondez « aucun ».",
    ),
    "projects": _list_of(
        TERMS["projects"],
        "Citez votre projet (achat immobilier avec un prêt, épargne, retraite, "
        "transmission) ou répondez « aucun ».",
    ),
    "loan_duration_years": _years_of(
        "Indiquez la durée du prêt en années, par exemple « 20 ans ».", 40
    ),
    "employment_status": _choice(
        TERMS["employment"],
        "Dites-moi si vous êtes salarié(e), indépendant(e), retraité(e), "
        "étudiant(e) ou sans emploi.",
    ),
    "employer_health_plan": _boolean("Répondez par oui ou par non."),
    "family_situation": _choice(
        TERMS["family"],
        "Dites-moi si vous êtes célibataire, marié(e), pacsé(e), en couple, divorcé(e) "
        "ou veuf(ve).",
    ),
    "number_of_dependants": _count(
        "Indiquez un nombre de personnes, par exemple « 2 » ou « aucune »."
    ),
    "children_at_school": _count("Indiquez un nombre d'enfants, par exemple « 1 » ou « aucun »."),
    "pets": _list_of(
        TERMS["pets"], "Dites-moi si vous avez un chien, un chat, ou répondez « non »."
    ),
    "pet_age_years": _years_of(
        "Indiquez l'âge de votre animal en années, par exemple « 3 ans ».", 40
    ),
    "investor_knowledge": _choice(
        TERMS["knowledge"],
        "Dites-moi si vos connaissances sont nulles, de base, bonnes ou expertes.",
    ),
    "investor_experience": _choice(
        TERMS["experience"],
        "Citez vos placements : livrets, fonds en euros, unités de compte, actions, ou « aucun ».",
    ),
    "annual_income_eur": _money("Indiquez un montant annuel, par exemple « 45 000 € »."),
    "financial_assets_eur": _money("Indiquez un montant, par exemple « 20 000 € » ou « 20 k€ »."),
    "monthly_commitments_eur": _money("Indiquez un montant mensuel, par exemple « 800 € »."),
    "investment_objectives": _list_of(
        TERMS["objectives"],
        "Choisissez : préserver le capital, le faire fructifier, obtenir des revenus, "
        "préparer la retraite ou transmettre.",
    ),
    "investment_horizon_years": _years_of(
        "Indiquez une durée en années, par exemple « 8 ans ».", 60
    ),
    "risk_tolerance": _choice(
        TERMS["risk"], "Choisissez un niveau : très faible, faible, modéré, élevé ou très élevé."
    ),
    "loss_capacity": _choice(
        TERMS["loss"],
        "Dites-moi si vous pourriez supporter aucune perte, une perte limitée, une perte "
        "importante ou la perte totale du capital.",
    ),
    "monthly_budget_eur": _money("Indiquez un montant par mois, par exemple « 80 € »."),
    "current_coverage": _list_of(
        TERMS["coverage"], "Citez vos contrats (auto, habitation, santé…) ou répondez « aucun »."
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


def _statement(text: str, statement: dict[str, Any]) -> Any:
    """The value a statement of the vocabulary file reads in a normalised text, or None."""
    if "number" in statement:
        match = re.search(statement["number"], text)
        return first_integer(match.group(1), 0, statement["max"]) if match else None
    if "terms" in statement:
        found = _terms(text, TERMS[statement["terms"]])
        if not found:
            return None
        return found if statement.get("all") else found[0]
    return statement["value"] if has(text, statement["patterns"]) else None


def volunteered_facts(text: str) -> dict[str, Any]:
    """Facts stated in any message, read only from unambiguous phrasings."""
    normalized = normalize(text)
    facts: dict[str, Any] = {}
    for statement in _VOCABULARY["statements"]:
        value = _statement(normalized, statement)
        if value is not None and has(normalized, statement.get("cues") or ["^"]):
            facts[statement["slot"]] = value
    return facts


# ---------------------------------------------------------------- names


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
    if find_email(raw) is not None or any(ch.isdigit() for ch in raw):
        raise ParseError("Indiquez votre nom seul ; je vous demanderai ensuite vos coordonnées.")
    return raw.title() if raw.islower() or raw.isupper() else raw
