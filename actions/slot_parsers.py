"""Reading the prospect's French answers into slot values, shared by every action.

Two kinds of reading, both on prepared text (`actions.text`: normalised, SMS shorthand written
out, misspellings corrected) with the patterns of `actions/vocabulary.yml`:
- `parse_answer(slot, text)`: the answer to the question the assistant just asked ("42",
  "quarante-deux", "oui", "une voiture et un scooter", "non, aucun véhicule"); the slot tells how
  to read it;
- `volunteered_facts(text)`: facts stated spontaneously, in or out of the form ("en fait j'ai 42
  ans", "je suis locataire", "je suis sous curatelle"); only unambiguous phrasings are read.
`yes_no`, `is_dont_know` and `clean_name` (a person's name) serve the consent and handoff forms.

Every reading is negation-aware: a term a negation covers is excluded ("pas de voiture mais un
scooter" is a scooter), an answer that only negates is "none" (an empty list, 0), and a number
a negation covers is skipped ("pas 30 ans, 29"). A correction wins ("42, ah non pardon 43");
hedges and bounds are read through ("environ 50", "pas plus de 100 €", "une cinquantaine");
ranges give their midpoint, amounts joined by "et" add up, a monthly amount answers a yearly
question times 12. Every function returns plain values (the slot values) or raises
`ParseError` with a French hint.
"""

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from actions.text import (
    MAX_PARSED_CHARS,
    compiled,
    correction,
    has,
    is_negated,
    negated_spans,
    negation_cues,
    prepare,
    strip,
    vocabulary,
)
from common.contact import find_email
from common.french_numbers import NumberSpan, find_numbers

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
_STILL_ANSWERS: tuple[str, ...] = tuple(_VOCABULARY["still_answers"])
_NONE_SAID: tuple[str, ...] = tuple(_VOCABULARY["none_said"])
_UNDECIDED: tuple[str, ...] = tuple(_VOCABULARY["undecided"])
_FILLERS: tuple[str, ...] = tuple(_VOCABULARY["fillers"])
_ADVISOR: tuple[str, ...] = tuple(_VOCABULARY["advisor"])
_PUT_OFF: tuple[str, ...] = tuple(_VOCABULARY["put_off"])
_REFUSE_TO_ANSWER: tuple[str, ...] = tuple(_VOCABULARY["refuse_to_answer"])
_HEDGES: tuple[str, ...] = tuple(_VOCABULARY["hedges"])
_ANYTIME: tuple[str, ...] = tuple(_VOCABULARY["available_anytime"])
_OTHERS: tuple[str, ...] = tuple(_VOCABULARY["others"])
_SELF: tuple[str, ...] = tuple(_VOCABULARY["self"])
# Vocabulary name ("housing", "vehicles"…) → its terms, in the file's order.
TERMS: dict[str, tuple[Term, ...]] = {
    name: tuple(Term(str(value), tuple(patterns)) for value, patterns in terms.items())
    for name, terms in _VOCABULARY["terms"].items()
}
# Vocabularies of a present state, where the past also negates ("ancien salarié").
_STATES = frozenset({"housing", "employment", "family", "vehicles", "pets", "coverage"})


def _counted(name: str) -> str:
    return "|".join(_VOCABULARY["counted"][name])


_PEOPLE, _SCHOOL, _HOMES = _counted("people"), _counted("school"), _counted("homes")


# ---------------------------------------------------------------- reading helpers


def _answer(text: str) -> str:
    """The prepared answer, without a "je ne sais pas" that an answer follows."""
    prepared = prepare(text)
    if has(prepared, _DONT_KNOW):
        rest = strip(prepared, _DONT_KNOW)
        if rest:
            return rest
    return prepared


