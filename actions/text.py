"""The prospect's messages as the actions read them: normalised text, the vocabulary file, and the
scope of negations and corrections.

`normalize` is what every parser searches: lower case, accents folded, control characters, ANSI
escapes and odd spaces removed, at most `MAX_PARSED_CHARS` characters. `vocabulary()` is
`actions/vocabulary.yml`, read once: the patterns of the slot parsers and of the product
categories, written for normalised text. `prepare` goes further for the slot parsers: SMS
shorthand expanded ("jai" → "j'ai") and misspelt vocabulary words corrected ("locatère").
`negated_spans` tells which parts of a message a negation covers ("pas de voiture mais un
scooter": the car only), `correction` what follows a correction ("42, ah non pardon 43").
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from common.french_numbers import NUMBER_WORDS

# Longer messages are cut before parsing: nobody answers a question in more than this.
MAX_PARSED_CHARS = 500

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yml")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]?")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})


def normalize(text: str) -> str:
    """Lower case, accents folded, control characters and odd spaces removed, length capped."""
    text = _ANSI_ESCAPE.sub(" ", text[:MAX_PARSED_CHARS])
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in text)
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.translate(_APOSTROPHES).replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"\s+", " ", folded).strip()


def has(text: str, patterns: Iterable[str]) -> bool:
    """Whether one of the patterns is found in the (normalised) text."""
    return any(compiled(pattern).search(text) for pattern in patterns)


@cache
def vocabulary() -> dict[str, Any]:
    """The vocabulary file, parsed once."""
    with VOCABULARY_FILE.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.safe_load(file)
    return data


# ---------------------------------------------------------------- shorthand and misspellings


@cache
def _shorthand() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(k), v) for k, v in vocabulary()["shorthand"].items())


def expand_shorthand(text: str) -> str:
    """SMS spellings of a normalised text written out: "jai pa" → "j'ai pas", "j ai" → "j'ai"."""
    text = re.sub(r"(?<![\w'])([jlmtsdn]|qu)' ?(?=[a-z])", r"\1'", text)
    text = re.sub(r"(?<![\w'])([jlmtsdn]) (?=[aeiouyh]\w)", r"\1'", text)
    for pattern, replacement in _shorthand():
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


_SOUNDS = (
    ("eaux?", "o"), ("aux?", "o"), ("ai", "e"), ("ei", "e"), ("ph", "f"), ("qu", "k"),
    ("ck", "k"), ("c(?=[eiy])", "s"), ("c", "k"), ("x", "ks"), ("y", "i"), ("ch", "s"),
    ("h", ""), ("e[nm](?=[^aeiou]|$)", "an"), ("am(?=[^aeiou]|$)", "an"), ("eu", "e"),
    (r"(\w)\1", r"\1"), ("[stdxe]+$", ""), ("er$", "e"),
)  # fmt: skip


def sound_key(word: str) -> str:
    """A rough French phonetic key: "locatère", "locataire" and "locatair" share one."""
    for pattern, replacement in _SOUNDS:
        word = re.sub(pattern, replacement, word)
    return word


def _distance_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


@cache
def _lexicon() -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """The words the parsers look for, by sound key: those spelt out in the vocabulary's term
    patterns and the vocabulary's own list; and which of them are whole words, not stems."""
    whole: set[str] = set(vocabulary()["spelling"]["words"])
    words = set(whole)
    for terms in vocabulary()["terms"].values():
        for patterns in terms.values():
            for pattern in patterns:
                literal = re.sub(r"\(\?[:!=<]+|\[[^]]*\]", " ", pattern).replace("\\b", "#")
                literal = re.sub(r"\\[a-z]", " ", literal)
                for match in re.finditer(r"(?<![a-z])([a-z]{6,})(?![a-z?*+{])", literal):
                    words.add(match.group(1))
                    if re.match(r"(?:e\?)?(?:s\?)?#", literal[match.end() :]):
                        whole.add(match.group(1))
    by_key: dict[str, list[str]] = {}
    for word in sorted(words):
        by_key.setdefault(sound_key(word), []).append(word)
    return {key: tuple(found) for key, found in by_key.items()}, frozenset(whole)


