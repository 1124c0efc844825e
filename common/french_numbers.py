"""Numbers written in French: digits with French separators and number words.

Used wherever a user's or a model's text is compared with figures: "1 500 €", "1,5 k€",
"quatorze jours", "quatre-vingt-dix-neuf", "deux mille cinq cents"; `find_numbers` also reads
approximate quantities ("une cinquantaine", "la quarantaine", "une dizaine de milliers") and says
where each number stands in the text.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_UNITS = {
    "zéro": 0, "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
    "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20,
    "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70,
    "huitante": 80, "octante": 80, "nonante": 90,
}  # fmt: skip
_HUNDRED = {"cent", "cents"}
_SCALES = {"mille": 1_000, "million": 1_000_000, "millions": 1_000_000,
           "milliard": 1_000_000_000, "milliards": 1_000_000_000}  # fmt: skip
NUMBER_WORDS = frozenset(_UNITS) | _HUNDRED | frozenset(_SCALES) | {"et"}

# 1 500 / 1 500,50 / 1500 / 1.5 / 12,5 — spaces (also no-break) as thousands separators.
_DIGITS = re.compile(r"(?<![\w,.])\d{1,3}(?:[  \u202f]\d{3})+(?:,\d+)?(?![\d])|\d+(?:[.,]\d+)?")
_WORD_RUN = re.compile(
    r"\b(?:(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")(?:[\s-]+|\b))+",
    re.IGNORECASE,
)


def words_to_number(text: str) -> int | None:
    """Value of a run of French number words, or None when it is not a number."""
    tokens = [t for t in re.split(r"[\s-]+", text.lower().strip()) if t and t != "et"]
    if not tokens or any(t not in NUMBER_WORDS for t in tokens):
        return None
    total, current = 0, 0
    previous = ""
    for token in tokens:
        if token in _UNITS:
            value = _UNITS[token]
            if value == 20 and previous == "quatre":
                current += 80 - 4  # "quatre-vingt(s)" is 80, not 4 + 20
            else:
                current += value
        elif token in _HUNDRED:
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[token]
            current = 0
        previous = token
    return total + current


def parse_decimal(text: str) -> Decimal | None:
    """'1 500,50' → 1500.50; '12.5' → 12.5; None when it is not a number."""
    cleaned = re.sub(r"[  \u202f]", "", text.strip()).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def canonical(value: Decimal | int) -> str:
    """One spelling per value: '1500', '12.5'."""
    normalized = Decimal(value).normalize()
    text = format(normalized, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def numbers_in(text: str) -> set[str]:
    """Every number of a text (digits and French number words) in canonical form."""
    found: set[str] = set()
    for match in _DIGITS.finditer(text):
        value = parse_decimal(match.group())
        if value is not None:
            found.add(canonical(value))
    for match in _WORD_RUN.finditer(text):
        words = match.group().strip(" -")
        if words.lower() in {"un", "une", "et"}:
            continue  # articles, not quantities
        number = words_to_number(words)
        if number is not None:
            found.add(canonical(number))
    return found


def parse_amount(text: str) -> Decimal | None:
    """A single amount as users write it: '1 500 €', '1,5 k€', '2k', 'cent euros', '1.2 M€'."""
    lowered = text.lower().replace("euros", "").replace("euro", "").replace("€", "").strip()
    multiplier = Decimal(1)
    suffix = re.search(r"\s*(k|m)\s*$", lowered)
    if suffix:
        multiplier = Decimal(1_000 if suffix.group(1) == "k" else 1_000_000)
        lowered = lowered[: suffix.start()]
    lowered = lowered.strip()
    value = parse_decimal(lowered)
    if value is None:
        words = words_to_number(lowered)
        value = Decimal(words) if words is not None else None
    return None if value is None else value * multiplier


_UNIT_ALIASES = {
    "€": "eur", "euro": "eur", "euros": "eur", "eur": "eur",
    "%": "pct", "pour cent": "pct", "pourcent": "pct",
    "jour": "jour", "jours": "jour", "j": "jour",
    "semaine": "semaine", "semaines": "semaine",
    "mois": "mois",
    "an": "an", "ans": "an", "année": "an", "années": "an",
    "heure": "heure", "heures": "heure", "h": "heure",
    "km": "km", "kilomètre": "km", "kilomètres": "km",
}  # fmt: skip
_NUMBER_TOKEN = (
    r"\d{1,3}(?:[  \u202f]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?|(?:(?:"
    + "|".join(sorted(NUMBER_WORDS - {"et", "un", "une"}, key=len, reverse=True))
    + r")(?:[\s-]+(?:et[\s-]+)?|\b))+"
)
_QUANTITY = re.compile(
    r"(?<![\w,.])("
    + _NUMBER_TOKEN
    + r")\s*("
    + "|".join(re.escape(u) for u in sorted(_UNIT_ALIASES, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)


def quantities_in(text: str) -> set[tuple[str, str]]:
    """(value, unit) pairs of a text: '14 jours' → ('14', 'jour'), '1 500 €' → ('1500', 'eur')."""
    found: set[tuple[str, str]] = set()
    for match in _QUANTITY.finditer(text):
        raw, unit = match.group(1).strip(" -"), match.group(2).lower()
        value = parse_decimal(raw)
        if value is None:
            words = words_to_number(raw)
            value = Decimal(words) if words is not None else None
        if value is not None:
            found.add((canonical(value), _UNIT_ALIASES[unit]))
    return found


# "une cinquantaine" is about 50, "deux centaines" 200, "un millier" 1 000.
APPROXIMATE_NOUNS = {
    "dizaine": 10, "douzaine": 12, "quinzaine": 15, "vingtaine": 20, "trentaine": 30,
    "quarantaine": 40, "cinquantaine": 50, "soixantaine": 60, "septantaine": 70,
    "huitantaine": 80, "nonantaine": 90, "centaine": 100, "millier": 1_000,
}  # fmt: skip


@dataclass(frozen=True)
class NumberSpan:
    """A number found in a text: where it stands, its value, and how it was written."""

    start: int
    end: int
    value: Decimal
    # A bare "un" / "une": as often an article as a number.
    article: bool = False
    # An approximation: "une trentaine", "une dizaine de milliers".
    approximate: bool = False


_WORD = "|".join(sorted(NUMBER_WORDS - {"et"}, key=len, reverse=True))
# "et" joins numbers only after the tens: "vingt et un", "soixante et onze".
_TENS_ET = (
    "(?:"
    + "|".join(f"(?<={tens})" for tens in ("vingt", "trente", "quarante", "cinquante", "soixante",
                                           "septante", "huitante", "octante", "nonante"))
    + r")[\s-]+et[\s-]+(?:un|une|onze)\b"
)  # fmt: skip
_FOUND_NUMBER = re.compile(
    # "une cinquantaine", "deux centaines", "une dizaine de milliers"
    r"\b(?:(?P<count>" + _WORD + r")[\s-]+)?(?P<approx>" + "|".join(APPROXIMATE_NOUNS) + r")s?\b"
    r"(?P<thousands>\s*(?:de\s+|d')(?:milliers|mille)\b)?"
    # 10 000 / 10.000 / 1 500,50, then plain digits, never glued after a letter ("T2", "F3");
    # a scale word may follow ("30 mille", "1,2 million")
    r"|(?<![\w.,])(?P<digits>\d{1,3}(?:([ .])\d{3})(?:\2\d{3})*(?:,\d+)?(?![\d])"
    r"|\d+(?:[.,]\d+)?)(?:[\s-]+(?P<scale>mille|millions?|milliards?)\b)?"
    # "quarante-deux", "deux mille cinq cents", "soixante et onze" (but "trois et cinq" is two)
    r"|\b(?P<words>(?:" + _WORD + r")(?:[\s-]+(?:" + _WORD + r")|" + _TENS_ET + r")*)\b",
    re.IGNORECASE,
)


def _digits_value(digits: str) -> Decimal | None:
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+(?:,\d+)?", digits):
        digits = re.sub(r"[ .]", "", digits)  # thousands separators, "." included
    return parse_decimal(digits)


def find_numbers(text: str) -> list[NumberSpan]:
    """Every number of a lower-case text, in order, with its position: digits with French
    separators (also "35.000"), a scale word after digits ("30 mille"), runs of number words,
    approximate nouns ("une cinquantaine" = 50, "une dizaine de milliers" = 10 000). Digits
    glued after letters ("T2", "F3") are not numbers; "45ans", "50e" are."""
    found: list[NumberSpan] = []
    for match in _FOUND_NUMBER.finditer(text):
        start, end = match.span()
        if match.group("approx"):
            count = words_to_number(match.group("count") or "un") or 1
            value = Decimal(count * APPROXIMATE_NOUNS[match.group("approx").lower()])
            if match.group("thousands"):
                value *= 1000
            found.append(NumberSpan(start, end, value, approximate=True))
        elif match.group("digits"):
            parsed = _digits_value(match.group("digits"))
            if parsed is not None:
                scale = match.group("scale")
                if scale:
                    parsed *= _SCALES[scale.lower()]
                found.append(NumberSpan(start, end, parsed))
        else:
            number = words_to_number(match.group("words"))
            if number is not None:
                article = match.group("words").lower() in {"un", "une"}
                found.append(NumberSpan(start, end, Decimal(number), article=article))
    return found
