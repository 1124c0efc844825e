"""Robustness variants of a question: typos, no accents, lower case, reformulated.

All deterministic (seeded by the question), so two runs measure the same variants. A real
paraphrase is written by a person: `reformulated` returns the one of the robustness set
(`finetune/data/robustness.jsonl`, see `finetune.eval_data`) when the question is there, and
only otherwise a light mechanical rewording (which is not a paraphrase, and is reported as
such by the evaluation).
"""

import random
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_WORD = re.compile(r"[A-Za-zÀ-ÿœŒ]{5,}")


def with_typos(question: str, rate: float = 0.34) -> str:
    """Swaps two inner letters of about a third of the words of 5 letters or more."""
    rng = random.Random(question)  # noqa: S311 - reproducible shuffling, not security

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() > rate:
            return word
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    changed = _WORD.sub(swap, question)
    if changed == question:  # always at least one typo
        match = _WORD.search(question)
        if match:
            word = match.group(0)
            changed = question.replace(word, word[0] + word[2] + word[1] + word[3:], 1)
    return changed


def without_accents(question: str) -> str:
    decomposed = unicodedata.normalize("NFD", question)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def lower_case(question: str) -> str:
    return question.lower()


_OPENINGS = (
    "Pouvez-vous me dire {q}",
    "J'aimerais savoir {q}",
    "Une question : {q}",
    "Dites-moi {q}",
)


@lru_cache(maxsize=1)
def _written() -> dict[str, str]:
    from finetune.eval_data import paraphrases

    return paraphrases()


def paraphrase(question: str) -> str | None:
    """The paraphrase a person wrote for this question (robustness set), or None."""
    return _written().get(question.strip())


def light_rewording(question: str) -> str:
    """A mechanical rewording: 'est-ce que' dropped, then a polite opening."""
    body = question.strip()
    body = re.sub(r"^[Ee]st-ce qu(?:e |')", "", body)
    if body and body[0].isupper() and not body[:2].isupper():
        body = body[0].lower() + body[1:]
    template = _OPENINGS[sum(map(ord, question)) % len(_OPENINGS)]
    return template.format(q=body)


def reformulated(question: str) -> str:
    """The written paraphrase of the question when there is one, else a light rewording."""
    return paraphrase(question) or light_rewording(question)


VARIANTS: dict[str, Callable[[str], str]] = {
    "typos": with_typos,
    "no_accents": without_accents,
    "lower_case": lower_case,
    "reformulated": reformulated,
}
