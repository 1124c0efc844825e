"""Cleaning generated triplets: keep those grounded in their context, in French, unique.

A triplet is kept when
- its question and answer have sensible lengths and the answer does not just repeat the question;
- its question is well formed: a capital first, one question mark at the end, balanced « »,
  no placeholder, no word twice in a row, no uncontracted "de le" / "à les" / "de une";
- the question does not give the answer away (the answer's figures, or the answer itself);
- both are French (French function words outnumber English ones; the question needs one);
- lexically grounded: most of the answer's meaningful words, and enough of the question's, are
  words of the context (stems, accent-insensitive, as the lexical search sees them; for the
  question, the section title counts and the product's name is left out, as the knowledge base
  indexes both with the passage), and every figure of the answer appears in the context;
- grounded by embeddings (when an embedder is given): the question is close to its context and
  the answer close to its context (a lower floor for templated questions, measured);
- not a duplicate: the same normalised question (accents and case aside) is kept once; on one
  page, a question whose meaningful words are nearly those of a kept one (Jaccard), or an answer
  already kept, is dropped; the same answer is kept at most `max_same_answer` times in all (the
  boilerplate every document repeats); within one context a question too close to a kept one
  (cosine) is dropped;
- when a span proposer read it (`reader_confidence`, `reader_agrees` scores) and
  `reader_veto` is set: not a question the proposer confidently answers elsewhere in the
  passage.

A refusal triplet (the passage does not answer, the answer is `REFUSAL_ANSWER`) gets the checks
of its question only: its answer is not in the passage on purpose.

Every rejection is counted by reason and written out, so a reviewer can see what was dropped.
"""

import re
import unicodedata
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
    # Templated questions (source "templates:…") carry the product's name and a shared frame:
    # measured on 300 of them (docs/finetune.md), 95 % of the true pairs reach 0.81 (67 % reach
    # 0.84), and 35 % of two different questions of one passage are closer than 0.95 — so their
    # threshold is 0.81 and their duplicates are found by their words (Jaccard), not by cosine.
    templated_question_similarity: float = 0.81
    near_duplicate_jaccard: float = 0.8  # two questions of one page sharing this share of stems
    max_same_answer: int = 3  # the same normalised answer, in all the set
    # reject when a span proposer answers with at least this confidence outside the template's
    # answer (None: the proposer's verdict is kept as a score only)
    reader_veto: float | None = None


TEMPLATED = "templates:"


@dataclass
class CleaningReport:
    read: int = 0
    kept: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "rejected": dict(self.rejected)}


_MALFORMED = re.compile(
    r"\b(?:de|à)\s+(?:le|les)\b|\bde\s+(?:une?|[aeiouéèêàâîôû]\w*)\b|\bque\s+[aeiouéèêàâîôû]\w*"
    r"|[\[\]{}<>]|«\s*»|\?.+\?",
    re.IGNORECASE,
)
_REPEATED_WORD = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


