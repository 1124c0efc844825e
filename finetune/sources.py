"""Where the fine-tuning data lives, and how each source becomes triplets of one split.

The data files (one documented place: these constants):

- `GENERATED_FILE`: the cleaned templated triplets of the corpus (`python -m finetune generate
  --method templates`, `clean`, `split --export`), every split, each line a
  `finetune.records.Triplet` with its `split`; `GENERATED_UNANSWERABLE_FILE`: the refusal
  triplets (a question with a passage of its split that does not answer it, the answer
  `REFUSAL_ANSWER`); `GENERATED_REPORT_FILE`: how they were made (counts, rejections, hashes);
- `handwritten_files()`: the split manifest's hand-written questions with their page and
  reference answer (`QUESTION_FILES`; the new writers' `*-fresh.jsonl` files beside them are the
  abstention model's and the held-out test's only);
- `ROBUSTNESS_FILE`: held-out originals, each with its typos, no-accent, lower-case and
  hand-written paraphrase variants; `CALIBRATION_FILE`: held-out questions with their reference
  answers (or none: not answered by the documents);
- `UNANSWERABLE_FILE`: questions on topics the documents do not cover;
- PIAF (`knowledge.eval.splits.PIAF_FILE`).

Splits come from the page-level manifest (`knowledge/eval/splits.json`): a page of the insurer's
documents is train, dev or test for everything, never a question alone; "held out" is dev and
test together (nothing trained on), test being what reports measure.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError
from finetune.records import Provenance, Triplet, read_triplets
from knowledge.eval.datasets import Question, load_questions
from knowledge.eval.splits import GENERATED_FILES, QUESTION_FILES, Split, page_rule
from knowledge.interfaces import Chunk
from knowledge.text import content_stems

REPOSITORY = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
UNANSWERABLE_FILE = DATA_DIR / "unanswerable.jsonl"
GENERATED_FILE, GENERATED_UNANSWERABLE_FILE = GENERATED_FILES
GENERATED_REPORT_FILE = DATA_DIR / "generated.report.json"
ROBUSTNESS_FILE = DATA_DIR / "robustness.jsonl"
CALIBRATION_FILE = DATA_DIR / "calibration.jsonl"
HELD_OUT: tuple[Split, ...] = ("dev", "test")


def handwritten_files() -> list[Path]:
    return sorted(QUESTION_FILES)


def load_handwritten(paths: Sequence[Path]) -> list[Question]:
    questions: list[Question] = []
    for path in paths:
        questions.extend(load_questions(path))
    return questions


def page_split(document: str, page: int) -> Split:
    """The split of a page of the insurer's documents (the manifest's rule)."""
    return page_rule(document, page)


# ---------------------------------------------------------------- the committed data


def load_generated(
    split: Split | None = None, *, refusals: bool = False, path: Path | None = None
) -> list[Triplet]:
    """The committed generated triplets (of one split), answerable ones or refusal ones."""
    path = path or (GENERATED_UNANSWERABLE_FILE if refusals else GENERATED_FILE)
    if not path.is_file():
        raise DataFileError(
            str(path), None, "missing: run `python -m finetune split --export` after generating"
        )
    triplets, _ = read_triplets(path)
    if split is None:
        return triplets
    return [t for t in triplets if page_split(t.provenance.document, t.provenance.page) == split]


def with_split(triplet: Triplet) -> dict[str, Any]:
    """A triplet's JSON line with the split of its page."""
    p = triplet.provenance
    return {**triplet.to_json(), "split": page_split(p.document, p.page)}


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