@cache
def _known() -> tuple[re.Pattern[str], frozenset[str]]:
    """What the respelling leaves alone: a word starting with a vocabulary word, or that a
    vocabulary word starts with, and the `keep` words."""
    lexicon, _ = _lexicon()
    words = sorted({word for found in lexicon.values() for word in found}, key=len, reverse=True)
    prefixes = {word[:end] for word in words for end in range(7, len(word) + 1)}
    return re.compile("|".join(words)), frozenset(prefixes | set(vocabulary()["spelling"]["keep"]))


def respell(text: str) -> str:
    """Misspelt vocabulary words of a normalised text corrected, when the correction is unique:
    a word of seven letters or more that sounds like a vocabulary word ("proprietere",
    "celibatere", "quarente"), or is one sound away from a long whole word ("propietaire").
    Words the vocabulary knows, or starts with, are left alone, and so are the `keep` words."""
    lexicon, whole = _lexicon()
    starts_known, left_alone = _known()

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        if token in left_alone or starts_known.match(token):
            return token
        key = sound_key(token)
        found = sorted(lexicon.get(key, ()), key=len)
        if not found and len(key) >= 8:
            found = sorted(
                (
                    word
                    for other, words in lexicon.items()
                    if _distance_at_most_one(other, key)
                    for word in words
                    if word in whole
                ),
                key=len,
            )
        # one word, or its inflections ("independant", "independante"): the shortest
        return found[0] if found and all(w.startswith(found[0]) for w in found) else token

    return re.sub(r"\b[a-z]{7,}\b", fix, text)


def prepare(text: str) -> str:
    """What the slot parsers read: normalised, shorthand expanded, misspellings corrected."""
    return respell(expand_shorthand(normalize(text)))


# ---------------------------------------------------------------- negation and corrections


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """A vocabulary pattern, placeholders filled, compiled once."""
    return re.compile(expand(pattern))


@cache
def expand(pattern: str) -> str:
    """A vocabulary pattern with its placeholders filled: `{number}` (digits or number words),
    `{abroad}` (the `places_abroad` of the vocabulary)."""
    if "{number}" in pattern:
        words = "|".join(sorted((w for w in NUMBER_WORDS if w.isascii() and w != "et"), key=len,
                                reverse=True))  # fmt: skip
        number = rf"\d+(?:[.,]\d+)?|(?:{words})(?:[\s-]+(?:et[\s-]+)?(?:{words}))*\b"
        pattern = pattern.replace("{number}", number)
    if "{abroad}" in pattern:
        pattern = pattern.replace("{abroad}", "|".join(vocabulary()["places_abroad"]))
    return pattern


def _either(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{expand(pattern)})" for pattern in patterns) or "(?!)")


@dataclass(frozen=True)
class _Negation:
    cues: re.Pattern[str]
    past: re.Pattern[str]
    complete: re.Pattern[str]
    denials: re.Pattern[str]
    answers: re.Pattern[str]
    postposed: re.Pattern[str]
    hard: re.Pattern[str]
    soft: re.Pattern[str]
    commas: re.Pattern[str]
    continuations: re.Pattern[str]
    openers: re.Pattern[str]
    pronouns: re.Pattern[str]


@cache
def _negation() -> _Negation:
    data = vocabulary()["negation"]
    return _Negation(
        cues=_either(data["cues"]),
        past=_either(data["past"]),
        complete=_either(data["complete"]),
        denials=_either(data["denials"]),
        answers=_either(data["answers"]),
        postposed=_either(data["postposed"]),
        hard=_either(data["boundaries"]),
        soft=_either(data["soft_boundaries"]),
        commas=_either(data["commas"]),
        continuations=re.compile(r"\s*(?:" + "|".join(data["continuations"]) + r")"),
        openers=re.compile(r"\s*(?:" + "|".join(data["openers"]) + r")"),
        pronouns=re.compile(r"\s*(?:" + "|".join(data["pronouns"]) + r")"),
    )


Span = tuple[int, int]


