"""Cleaning generated triplets: keep those grounded in their context, in French, unique.

A triplet is kept when
- its question and answer have sensible lengths and the answer does not just repeat the question;
- both are French (French function words outnumber English ones; the question needs one);
- lexically grounded: most of the answer's meaningful words, and enough of the question's, are
  words of the context (stems, accent-insensitive, as the lexical search sees them), and every
  figure of the answer appears in the context;
- grounded by embeddings (when an embedder is given): the question is close to its context and
  the answer close to its context;
- not a duplicate: the same normalised question is kept once, and within one context a question
  too close to a kept one (cosine) is dropped.

Every rejection is counted by reason and written out, so a reviewer can see what was dropped.
"""

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from common.french_numbers import numbers_in
from finetune.records import Triplet, normalise, write_jsonl, write_triplets
from knowledge.interfaces import Embedder
from knowledge.text import content_stems

_WORD = re.compile(r"[a-zA-ZÀ-ÿœŒ']+")
_FRENCH = """
le la les un une des du de d l est sont et ou à au aux en dans pour par sur avec sans ce cette ces
qui que quel quelle quels quelles quoi comment combien quand pourquoi où mon ma mes son sa ses leur
leurs je tu il elle nous vous ils elles on pas ne plus y a peut doit faut être avoir si lors après
avant jusqu selon entre chaque tout tous toute toutes
"""
FRENCH_WORDS = frozenset(_FRENCH.split())
_ENGLISH = """
the a an is are and or of to in for by on with without this that which what how when why where who
my your his her their i you he she we they not can must should be have if
"""
ENGLISH_WORDS = frozenset(_ENGLISH.split())


def is_french(text: str, *, required: bool) -> bool:
    words = [word.lower().strip("'") for word in _WORD.findall(text)]
    french = sum(1 for word in words if word in FRENCH_WORDS)
    english = sum(1 for word in words if word in ENGLISH_WORDS and word not in FRENCH_WORDS)
    if required and french == 0:
        return False
    return french >= english


@dataclass(frozen=True)
class CleaningSettings:
    min_question_chars: int = 12
    max_question_chars: int = 300
    min_answer_chars: int = 2
    max_answer_chars: int = 600
    answer_support: float = 0.5  # share of the answer's meaningful words found in the context
    question_support: float = 0.3  # share of the question's meaningful words found in it
    # cosine(question, context) and cosine(answer, context) with multilingual-e5-small, chosen on
    # the hand-written pairs (docs/finetune.md): 94 % of true pairs pass both, 14 % of mismatched
    question_similarity: float = 0.84
    answer_similarity: float = 0.85
    duplicate_similarity: float = 0.95  # two questions of one context closer than this: one kept


@dataclass
class CleaningReport:
    read: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "rejected": dict(self.rejected)}


class TripletCleaner:
    def __init__(
        self, embedder: Embedder | None = None, settings: CleaningSettings | None = None
    ) -> None:
        self.embedder = embedder
        self.settings = settings or CleaningSettings()

    def _rule_check(self, triplet: Triplet) -> tuple[str | None, dict[str, float]]:
        s = self.settings
        question, answer, context = triplet.question, triplet.answer, triplet.context
        if not s.min_question_chars <= len(question) <= s.max_question_chars:
            return "question_length", {}
        if not s.min_answer_chars <= len(answer) <= s.max_answer_chars:
            return "answer_length", {}
        if normalise(answer) == normalise(question):
            return "answer_repeats_question", {}
        if not is_french(question, required=True) or not is_french(answer, required=False):
            return "not_french", {}
        if numbers_in(answer) - numbers_in(context):
            return "answer_figure_not_in_context", {}
        context_stems = content_stems(context)
        answer_stems = content_stems(answer)
        question_stems = content_stems(question)
        answer_support = (
            len(answer_stems & context_stems) / len(answer_stems) if answer_stems else 1.0
        )
        question_support = (
            len(question_stems & context_stems) / len(question_stems) if question_stems else 0.0
        )
        scores = {
            "answer_support": round(answer_support, 4),
            "question_support": round(question_support, 4),
        }
        if not answer_stems and not numbers_in(answer):
            return "answer_without_content", scores
        if answer_support < s.answer_support:
            return "answer_not_grounded", scores
        if question_support < s.question_support:
            return "question_not_grounded", scores
        return None, scores

    def clean(
        self, triplets: Sequence[Triplet], *, rejected_path: Path | None = None
    ) -> tuple[list[Triplet], CleaningReport]:
        report = CleaningReport(read=len(triplets))
        rejected: list[dict[str, Any]] = []
        candidates: list[Triplet] = []
        seen: set[str] = set()

        def reject(triplet: Triplet, reason: str) -> None:
            report.rejected[reason] += 1
            rejected.append({**triplet.to_json(), "rejected_because": reason})

        for triplet in triplets:
            reason, scores = self._rule_check(triplet)
            triplet = replace(triplet, scores={**triplet.scores, **scores})
            if reason is not None:
                reject(triplet, reason)
                continue
            key = normalise(triplet.question)
            if key in seen:
                reject(triplet, "duplicate_question")
                continue
            seen.add(key)
            candidates.append(triplet)

        kept = self._embedding_checks(candidates, reject) if self.embedder else candidates
        report.kept = len(kept)
        if rejected_path is not None:
            write_jsonl(rejected_path, rejected)
        return kept, report

    def _embedding_checks(self, candidates: list[Triplet], reject: Any) -> list[Triplet]:
        embedder = self.embedder
        if embedder is None or not candidates:
            return candidates
        s = self.settings
        questions = embedder.embed_queries([t.question for t in candidates])
        answers = embedder.embed_passages([t.answer for t in candidates])
        contexts = embedder.embed_passages([t.context for t in candidates])
        question_scores = np.sum(questions * contexts, axis=1)
        answer_scores = np.sum(answers * contexts, axis=1)
        kept: list[Triplet] = []
        kept_vectors: dict[str, list[np.ndarray[Any, Any]]] = {}
        for index, triplet in enumerate(candidates):
            triplet = replace(
                triplet,
                scores={
                    **triplet.scores,
                    "question_similarity": round(float(question_scores[index]), 4),
                    "answer_similarity": round(float(answer_scores[index]), 4),
                },
            )
            if question_scores[index] < s.question_similarity:
                reject(triplet, "question_far_from_context")
                continue
            if answer_scores[index] < s.answer_similarity:
                reject(triplet, "answer_far_from_context")
                continue
            same_context = kept_vectors.setdefault(triplet.provenance.chunk_id, [])
            if any(float(v @ questions[index]) > s.duplicate_similarity for v in same_context):
                reject(triplet, "near_duplicate_question")
                continue
            same_context.append(questions[index])
            kept.append(triplet)
        return kept


def clean_file(
    source: Path, out: Path, cleaner: TripletCleaner
) -> tuple[list[Triplet], CleaningReport, int]:
    """Cleans a triplets JSONL into `out` (rejections beside it); returns also invalid lines."""
    from finetune.records import read_triplets

    triplets, read = read_triplets(source)
    kept, report = cleaner.clean(
        triplets, rejected_path=out.with_name(out.stem + ".rejected.jsonl")
    )
    write_triplets(out, kept)
    return kept, report, len(read.skipped)
