"""Extractive answers: the sentences of the best passages that answer the question, marked.

Used when no LLM is configured, when it fails or times out, and when validation rejects what it
wrote. It cannot invent anything: every word comes from the insurer's documents.
"""

import math
from dataclasses import dataclass

from knowledge.interfaces import ScoredChunk
from knowledge.text import content_stems, split_sentences


@dataclass(frozen=True)
class Extract:
    chunk: ScoredChunk
    sentences: tuple[str, ...]
    overlap: float


def _sentence_score(question_stems: set[str], sentence: str) -> float:
    stems = content_stems(sentence)
    if not stems or not question_stems:
        return 0.0
    shared = len(question_stems & stems)
    return shared / math.sqrt(len(stems))


def best_sentences(question: str, chunk: ScoredChunk, limit: int = 2) -> Extract:
    """The sentences of one passage that share the most meaningful words with the question."""
    question_stems = content_stems(question)
    sentences = split_sentences(chunk.chunk.text)
    scored = sorted(
        ((_sentence_score(question_stems, s), index, s) for index, s in enumerate(sentences)),
        key=lambda item: (-item[0], item[1]),
    )
    chosen = [item for item in scored[:limit] if item[0] > 0]
    if not chosen and sentences:
        chosen = [scored[0]]
    # Keep the document order of the chosen sentences.
    ordered = tuple(s for _, _, s in sorted(chosen, key=lambda item: item[1]))
    overlap = max((score for score, _, _ in chosen), default=0.0)
    return Extract(chunk=chunk, sentences=ordered, overlap=overlap)


def mark(passage: str, sentences: tuple[str, ...]) -> str:
    """The passage with its answering sentences between « ».

    Markers are French quotation marks, not HTML, so every client shows them safely as text.
    """
    marked = passage
    for sentence in sentences:
        marked = marked.replace(sentence, f"« {sentence} »", 1)
    return marked


def extractive_answer(question: str, chunks: list[ScoredChunk]) -> tuple[str, Extract | None]:
    """A French answer quoting the best passage; ('', None) when there is no passage."""
    if not chunks:
        return "", None
    extracts = [best_sentences(question, chunk) for chunk in chunks[:3]]
    best = max(extracts, key=lambda e: (e.overlap, e.chunk.score))
    source = best.chunk.chunk
    quote = " ".join(best.sentences)
    text = f"D'après « {source.document} » (page {source.page}) : {quote}"
    return text, best