class _Reading:
    """One prepared text and, computed once, what negations cover in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._spans: dict[bool, tuple[tuple[int, int], ...]] = {}
        self._cues: dict[bool, tuple[int, ...]] = {}

    def spans(self, past: bool = False) -> tuple[tuple[int, int], ...]:
        if past not in self._spans:
            self._spans[past] = negated_spans(self.text, past)
        return self._spans[past]

    def cues(self, past: bool = False) -> tuple[int, ...]:
        if past not in self._cues:
            self._cues[past] = tuple(start for start, _ in negation_cues(self.text, past))
        return self._cues[past]


def _terms(
    text: str | _Reading, terms: Iterable[Term], past: bool = False
) -> tuple[list[str], list[str]]:
    """The values named in a prepared text, and those named only under a negation. A pattern
    that spells its own negation ("aucun risque", "ne travaille pas") is not negated by it."""
    reading = text if isinstance(text, _Reading) else _Reading(text)
    spans, cues = reading.spans(past), reading.cues(past)
    found: list[str] = []
    negated: list[str] = []
    for term in terms:
        said = said_not = False
        for pattern in term.patterns:
            for match in compiled(pattern).finditer(reading.text):
                own = any(match.start() <= cue < match.end() for cue in cues)
                if own or not is_negated(spans, match.start()):
                    said = True
                else:
                    said_not = True
        if said:
            found.append(term.value)
        elif said_not:
            negated.append(term.value)
    return found, negated


def _negative(text: str) -> bool:
    """Whether a prepared answer says "no" or "none" in some way."""
    return bool(negation_cues(text)) or has(text, _NONE_SAID)


def _corrected(read: Callable[[str], Any], text: str, numeric: bool = False) -> Any:
    """`read` of what follows a correction when it can be read, else of the whole answer."""
    after = correction(text, numeric)
    if after:
        try:
            return read(after)
        except ParseError:
            pass
    return read(text)


def _numbers(text: str, articles: bool = False) -> list[NumberSpan]:
    """The numbers of a prepared text that no negation covers ("pas 30 ans, 29": 29)."""
    spans = negated_spans(text)
    return [
        number
        for number in find_numbers(text)
        if not is_negated(spans, number.start) and (articles or not number.article)
    ]


def _ranges(text: str, numbers: list[NumberSpan], unit: str) -> list[NumberSpan]:
    """The numbers with each range ("entre 40 et 50", "15 à 20 ans", "50-60", "50 ou 60")
    merged into its midpoint, spanning both bounds; the smaller bound takes the larger's scale
    ("entre 40 et 50 000" is 45 000). `unit`: what may follow the first bound."""
    merged: list[NumberSpan] = []
    index = 0
    while index < len(numbers):
        first = numbers[index]
        if index + 1 < len(numbers):
            second = numbers[index + 1]
            gap = text[first.end : second.start]
            entre = re.search(r"\b(?:entre|de)\s*$", text[: first.start])
            if re.fullmatch(rf"\s*(?:{unit})?\s*(?:a|-|ou)\s*", gap) or (
                entre and re.fullmatch(rf"\s*(?:{unit})?\s*(?:et|a)\s*", gap)
            ):
                low, high = first.value, second.value
                if 0 < low < high / 100 and high >= 1000:
                    low *= 1000
                merged.append(NumberSpan(first.start, second.end, (low + high) / 2))
                index += 2
                continue
        merged.append(first)
        index += 1
    return merged


# ---------------------------------------------------------------- numbers: age, durations


_DURATION_UNITS = {"an": 1.0, "ans": 1.0, "annee": 1.0, "annees": 1.0, "mois": 1 / 12}
_DURATION = re.compile(r"\s*(?:d'|de )?(ans?|annees?|mois)\b(\s+et\s+demie?)?")
# Before a year of birth: "je suis né en 1980", "née le 3 mai 1975", "je suis de 1980".
_BORN = re.compile(r"\b(?:nee?s?|naissance|je suis de|annee)\b[^,.;!?]{0,15}$")
# After a number, what still lets it be an age or a number of years.
_BARE = re.compile(r"\s*(?:$|[,.;:!?)]|(?:et|ou|a|je|j'|pile|passes?|revolus|depuis|pour|sur)\b)")


def _durations(text: str) -> list[tuple[NumberSpan, float, bool]]:
    """The numbers of a prepared text that may be durations, in years, and whether a unit
    follows them ("18 mois" = 1.5, "un an et demi" = 1.5, "10"); ranges merged."""
    kept: list[NumberSpan] = []
    for number in _numbers(text, articles=True):
        unit = _DURATION.match(text, number.end)
        if (unit and (not number.article or unit.group(1))) or (
            not number.article and _BARE.match(text, number.end)
        ):
            kept.append(number)
    found = []
    for number in _ranges(text, kept, r"ans?|annees?|mois"):
        unit = _DURATION.match(text, number.end)
        years = float(number.value) * (_DURATION_UNITS[unit.group(1)] if unit else 1.0)
        if unit and unit.group(2):
            years += 0.5 * _DURATION_UNITS[unit.group(1)]
        found.append((number, years, unit is not None))
    return found


def _age(text: str, intent: str | None) -> Any:
    def read(answer: str) -> int:
        answer = strip(answer, _HEDGES)
        this_year = datetime.now(UTC).year
        for number in _numbers(answer):
            born = _BORN.search(answer[: number.start]) or not answer[: number.start].strip()
            if born and 1900 <= number.value <= this_year and number.value == int(number.value):
                return this_year - int(number.value)  # a year of birth: "né en 1980", "1980"
        found = _durations(answer)
        own = [(value, unit) for number, value, unit in found if not _someone_else(answer, number)]
        found_own = own or [(value, unit) for _, value, unit in found]
        values = [value for value, unit in found_own if unit] or [v for v, _ in found_own]
        if not values:
            raise ParseError(
                "Indiquez votre âge en années, par exemple « 42 » ou « quarante-deux »."
            )
        value = math.floor(values[0] + 1e-9)  # "35 ans et demi" is 35
        if value > 120:
            raise ParseError("Cet âge ne semble pas possible : indiquez votre âge en années.")
        return value

    return _corrected(read, _answer(text), numeric=True)


def _someone_else(text: str, number: NumberSpan) -> bool:
    """Whether the phrase a number ends speaks of someone else ("mon mari a 50 ans")."""
    phrase = re.split(r"[,;.!?]|\bet\b|\bmais\b", text[: number.start])[-1]
    return has(phrase, _OTHERS) and not has(phrase, _SELF)


def _years_of(
    hint: str, high: int, eldest: bool = False, anytime: bool = False
) -> Callable[[str, str | None], Any]:
    """A duration in whole years, rounded up ("18 mois" = 2); with `eldest`, the largest of
    several ("le chien a 3 ans et le chat 10": 10, the age that decides eligibility); with
    `anytime`, 0 for money that must stay available ("à tout moment")."""

    def parse(text: str, intent: str | None) -> Any:
        def read(answer: str) -> int:
            if has(answer, _UNDECIDED):
                raise _UndecidedError
            found = [value for _, value, _ in _durations(strip(answer, _HEDGES))]
            if not found and anytime and has(answer, _ANYTIME):
                return 0
            if not found:
                raise ParseError(hint)
            value = math.ceil((max(found) if eldest else found[0]) - 1e-9)
            if value > high:
                raise ParseError(f"Indiquez une durée d'au plus {high} ans.")
            return value

        return _undecided_or(read, _answer(text))

    return parse


class _UndecidedError(Exception):
    """The answer decides nothing ("ça dépend"): the fact is left unknown."""


def _undecided_or(read: Callable[[str], Any], text: str, numeric: bool = True) -> Any:
    try:
        return _corrected(read, text, numeric)
    except _UndecidedError:
        return SKIPPED


# ---------------------------------------------------------------- numbers: counts


def _groups(text: str, numbers: list[NumberSpan], nouns: str) -> list[int]:
    """The numbers followed by what is counted ("deux enfants", "un au collège")."""
    pattern = compiled(rf"\s*(?:\S+\s+)?(?:{nouns})")
    return [int(n.value) for n in numbers if pattern.match(text, n.end)]


def _named(text: str, kind: str) -> int:
    """How many of the `counted` persons of a kind a prepared text names, not negated."""
    spans = negated_spans(text)
    return sum(
        1
        for pattern in _VOCABULARY["counted"][kind]
        for match in compiled(pattern).finditer(text)
        if not is_negated(spans, match.start())
    )


def _persons(text: str, children_counted: bool) -> int:
    """The persons named alone: "ma femme" 1, "mes parents" 2, and when no number of children
    was given, "mon fils" 1, "des jumeaux" 2."""
    adults = _named(text, "adults") + 2 * _named(text, "pairs")
    if children_counted:
        return adults
    children = _named(text, "children") + 2 * _named(text, "twins")
    return adults + children + 3 * _named(text, "triplets")


def _count(hint: str, nouns: str, school: bool = False, high: int = 20) -> Callable[..., Any]:
    """A number of persons or things: the groups named ("ma femme et mes deux enfants": 3),
    else the first number ("les deux"), else 0 for a "none" ("personne", "pas d'enfant").
    With `school`, a child named without a number counts when said to be at school ("mon fils
    est au collège")."""

    def parse(text: str, intent: str | None) -> Any:
        def read(answer: str) -> int:
            answer = strip(answer, _HEDGES)
            head = re.split(r"\bdont\b", answer)[0]  # "deux dont un en maternelle"
            numbers = [n for n in _numbers(head, articles=True) if n.value == int(n.value)]
            groups = _groups(head, numbers, nouns)
            if not school:
                named = _persons(head, children_counted=bool(groups))
            elif numbers or not compiled(_SCHOOL).search(head):
                named = 0
            else:
                named = _named(head, "children") or _named(head, "subjects")
            if groups or named:
                value = sum(groups) + named
            elif numbers:
                value = int(numbers[0].value)
            elif _negative(answer) or intent == "deny":
                return 0
            else:
                raise ParseError(hint)
            if value > high:
                raise ParseError(f"Ce nombre semble trop élevé (au plus {high}). {hint}")
            return value

        return _corrected(read, _answer(text), numeric=True)

    return parse


def _rented_out(text: str, intent: str | None) -> Any:
    hint = "Répondez par oui ou non, ou indiquez le nombre de logements que vous louez."

    def read(answer: str) -> int:
        numbers = [n for n in _numbers(answer, articles=True) if n.value == int(n.value)]
        groups = _groups(answer, numbers, _HOMES)
        bare = [n for n in numbers if not n.article]
        value = sum(groups) if groups else int(bare[0].value) if bare else None
        if value is None:
            said = yes_no(answer, intent)
            if said is None and not _negative(answer):
                raise ParseError(hint)
            return int(bool(said))  # "j'avais un studio, je l'ai vendu": none now
        if value > 100:
            raise ParseError("Indiquez le nombre de logements que vous louez (au plus 100).")
        return value

    return _corrected(read, _answer(text), numeric=True)


# ---------------------------------------------------------------- numbers: amounts


_PER_MONTH = r"\bpar mois\b|/ ?mois\b|\bmensuel\w*|\bchaque mois\b|\bpar moi\b"
_PER_YEAR = r"\bpar an\b|/ ?an\b|\bannuel\w*|\bpar annee\b|\bchaque annee\b|\ba l'annee\b"
_THOUSANDS = re.compile(r"\s*(?:k ?(?:€|e\b|eur\w*)?|keur\w*|kilo)\b|\s*k(?=\W|$)")
_MILLIONS = re.compile(r"\s*(?:m€|meur\w*)")
# After an amount: what still lets it be an amount ("800 de loyer", "50 € par mois").
_MONEY_FOLLOWER = re.compile(
    r"\s*(?:$|[,.;:!?)/+&€=-]|(?:e|eu|eur|euros?|balles|boules|de|d'|du|des|par|net|nets|brut"
    r"|bruts|mensuel\w*|annuel\w*|max\w*|mini\w*|et|ou|a|au|pour|sur|en|chaque|tous|toutes"
    r"|hors|avec|voire|enfin|pardon|plutot|chacun|mais|sinon|soit|dont|le|la|les|l')\b)"
)
_EQUIVALENT = re.compile(r"\b(?:soit|c'est a dire|ca fait|donc|=)\b|=")


def _amounts(text: str) -> list[tuple[float, str | None]]:
    """The amounts of a prepared text in euros, with the period said after each, if any."""
    kept: list[NumberSpan] = []
    for number in _numbers(text):
        end = number.end
        scale = _THOUSANDS.match(text, end) or _MILLIONS.match(text, end)
        if scale:
            factor = 1000 if scale.re is _THOUSANDS else 1_000_000
            number = NumberSpan(number.start, scale.end(), number.value * factor)
        if _MONEY_FOLLOWER.match(text, number.end):
            kept.append(number)
    values = _ranges(text, kept, r"€|euros?|k")
    amounts: list[tuple[float, str | None]] = []
    for index, number in enumerate(values):
        if index and _EQUIVALENT.search(text[values[index - 1].end : number.start]):
            continue  # "2 500 € par mois, soit 30 000 par an": the same amount twice
        following = values[index + 1].start if index + 1 < len(values) else len(text)
        amounts.append((float(number.value), _period(text[number.end : following])))
    return amounts


def _period(text: str) -> str | None:
    if compiled(_PER_MONTH).search(text):
        return "month"
    return "year" if compiled(_PER_YEAR).search(text) else None


def _money(hint: str, per: str | None = None, undecided: bool = False) -> Callable[..., Any]:
    """An amount in euros; several amounts add up ("800 de loyer et 300 de crédit"); with `per`
    ("month", "year"), an amount given for the other period is converted."""

    def parse(text: str, intent: str | None) -> Any:
        def read(answer: str) -> float:
            if undecided and has(answer, _UNDECIDED):
                raise _UndecidedError
            answer = strip(answer, _HEDGES)
            found = _amounts(answer)
            if not found:
                if _negative(answer) or intent == "deny":
                    return 0.0
                raise ParseError(hint)
            said = _period(answer)
            total = 0.0
            for value, period in found:
                period = period or said
                if per == "year" and period == "month":
                    value *= 12
                elif per == "month" and period == "year":
                    value /= 12
                total += value
            if total > 100_000_000:
                raise ParseError("Ce montant semble trop élevé. " + hint)
            return round(total, 2)

        return _undecided_or(read, _answer(text))

    return parse


# ---------------------------------------------------------------- yes / no / don't know


def defers_to_advisor(text: str) -> bool:
    """Whether the message leaves the question to an advisor ("je préfère voir ça avec un
    conseiller", "laissons ça au conseiller") or refuses to answer it here."""
    prepared = prepare(text)
    if has(prepared, _REFUSE_TO_ANSWER):
        return True
    return has(prepared, _ADVISOR) and has(prepared, _PUT_OFF)


def is_dont_know(text: str) -> bool:
    """Whether the message says "I don't know" and nothing more ("je ne sais pas, disons 60"
    gives an answer)."""
    prepared = prepare(text)
    if not has(prepared, _DONT_KNOW):
        return False
    rest = strip(strip(prepared, _DONT_KNOW), _FILLERS)
    return not has(rest, _STILL_ANSWERS)


def _polarity(text: str, opening: bool = False) -> bool | None:
    """Yes, no or unclear: the answer's first word decides when it is a yes or a no, else the
    only kind of word present ("je crois que oui", "pas que je sache"); with `opening`, only a
    yes or a no that opens the text counts."""
    text = strip(strip(text, _FILLERS), _HEDGES)
    yes = [m.start() for p in _YES for m in compiled(p).finditer(text)]
    no = [m.start() for p in _NO for m in compiled(p).finditer(text)]
    # "pas de souci", "sans problème" are yeses: their "pas" and "sans" are not a no
    no = [n for n in no if not any(n == y for y in yes)]
    if not yes and not no:
        return None
    first = min([*yes, *no])
    if first <= 4 or not ((yes and no) or opening):
        return first in yes
    return None


def yes_no(text: str, intent: str | None = None) -> bool | None:
    """The answer to a yes / no question: the text's own yes or no, corrections included ("oui,
    enfin non"), else the intent's."""
    prepared = _answer(text)
    after = correction(prepared)
    # "oui, enfin non": the correction answers; "oui. Pardon, j'ai 61 ans, pas 71": it does not
    value = _polarity(after, opening=True) if after else None
    if value is None:
        value = _polarity(prepared)
    if value is None and intent in ("affirm", "give_consent"):
        return True
    if value is None and intent in ("deny", "refuse_consent"):
        return False
    return value


def _boolean(slot: str | None, hint: str) -> Callable[[str, str | None], Any]:
    """A yes / no answer, or, without a yes or a no, the question's own words: "j'habite à
    Lille" (in France), "j'en ai une par mon travail" (a company health plan)."""
    words = _VOCABULARY["booleans"].get(slot or "", {})

    def parse(text: str, intent: str | None) -> Any:
        prepared = _answer(text)
        value = yes_no(prepared)
        if value is None:
            spans = negated_spans(prepared)
            said_no = [
                m for p in words.get("says_no") or () for m in compiled(p).finditer(prepared)
            ]
            said_yes = [
                m for p in words.get("says_yes") or () for m in compiled(p).finditer(prepared)
            ]
            if any(not is_negated(spans, m.start()) for m in said_no):
                value = False
            elif said_yes:
                value = any(not is_negated(spans, m.start()) for m in said_yes)
        if value is None:
            value = yes_no("", intent)
        if value is None:
            raise ParseError(hint)
        return value

    return parse


# ---------------------------------------------------------------- choices and lists


def _choice(name: str, hint: str, undecided: bool = False) -> Callable[..., Any]:
    """One value of a vocabulary: the first, in the file's order, that no negation covers
    ("pas salarié, indépendant": self-employed)."""

    def parse(text: str, intent: str | None) -> Any:
        def read(answer: str) -> str:
            if undecided and has(answer, _UNDECIDED):
                raise _UndecidedError
            found, _ = _terms(strip(answer, _HEDGES), TERMS[name], past=name in _STATES)
            if not found:
                raise ParseError(hint)
            return found[0]

        return _undecided_or(read, _answer(text), numeric=False)

    return parse


def _list_of(
    name: str, hint: str, none: str | None = None, denials: tuple[str, ...] = ()
) -> Callable[..., Any]:
    """The values of a vocabulary named and not negated; "none" (`[]`, or the `none` value
    where the list cannot be empty) when the answer only negates ("non", "ni chien ni chat",
    "je ne conduis pas") or names only what the question does not ask about ("juste un vélo").
    `denials` are phrases that, said after items, deny them: read as a closing "non"."""
    outside = tuple(_VOCABULARY["outside"].get(name) or ())

    def parse(text: str, intent: str | None) -> Any:
        def read(answer: str) -> Any:
            for denial in denials:
                answer = _denied_clauses(answer, denial)
            found, negated = _terms(answer, TERMS[name], past=name in _STATES)
            if found:
                return found
            if negated or _negative(answer) or has(answer, outside) or intent == "deny":
                return [] if none is None else none
            raise ParseError(hint)

        return _corrected(read, _answer(text))

    return parse


_CLAUSE_START = re.compile(r"[,.;!?]|\bmais\b|\bpar contre\b|\bsauf\b")


def _denied_clauses(answer: str, denial: str) -> str:
    """The answer with each clause a denial closes ("la maison n'est pas assurée", "l'appart et
    la moto ne sont plus couverts") replaced by a bare "non": the clause's items are not held."""
    while match := compiled(denial).search(answer):
        starts = [m.end() for m in _CLAUSE_START.finditer(answer, 0, match.start())]
        start = starts[-1] if starts else 0
        answer = f"{answer[:start]} non {answer[match.end() :]}"
    return answer


ANSWER_PARSERS: dict[str, Callable[[str, str | None], Any]] = {
    "resides_in_france": _boolean("resides_in_france", "Répondez simplement par oui ou par non."),
    "age": _age,
    "housing_status": _choice(
        "housing", "Dites-moi si vous êtes locataire, propriétaire ou logé(e) gratuitement."
    ),
    "rented_out_properties": _rented_out,
    "vehicles": _list_of(
        "vehicles",
        "Citez vos véhicules (voiture, moto, scooter, cyclomoteur, camping-car) ou "
        "répondez « aucun ».",
    ),
    "projects": _list_of(
        "projects",
        "Citez votre projet (achat immobilier avec un prêt, épargne, retraite, "
        "transmission) ou répondez « aucun ».",
    ),
    "loan_duration_years": _years_of(
        "Indiquez la durée du prêt en années, par exemple « 20 ans ».", 40
    ),
    "employment_status": _choice(
        "employment",
        "Dites-moi si vous êtes salarié(e), indépendant(e), retraité(e), "
        "étudiant(e) ou sans emploi.",
    ),
    "employer_health_plan": _boolean("employer_health_plan", "Répondez par oui ou par non."),
    "family_situation": _choice(
        "family",
        "Dites-moi si vous êtes célibataire, marié(e), pacsé(e), en couple, divorcé(e) "
        "ou veuf(ve).",
    ),
    "number_of_dependants": _count(
        "Indiquez un nombre de personnes, par exemple « 2 » ou « aucune ».", _PEOPLE
    ),
    "children_at_school": _count(
        "Indiquez un nombre d'enfants, par exemple « 1 » ou « aucun ».",
        f"{_PEOPLE}|{_SCHOOL}",
        school=True,
    ),
    "pets": _list_of("pets", "Dites-moi si vous avez un chien, un chat, ou répondez « non »."),
    "pet_age_years": _years_of(
        "Indiquez l'âge de votre animal en années, par exemple « 3 ans ».", 40, eldest=True
    ),
    "investor_knowledge": _choice(
        "knowledge", "Dites-moi si vos connaissances sont nulles, de base, bonnes ou expertes."
    ),
    "investor_experience": _choice(
        "experience",
        "Citez vos placements : livrets, fonds en euros, unités de compte, actions, ou « aucun ».",
    ),
    "annual_income_eur": _money("Indiquez un montant annuel, par exemple « 45 000 € ».", "year"),
    "financial_assets_eur": _money("Indiquez un montant, par exemple « 20 000 € » ou « 20 k€ »."),
    "monthly_commitments_eur": _money(
        "Indiquez un montant mensuel, par exemple « 800 € ».", "month"
    ),
    # the profile needs at least one objective: "aucun objectif" leaves it unknown
    "investment_objectives": _list_of(
        "objectives",
        "Choisissez : préserver le capital, le faire fructifier, obtenir des revenus, "
        "préparer la retraite ou transmettre.",
        none=SKIPPED,
    ),
    "investment_horizon_years": _years_of(
        "Indiquez une durée en années, par exemple « 8 ans ».", 60, anytime=True
    ),
    "risk_tolerance": _choice(
        "risk",
        "Choisissez un niveau : très faible, faible, modéré, élevé ou très élevé.",
        undecided=True,
    ),
    "loss_capacity": _choice(
        "loss",
        "Dites-moi si vous pourriez supporter aucune perte, une perte limitée, une perte "
        "importante ou la perte totale du capital.",
    ),
    "monthly_budget_eur": _money(
        "Indiquez un montant par mois, par exemple « 80 € ».", "month", undecided=True
    ),
    "current_coverage": _list_of(
        "coverage",
        "Citez vos contrats (auto, habitation, santé…) ou répondez « aucun ».",
        denials=tuple(_VOCABULARY["negation"]["cover_denials"]),
    ),
    "co_subscription": _boolean("co_subscription", "Répondez par oui ou par non."),
    "dismembered_ownership": _boolean("dismembered_ownership", "Répondez par oui ou par non."),
}


def parse_answer(slot: str, text: str, intent: str | None = None) -> Any:
    """Read the answer to the question about `slot`; raise ParseError with a French hint."""
    parser = ANSWER_PARSERS.get(slot)
    if parser is None:
        raise KeyError(slot)
    if not prepare(text):
        raise ParseError("Je n'ai reçu aucune réponse.")
    return parser(text, intent)


# ---------------------------------------------------------------- facts said spontaneously


def _statement(reading: _Reading, statement: dict[str, Any]) -> Any:
    """The value a statement of the vocabulary file reads in a prepared text, or None."""
    text = reading.text
    if "number" in statement:
        for match in compiled(statement["number"]).finditer(text):
            if is_negated(reading.spans(), match.start(1)):
                continue
            # read as the answer from there to the end of the sentence: "j'ai 42 ans, pardon 43"
            sentence = re.match(r"[^.;!?]*", text[match.start() : match.start() + 120])
            try:
                value = parse_answer(statement["slot"], sentence.group() if sentence else "")
            except ParseError:
                continue
            if isinstance(value, int) and value <= statement["max"]:
                return value
        return None
    if "terms" in statement:
        found, negated = _terms(reading, TERMS[statement["terms"]], statement["terms"] in _STATES)
        if statement.get("all"):
            return found or ([] if negated else None)
        return found[0] if found else None
    for pattern in statement["patterns"]:
        matches = compiled(pattern).finditer(text)
        if any(not is_negated(reading.spans(), m.start()) for m in matches):
            return statement["value"]
    return None


def volunteered_facts(text: str) -> dict[str, Any]:
    """Facts stated in any message, read only from unambiguous phrasings; what a negation covers
    is not stated ("je ne suis pas sous curatelle"), a list said "none" is empty ("je n'ai ni
    chien ni chat": no pet)."""
    reading = _Reading(prepare(text))
    facts: dict[str, Any] = {}
    for statement in _VOCABULARY["statements"]:
        value = _statement(reading, statement)
        if value is not None and has(reading.text, statement.get("cues") or ["^"]):
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
