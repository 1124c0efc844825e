"""Numbers written in French: digits with French separators and number words.

Used wherever a user's or a model's text is compared with figures: "1 500 €", "1,5 k€",
"quatorze jours", "quatre-vingt-dix-neuf", "deux mille cinq cents".
"""

import re
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