def question_problem(question: str) -> str | None:
    """Why a question is not well formed, or None."""
    text = question.strip()
    if not text.endswith("?"):
        return "no question mark at the end"
    if not (text[:1].isupper() or text[:1] in '«"('):
        return "no capital at the start"
    if text.count("«") != text.count("»"):
        return "unbalanced quotation marks"
    if _MALFORMED.search(text):
        return "placeholder, uncontracted article or two questions"
    if _REPEATED_WORD.search(text):
        return "a word twice in a row"
    return None


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", normalise(text))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def gives_answer_away(question: str, answer: str, short_words: int = 15) -> bool:
    """The question holds the answer: its whole text, or all the figures of a short answer (a
    long answer may restate a figure the question asks about)."""
    figures = numbers_in(answer)
    if figures and figures <= numbers_in(question) and len(answer.split()) <= short_words:
        return True
    folded = _folded(answer)
    return len(folded) >= 8 and folded in _folded(question)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


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
        if question_problem(question) is not None:
            return "question_malformed", {}
        if triplet.is_refusal:
            return ("not_french", {}) if not is_french(question, required=True) else (None, {})
        if gives_answer_away(question, answer):
            return "question_gives_answer_away", {}
        if not is_french(question, required=True) or not is_french(answer, required=False):
            return "not_french", {}
        if numbers_in(answer) - numbers_in(context):
            return "answer_figure_not_in_context", {}
        context_stems = content_stems(context)
        answer_stems = content_stems(answer)
        # The product's name and the section's title are what the knowledge base indexes with
        # the passage: a question may name them without the passage repeating them.
        p = triplet.provenance
        question_stems = content_stems(question) - content_stems(p.product)
        heading_stems = content_stems(p.section)
        answer_support = (
            len(answer_stems & context_stems) / len(answer_stems) if answer_stems else 1.0
        )
        question_support = (
            len(question_stems & (context_stems | heading_stems)) / len(question_stems)
            if question_stems
            else 0.0
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
        veto = s.reader_veto
        if (
            veto is not None
            and triplet.scores.get("reader_agrees") == 0.0
            and triplet.scores.get("reader_confidence", 0.0) >= veto
        ):
            return "reader_answers_elsewhere", scores
        return None, scores

    def clean(
        self, triplets: Sequence[Triplet], *, rejected_path: Path | None = None
    ) -> tuple[list[Triplet], CleaningReport]:
        report = CleaningReport(read=len(triplets))
        rejected: list[dict[str, Any]] = []
        candidates: list[Triplet] = []
        seen: set[tuple[str, bool]] = set()
        page_questions: dict[tuple[str, int], list[set[str]]] = {}
        page_answers: set[tuple[str, int, str]] = set()
        answers: Counter[str] = Counter()

        def reject(triplet: Triplet, reason: str) -> None:
            report.rejected[reason] += 1
            rejected.append({**triplet.to_json(), "rejected_because": reason})

        for triplet in triplets:
            reason, scores = self._rule_check(triplet)
            triplet = replace(triplet, scores={**triplet.scores, **scores})
            if reason is not None:
                reject(triplet, reason)
                continue
            key = (_folded(triplet.question), triplet.is_refusal)
            if key in seen:
                reject(triplet, "duplicate_question")
                continue
            p = triplet.provenance
            page = (p.document, p.page)
            stems = content_stems(triplet.question)
            kept_here = page_questions.setdefault(page, []) if not triplet.is_refusal else []
            if any(
                jaccard(stems, other) >= self.settings.near_duplicate_jaccard for other in kept_here
            ):
                reject(triplet, "near_duplicate_question")
                continue
            answer = _folded(triplet.answer)
            if not triplet.is_refusal:
                if (*page, answer) in page_answers:
                    reject(triplet, "duplicate_answer_on_page")
                    continue
                if answers[answer] >= self.settings.max_same_answer:
                    reject(triplet, "answer_repeated_across_documents")
                    continue
                page_answers.add((*page, answer))
                answers[answer] += 1
                kept_here.append(stems)
            seen.add(key)
            candidates.append(triplet)

        kept = self._embedding_checks(candidates, reject) if self.embedder else candidates
        report.kept = len(kept)
        if rejected_path is not None:
            write_jsonl(rejected_path, rejected)
        return kept, report

    def _embedding_checks(self, candidates: list[Triplet], reject: Any) -> list[Triplet]:
        """Question and answer against their context, near duplicates within one context.

        Refusal triplets are far from their passage on purpose and pass; each distinct
        context is embedded once."""
        embedder = self.embedder
        answerable = [t for t in candidates if not t.is_refusal]
        if embedder is None or not answerable:
            return candidates
        s = self.settings
        questions = embedder.embed_queries([t.question for t in answerable])
        answers = embedder.embed_passages([t.answer for t in answerable])
        distinct = list(dict.fromkeys(t.context for t in answerable))
        position = {context: i for i, context in enumerate(distinct)}
        contexts = embedder.embed_passages(distinct)[[position[t.context] for t in answerable]]
        question_scores = np.sum(questions * contexts, axis=1)
        answer_scores = np.sum(answers * contexts, axis=1)
        kept: list[Triplet] = []
        kept_vectors: dict[str, list[np.ndarray[Any, Any]]] = {}
        index = -1
        for triplet in candidates:
            if triplet.is_refusal:
                kept.append(triplet)
                continue
            index += 1
            triplet = replace(
                triplet,
                scores={
                    **triplet.scores,
                    "question_similarity": round(float(question_scores[index]), 4),
                    "answer_similarity": round(float(answer_scores[index]), 4),
                },
            )
            templated = triplet.provenance.source.startswith(TEMPLATED)
            floor = s.templated_question_similarity if templated else s.question_similarity
            if question_scores[index] < floor:
                reject(triplet, "question_far_from_context")
                continue
            if answer_scores[index] < s.answer_similarity:
                reject(triplet, "answer_far_from_context")
                continue
            if templated:
                kept.append(triplet)
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
