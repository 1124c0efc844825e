"""Extractive answers: the sentences of the best passages that answer the question, marked.

Used when no LLM is configured, when it fails or times out, and when validation rejects what it
wrote. It cannot invent anything: every word comes from the insurer's documents.
"""

import math
import re
from dataclasses import dataclass

from knowledge.interfaces import CELL_SEPARATOR, ScoredChunk
from knowledge.text import content_stems, split_sentences


@dataclass(frozen=True)
class Extract:
    """The sentences shown from one passage; `overlap` is the best sentence's share of the
    question's words, `selector_score` the sentence selector's score of them (None when they were
    chosen by word overlap)."""

    chunk: ScoredChunk
    sentences: tuple[str, ...]
    overlap: float
    selector_score: float | None = None


# A question that asks for a quantity — how much, how long, from or until when, which amount,
# delay, age or rate — is answered by a sentence that states one. Written from the French
# interrogative forms, not from any question of the evaluation sets.
_QUANTITY_NOUNS = (
    r"d[ée]lais?|montants?|plafonds?|franchises?|dur[ée]es?|[âa]ges?|taux|prix|co[ûu]ts?|"
    r"tarifs?|pourcentages?|limites?|nombre|p[ée]riodes?|indemnit[ée]s?|capital|capitaux|"
    r"cotisations?|primes?|remboursements?|seuils?|minimum|maximum|pr[ée]avis"
)
_ASKS_FOR_QUANTITY = re.compile(
    r"\bcombien\b|\bquand\b|\bjusqu'(?:à|a) quel|\b(?:à|a) partir de quel|"
    r"\bau bout de\b|\bdans quel d[ée]lai|\bsous quel d[ée]lai|"
    rf"\bquel(?:le)?s?\b(?:\s+\w+){{0,3}}\s+(?:{_QUANTITY_NOUNS})\b|"
    rf"^\s*(?:le|la|les|l')\s*(?:{_QUANTITY_NOUNS})\b[^?]*\?\s*$",  # "Le plafond … ?"
    re.IGNORECASE,
)
_UNITS = (
    r"jours?|semaines?|mois|ans?|années?|heures?|€|euros?|%|pour ?cent|fois|points?|km|"
    r"kilomètres?|m²|mètres?"
)
_NUMBER_WORDS = (
    r"un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|cent"
)
# A number with its unit: "3 jours", "1 500 €", "70 ans", "trois mois" (a bare number may be an
# article, a page or a time of day).
_STATES_QUANTITY = re.compile(
    rf"(?:\d[\d  .,]*|\b(?:{_NUMBER_WORDS}))\s*(?:{_UNITS})(?!\w)", re.IGNORECASE
)
# How much more a sentence stating a quantity weighs when the question asks for one.
QUANTITY_WEIGHT = 1.5


def asks_for_quantity(question: str) -> bool:
    """Whether the question asks for an amount, a duration, a date, an age or a rate."""
    return bool(_ASKS_FOR_QUANTITY.search(question))


def states_quantity(sentence: str) -> bool:
    """Whether the sentence states a number with its unit ("3 jours", "1 500 €", "trois mois")."""
    return bool(_STATES_QUANTITY.search(sentence))


def _sentence_score(question_stems: set[str], sentence: str, wants_quantity: bool = False) -> float:
    stems = content_stems(sentence)
    if not stems or not question_stems:
        return 0.0
    shared = len(question_stems & stems)
    score = shared / math.sqrt(len(stems))
    if wants_quantity and shared and states_quantity(sentence):
        score *= QUANTITY_WEIGHT
    return score


# A chosen "sentence" shorter than this is a heading or a fragment ("Article 12 - Renonciation."):
# the sentence after it, which holds its content, is shown with it.
MIN_ANSWER_WORDS = 6


def with_continuation(sentences: list[str], index: int) -> tuple[str, ...]:
    """The sentence at `index`, and the next one when it is too short to answer alone (a table
    row stands alone: its cells are read with the header's names, `labelled_row`)."""
    sentence = sentences[index]
    if (
        len(sentence.split()) < MIN_ANSWER_WORDS
        and CELL_SEPARATOR not in sentence
        and index + 1 < len(sentences)
    ):
        return (sentence, sentences[index + 1])
    return (sentence,)


def header_rows(sentences: list[str]) -> set[int]:
    """Indices of the header rows among a passage's sentences: the first row of each table
    with rows after it. Column names answer nothing on their own."""
    return {
        i
        for i, sentence in enumerate(sentences)
        if CELL_SEPARATOR in sentence
        and (i == 0 or CELL_SEPARATOR not in sentences[i - 1])
        and i + 1 < len(sentences)
        and CELL_SEPARATOR in sentences[i + 1]
    }


