"""Answer validation (from the product brief): reject what the passages do not support.

The score mixes the similarity of the answer with the question and with the passages (dense, when
an embedder is given) and the share of the answer's meaningful words found in the passages
(lexical). Independently, every number, amount, duration and percentage of the answer must appear
in the passages, with the same unit when it has one: a single invented figure rejects the answer.
"""

import re
from dataclasses import dataclass

import numpy as np

from common.french_numbers import numbers_in, quantities_in
from knowledge.interfaces import Embedder
from knowledge.text import content_stems

_CITATION = re.compile(r"\[\d+\]")

DEFAULT_THRESHOLD = 0.55


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    score: float
    lexical_support: float
    passage_similarity: float | None
    question_similarity: float | None
    unsupported_numbers: tuple[str, ...]

    @property
    def reason(self) -> str:
        if self.unsupported_numbers:
            return "chiffres absents des extraits : " + ", ".join(self.unsupported_numbers)
        return "" if self.accepted else f"score de validation trop bas ({self.score:.2f})"


class AnswerValidator:
    """Scores an answer against its question and passages."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        lexical_weight: float = 0.6,
        passage_weight: float = 0.3,
        question_weight: float = 0.1,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.lexical_weight = lexical_weight
        self.passage_weight = passage_weight
        self.question_weight = question_weight

    def validate(self, question: str, answer: str, passages: list[str]) -> Verdict:
        cleaned = _CITATION.sub(" ", answer)
        context = "\n".join(passages)
        # A figure must appear in the passages, and with its unit when it has one:
        # "30 jours" is not supported by a page that says "30 €" and "14 jours".
        missing_numbers = numbers_in(cleaned) - numbers_in(context)
        missing_quantities = {
            f"{value} {unit}"
            for value, unit in quantities_in(cleaned) - quantities_in(context)
            if value not in missing_numbers
        }
        unsupported = tuple(sorted(missing_numbers | missing_quantities))

        answer_stems = content_stems(cleaned)
        context_stems = content_stems(context)
        lexical = len(answer_stems & context_stems) / len(answer_stems) if answer_stems else 0.0

        passage_similarity: float | None = None
        question_similarity: float | None = None
        if self.embedder is not None and passages:
            answer_vector = self.embedder.embed_passages([cleaned])[0]
            passage_vectors = self.embedder.embed_passages(passages)
            question_vector = self.embedder.embed_queries([question])[0]
            passage_similarity = float(np.max(passage_vectors @ answer_vector))
            question_similarity = float(question_vector @ answer_vector)
            score = (
                self.lexical_weight * lexical
                + self.passage_weight * passage_similarity
                + self.question_weight * question_similarity
            ) / (self.lexical_weight + self.passage_weight + self.question_weight)
        else:
            score = lexical
        accepted = not unsupported and bool(answer_stems) and score >= self.threshold
        return Verdict(
            accepted=accepted,
            score=round(score, 4),
            lexical_support=round(lexical, 4),
            passage_similarity=passage_similarity,
            question_similarity=question_similarity,
            unsupported_numbers=unsupported,
        )
