"""Other training and evaluation sources: the hand-written questions, held-out splits.

The hand-written questions (`tests/knowledge/questions/*.jsonl`: question, document, page,
reference answer) become triplets whose context is the passage of that page that holds most of
the answer. A deterministic split by question keeps a held-out part that no training ever sees.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from finetune.records import Provenance, Triplet
from knowledge.eval.datasets import Question, load_questions
from knowledge.interfaces import Chunk
from knowledge.text import content_stems

REPOSITORY = Path(__file__).resolve().parent.parent
HANDWRITTEN_DIR = REPOSITORY / "tests" / "knowledge" / "questions"
UNANSWERABLE_FILE = Path(__file__).resolve().parent / "data" / "unanswerable.jsonl"


def handwritten_files(directory: Path = HANDWRITTEN_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_handwritten(paths: Sequence[Path]) -> list[Question]:
    questions: list[Question] = []
    for path in paths:
        questions.extend(load_questions(path))
    return questions


def is_held_out(key: str, share: float, seed: str = "vergemont") -> bool:
    """Deterministic: the same text always lands in the same split."""
    digest = hashlib.sha256(f"{seed}\n{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass(frozen=True)
class Split:
    train: list[Question]
    held_out: list[Question]


def split_questions(questions: Sequence[Question], held_out_share: float = 0.3) -> Split:
    train = [q for q in questions if not is_held_out(q.question, held_out_share)]
    held = [q for q in questions if is_held_out(q.question, held_out_share)]
    return Split(train, held)


def best_context(
    question: Question, chunks_by_page: dict[tuple[str, int], list[Chunk]]
) -> Chunk | None:
    """The passage of the question's page that shares most words with its answer (or question)."""
    candidates = chunks_by_page.get((question.document, question.page), [])
    if not candidates:
        return None
    target = content_stems(question.answer or question.question)
    return max(candidates, key=lambda chunk: len(target & content_stems(chunk.text)))


def index_by_page(chunks: Sequence[Chunk]) -> dict[tuple[str, int], list[Chunk]]:
    pages: dict[tuple[str, int], list[Chunk]] = {}
    for chunk in chunks:
        pages.setdefault((chunk.document, chunk.page), []).append(chunk)
    return pages


def questions_to_triplets(
    questions: Sequence[Question], chunks: Sequence[Chunk]
) -> tuple[list[Triplet], int]:
    """Triplets of the questions that have an answer and a passage on their page; and how many
    were left out."""
    pages = index_by_page(chunks)
    triplets: list[Triplet] = []
    missing = 0
    for question in questions:
        context = best_context(question, pages)
        if context is None or not question.answer:
            missing += 1
            continue
        triplets.append(
            Triplet(
                question=question.question,
                context=context.text,
                answer=question.answer,
                provenance=Provenance(
                    document=context.document,
                    page=context.page,
                    chunk_id=context.chunk_id,
                    section=context.section,
                    product_code=context.product_code,
                    source="handwritten",
                ),
            )
        )
    return triplets, missing


def triplet_to_question(triplet: Triplet) -> Question:
    """A generated triplet as a retrieval evaluation question (hit: its document and page)."""
    p = triplet.provenance
    return Question(triplet.question, p.document, p.page, triplet.answer, p.product_code or None)
