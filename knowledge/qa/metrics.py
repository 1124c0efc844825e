"""Scores of extracted answers: SQuAD exact match and token F1, with French normalisation.

As in the SQuAD evaluation script, both texts are lower-cased and stripped of punctuation and
articles before comparing; the articles are the French ones (PIAF, FQuAD).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(le|la|les|l|un|une|des|du|de|d)\b")
_PUNCTUATION = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    text = _PUNCTUATION.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, references: Sequence[str]) -> float:
    target = normalize(prediction)
    return float(any(target == normalize(reference) for reference in references))


def _f1(prediction: str, reference: str) -> float:
    predicted, gold = normalize(prediction).split(), normalize(reference).split()
    if not predicted or not gold:
        return float(predicted == gold)
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, references: Sequence[str]) -> float:
    """Token F1 against the best-matching reference."""
    return max((_f1(prediction, reference) for reference in references), default=0.0)
