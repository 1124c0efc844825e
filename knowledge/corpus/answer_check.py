"""Does a page print the key facts of a reference answer?

Used to check the hand-written evaluation questions against the built PDFs, and to find the
other pages of the same product that answer a question (the FAQ or the information document
often restates what the general conditions say). A page answers when it prints every number of
the answer, standing alone (not inside a larger number), and most of the answer's content words.
"""

import re
import unicodedata
from collections.abc import Iterable

# Share of the answer's content words that the page must contain.
WORD_SHARE = 0.6
# For another page than the one a question was written from: stricter, within one passage.
PASSAGE_WORD_SHARE = 0.7
# A phone number (01 00 00 00 00), or a number with its thousands groups and decimals.
NUMBER = re.compile(r"0\d(?: \d{2}){4}|\d+(?: \d{3})*(?:,\d+)?")
STOPWORDS = frozenset(
    {
        "ainsi",
        "alors",
        "après",
        "aucun",
        "aucune",
        "aussi",
        "autre",
        "autres",
        "avant",
        "avoir",
        "celle",
        "celui",
        "cette",
        "chaque",
        "comme",
        "depuis",
        "doivent",
        "encore",
        "entre",
        "faire",
        "leurs",
        "lorsque",
        "moins",
        "notre",
        "parce",
        "partir",
        "peuvent",
        "quand",
        "quelle",
        "selon",
        "seulement",
        "toute",
        "toutes",
        "votre",
    }
)


def normalise(text: str) -> str:
    """One space between words, no-break spaces included; line breaks kept as separators."""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    text = text.replace("’", "'")
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())


def numbers(text: str) -> list[str]:
    return NUMBER.findall(normalise(text))


def contains_number(page: str, number: str) -> bool:
    """`number` stands alone on the page: not part of a larger number such as 1 030 or 30 000."""
    pattern = rf"(?<![\d,])(?<!\d ){re.escape(number)}(?!\d)(?!,\d)(?! \d{{3}}(?!\d))"
    return re.search(pattern, page) is not None


def content_words(text: str) -> list[str]:
    words = re.findall(r"[a-zà-ÿœ]+", normalise(text).lower())
    return [word for word in words if len(word) >= 5 and word not in STOPWORDS]


def missing_numbers(page: str, answer: str) -> list[str]:
    """The answer's numbers that `page` (normalised) does not print."""
    return [number for number in numbers(answer) if not contains_number(page, number)]


def missing_words(page: str, answer: str) -> tuple[list[str], int]:
    """The answer's content words absent from `page` (normalised), and how many words it has."""
    words = content_words(answer)
    flat = page.replace("\n", " ").lower()
    # A word counts in the plural or the singular.
    return [word for word in words if word.rstrip("sx") not in flat], len(words)


def page_answers(page: str, answer: str, min_words: int = 0, share: float = WORD_SHARE) -> bool:
    """Whether `page` (normalised) prints every number and most content words of `answer`.

    `min_words` refuses answers too short to tell pages apart ("Oui.", "Non, jamais."): an
    answer with fewer content words than that, and no number, answers nowhere.
    """
    if missing_numbers(page, answer):
        return False
    missing, total = missing_words(page, answer)
    if total < min_words and not numbers(answer):
        return False
    return total - len(missing) >= share * total


def passage_answers(
    page: str, answer: str, *, window: int = 500, step: int = 50, min_words: int = 3
) -> bool:
    """Whether one passage of `window` characters of `page` (normalised) answers on its own.

    Stricter than `page_answers`: the answer's numbers and words must be printed together, not
    scattered over the page (a "7" in one article and "jours" in another)."""
    flat = page.replace("\n", " ")
    starts = range(0, max(1, len(flat) - window + step), step)
    return any(
        page_answers(flat[start : start + window], answer, min_words, PASSAGE_WORD_SHARE)
        for start in starts
    )


def answering_pages(
    pages: Iterable[tuple[str, int, str]], answer: str, min_words: int = 3
) -> list[tuple[str, int]]:
    """The (document, page) of every page, given as (document, page, normalised text), with a
    passage that answers (`passage_answers`)."""
    return [
        (document, number)
        for document, number, text in pages
        if passage_answers(text, answer, min_words=min_words)
    ]
