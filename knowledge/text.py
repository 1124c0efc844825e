"""Text helpers of answer extraction and validation: sentences and content-word stems.

Words are analysed exactly as the lexical search analyses them (knowledge/lexical.py), so an
answer is "supported" by a passage in the same terms BM25 found it.
"""

from functools import lru_cache

from knowledge.chunking import split_sentences as split_paragraph
from knowledge.lexical import FrenchAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> FrenchAnalyzer:
    return FrenchAnalyzer()


def split_sentences(text: str) -> list[str]:
    """The sentences of a passage that may hold several paragraphs or list items."""
    return [sentence for line in text.splitlines() for sentence in split_paragraph(line)]


def content_stems(text: str) -> set[str]:
    """Stems of the meaningful words (no stop words), accent-insensitive."""
    return set(_analyzer().terms(text))
