"""French text helpers shared by extraction and validation: sentences and content-word stems."""

import re
import unicodedata
from functools import lru_cache

import Stemmer

FRENCH_STOP_WORDS = frozenset(
    """
    a à au aux avec ce ces cet cette ceux celle celles celui comme dans de des du elle elles en
    est et été être eu il ils je la le les leur leurs lui ma mais me même mes moi mon ne ni nos
    notre nous on ont ou où par pas pour qu que quel quelle quelles quels qui sa sans se ses si
    son sont sur ta te tes toi ton tu un une vos votre vous y d l j m n s t c qu est-ce ça cela
    fait faire peut peuvent doit dois être avoir ai as avez avons suis es sommes êtes
    """.split()  # noqa: SIM905 - a word list is easier to read and edit as text
)

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Þ0-9«(•-])|\n+")
_WORD = re.compile(r"[\wÀ-ÿ]+(?:[-'][\wÀ-ÿ]+)*")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def words(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _WORD.finditer(text.lower().replace("’", "'")):
        # "l'assurance" → "assurance"
        tokens.extend(piece for piece in match.group().split("'") if piece)
    return tokens


def content_stems(text: str) -> set[str]:
    """Stems of the meaningful words (no stop words, no one-letter words), accent-insensitive."""
    kept = [w for w in words(text) if w not in FRENCH_STOP_WORDS and len(w) > 1]
    return {strip_accents(stem) for stem in _stemmer().stemWords(kept)}