def answer_indices(sentences: list[str]) -> list[int]:
    """Indices of the sentences that may answer: every one but the tables' header rows."""
    headers = header_rows(sentences)
    return [i for i in range(len(sentences)) if i not in headers]


def best_sentences(question: str, chunk: ScoredChunk, limit: int = 2) -> Extract:
    """The sentences of one passage that share the most meaningful words with the question (a
    heading or fragment among them with the sentence after it)."""
    question_stems = content_stems(question)
    wants_quantity = asks_for_quantity(question)
    sentences = split_sentences(chunk.chunk.text)
    scored = sorted(
        (
            (_sentence_score(question_stems, sentences[index], wants_quantity), index)
            for index in answer_indices(sentences)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    chosen = [item for item in scored[:limit] if item[0] > 0]
    if not chosen and scored:
        chosen = [scored[0]]
    # Keep the document order of the chosen sentences.
    indices = sorted({i for _, index in chosen for i in _continued(sentences, index)})
    ordered = tuple(sentences[i] for i in indices)
    overlap = max((score for score, _ in chosen), default=0.0)
    return Extract(chunk=chunk, sentences=ordered, overlap=overlap)


def _continued(sentences: list[str], index: int) -> range:
    return range(index, index + len(with_continuation(sentences, index)))


def mark(passage: str, sentences: tuple[str, ...]) -> str:
    """The passage with its answering sentences between « ».

    Markers are French quotation marks, not HTML, so every client shows them safely as text.
    """
    marked = passage
    for sentence in sentences:
        marked = marked.replace(sentence, f"« {sentence} »", 1)
    return marked


def extractive_answer(question: str, chunks: list[ScoredChunk]) -> tuple[str, Extract | None]:
    """The sentence of the best passages that shares the most words with the question, as the
    answer's text; ('', None) when there is no passage. The text is the document's own sentence:
    the chat names its document and page under it (the answer's sources)."""
    if not chunks:
        return "", None
    extracts = [best_sentences(question, chunk, limit=1) for chunk in chunks[:3]]
    best = max(extracts, key=lambda e: (e.overlap, e.chunk.score))
    return quote_text(best), best


def quote_text(extract: Extract) -> str:
    """What the chat shows of an extract: its sentences, as the document writes them; a table
    row alone is read with its table's column names (`labelled_row`)."""
    if len(extract.sentences) == 1:
        return labelled_row(extract.chunk.chunk.text, extract.sentences[0])
    return " ".join(extract.sentences)


def labelled_row(passage: str, line: str) -> str:
    """A table row of `passage` with each value after its column's name, « Aides auditives —
    Initial : 400 € ; Confort : 700 € », so that a row quoted alone can be read; `line`
    unchanged when it is not a row of a table whose header row is in the passage.

    The header is the first row of the table: a table that starts inside the passage starts
    with it, and a passage that opens on rows opens on it too, since the chunker repeats a cut
    table's header row at the top of each chunk that continues it (`knowledge.chunking`)."""
    lines = passage.splitlines()
    if CELL_SEPARATOR not in line or line not in lines:
        return line
    at = lines.index(line)
    top = at
    while top > 0 and CELL_SEPARATOR in lines[top - 1]:
        top -= 1
    if top == at:  # `line` is the header
        return line
    header = lines[top].split(CELL_SEPARATOR)
    cells = line.split(CELL_SEPARATOR)
    if len(header) != len(cells):
        return line
    values = [
        f"{name.strip()} : {value.strip()}" if name.strip() else value.strip()
        for name, value in zip(header[1:], cells[1:], strict=True)
        if value.strip()
    ]
    return f"{cells[0].strip()} — {' ; '.join(values)}" if values else line


def sentence_candidates(chunks: list[ScoredChunk]) -> list[tuple[ScoredChunk, tuple[str, ...]]]:
    """Every sentence of the passages that may answer (a heading or fragment with the sentence
    after it; no table's header row), with its passage, in the passages' order."""
    found: list[tuple[ScoredChunk, tuple[str, ...]]] = []
    for chunk in chunks:
        sentences = split_sentences(chunk.chunk.text)
        found.extend((chunk, with_continuation(sentences, i)) for i in answer_indices(sentences))
    return found


def overlap_leaders(
    question: str, candidates: list[tuple[ScoredChunk, tuple[str, ...]]], limit: int
) -> list[tuple[ScoredChunk, tuple[str, ...]]]:
    """The `limit` candidates that share the most meaningful words with the question (ties: in
    their order), kept in their order."""
    stems = content_stems(question)
    wants_quantity = asks_for_quantity(question)
    ranked = sorted(
        range(len(candidates)),
        key=lambda i: (-_sentence_score(stems, " ".join(candidates[i][1]), wants_quantity), i),
    )
    return [candidates[i] for i in sorted(ranked[:limit])]