def _merged(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def negation_cues(text: str, past: bool = False) -> tuple[Span, ...]:
    """Where the negation words of a prepared text stand ("pas", "aucun", "ni", "plus de"…),
    and with `past` the words that put a fact in the past ("ancien", "j'avais", "avant")."""
    rules = _negation()
    found = [m.span() for m in rules.cues.finditer(text)]
    found += [m.span() for m in rules.complete.finditer(text)]
    found += [m.span() for m in rules.denials.finditer(text)]
    if past:
        found += [m.span() for m in rules.past.finditer(text)]
    return tuple(_merged(found))


def negated_spans(text: str, past: bool = False) -> tuple[Span, ...]:
    """The parts of a prepared text that a negation covers. A negation covers what follows it up
    to a contrast ("mais", "juste", "à part", "maintenant"…), the end of the sentence, the next
    negation, a comma ("pas salarié, indépendant") or an "et" that starts a new positive phrase
    ("pas de chien et un chat"); it goes on over "pas de chien ni de chat", "pas de voiture, de
    moto", "pas de chien ou chat". A bare "non" answers the question: a comma or a pronoun after
    it starts anew ("non, je suis allergique"). A "non" or "pas" that closes a phrase covers the
    phrase before it ("voiture oui, moto non"), and so does a denial ("la mutuelle, je l'ai
    arrêtée"). With `past`, the past negates too ("ancien salarié")."""
    rules = _negation()
    cues = negation_cues(text, past)
    hard = [m.span() for m in rules.hard.finditer(text)]
    soft = [m.span() for m in rules.soft.finditer(text)]
    spans: list[Span] = []
    for index, (start, end) in enumerate(cues):
        cue = text[start:end]
        if rules.denials.fullmatch(cue):
            spans.append(_phrase_before(text, start, [*soft, *hard]))
            continue
        following = cues[index + 1][0] if index + 1 < len(cues) else len(text)
        limit = min([following, *[h for h, _ in hard if h >= end]])
        limit = _scope_end(text, cue, end, limit, soft)
        if limit > end:
            spans.append((end, limit))
        if rules.postposed.fullmatch(cue) and re.fullmatch(r"\s*(?:[,.;!?].*)?", text[end:]):
            before = _phrase_before(text, start, [*soft, *hard], back=1)[0]
            phrase = text[before:start]
            # not the "pas" of "je ne travaille pas", whose "ne" negates the verb
            if (
                not any(before <= s < start for s, _ in cues)
                and re.search(r"\w", phrase)
                and not re.search(r"\b(?:ne|n')", phrase)
            ):
                spans.append((before, start))
    return tuple(spans)


def _scope_end(text: str, cue: str, end: int, limit: int, soft: list[Span]) -> int:
    """Where the forward scope of a negation cue ending at `end` stops, `limit` at the latest."""
    rules = _negation()
    answer = bool(rules.answers.fullmatch(cue))
    if rules.complete.fullmatch(cue) or (answer and rules.pronouns.match(text, end)):
        return end
    for soft_start, soft_end in soft:
        if not end <= soft_start < limit:
            continue
        comma = bool(rules.commas.fullmatch(text, soft_start, soft_end))
        if (
            answer
            or rules.openers.match(text, soft_end)
            or (comma and not rules.continuations.match(text, soft_end))
        ):
            return soft_start
    return limit


def _phrase_before(text: str, start: int, boundaries: list[Span], back: int = 2) -> Span:
    """The phrase before a position: back to the boundary before it, or, with `back` 2, to the
    one before that when nothing stands between ("le chien de mes parents, c'est pas le mien")."""
    bounds = sorted({0, *[end for _, end in boundaries if end <= start]})
    before = bounds[-1]
    if back > 1 and not re.search(r"\w", text[before:start]) and len(bounds) > 1:
        before = bounds[-2]
    return (before, start)


def is_negated(spans: Iterable[Span], position: int) -> bool:
    return any(start <= position < end for start, end in spans)


@cache
def _corrections() -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = vocabulary()["corrections"]
    return _either(data["markers"]), _either(data["numeric"])


def correction(text: str, numeric: bool = False) -> str | None:
    """What follows the last correction of a prepared text ("42, ah non pardon 43" → "43";
    with `numeric`, also "32 ans, non 33"), or None when nothing was said before it."""
    markers, numeric_markers = _corrections()
    found = list(markers.finditer(text))
    if numeric:
        found += list(numeric_markers.finditer(text))
    for match in sorted(found, key=lambda m: m.start(), reverse=True):
        said_before = strip(text[: match.start()], vocabulary()["fillers"])
        if re.search(r"[a-z]{2,}|\d", said_before):
            rest = text[match.end() :].strip(" ,.;:!?")
            return rest or None
    return None


def strip(text: str, patterns: Iterable[str]) -> str:
    """The text without what the patterns match (fillers, hedges…), spaces tidied."""
    for pattern in patterns:
        text = compiled(pattern).sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" ,.;:")
