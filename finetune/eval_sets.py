"""The held-out question sets of the report's runs, read from the page-level split manifest.

`knowledge/eval/splits.json` (one manifest for the reader, the retriever and the generator)
puts PIAF articles, the team's document pages and the unanswerable questions in train / dev /
test. Only `test` units are measured here, only `train` units are trained on:

- retrieval: every question of the PIAF test articles, asked against every PIAF paragraph (all
  splits, as the published PIAF benchmark indexes them; no title), and every test question of
  the team's own (its page is the hit), asked against the whole corpus;
- generation: the team's answerable test questions, an evenly spaced sample of the PIAF test
  questions, and the unanswerable test questions; the passages each answering strategy reads
  are attached by the run that builds the inputs (`finetune.eval_runs`).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from finetune.errors import DataFileError
from finetune.evaluation import EvalItem, item_id
from knowledge.eval.datasets import Question, load_judgments, load_questions, with_judgments
from knowledge.eval.splits import QUESTION_FILES, REPO, Manifest, Split
from knowledge.interfaces import Chunk

T = TypeVar("T")
JUDGMENTS_FILE = REPO / "tests/knowledge/judgments/answering-pages.jsonl"


@dataclass(frozen=True)
class RetrievalQuestion:
    """A question and the page (a PIAF paragraph, a document page) that is its hit."""

    id: str
    source: str  # "piaf" or "own"
    question: Question


@dataclass(frozen=True)
class Piaf:
    """PIAF's paragraphs as passages (document: article title, page: paragraph number from 1)
    and its questions by article."""

    paragraphs: list[Chunk]
    questions: dict[str, list[tuple[str, Question]]]  # title -> (PIAF id, question)


def load_piaf(path: Path) -> Piaf:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(str(path), None, f"cannot read PIAF ({exc})") from exc
    paragraphs: list[Chunk] = []
    questions: dict[str, list[tuple[str, Question]]] = {}
    for article_index, article in enumerate(data["data"]):
        title = str(article["title"])
        for paragraph_index, paragraph in enumerate(article["paragraphs"]):
            page = paragraph_index + 1
            paragraphs.append(
                Chunk(
                    chunk_id=f"piaf:{article_index}:{paragraph_index}",
                    document=title,
                    page=page,
                    text=str(paragraph["context"]),
                    category="piaf",
                )
            )
            for qa in paragraph["qas"]:
                answer = str(qa["answers"][0]["text"]) if qa.get("answers") else None
                questions.setdefault(title, []).append(
                    (str(qa["id"]), Question(str(qa["question"]), title, page, answer))
                )
    return Piaf(paragraphs, questions)


def piaf_questions(piaf: Piaf, manifest: Manifest, split: Split) -> list[RetrievalQuestion]:
    titles = manifest.piaf_titles(split)
    return [
        RetrievalQuestion(f"piaf-{identifier}", "piaf", question)
        for title in sorted(titles)
        for identifier, question in piaf.questions.get(title, [])
    ]


def own_questions(
    manifest: Manifest, split: Split, files: Sequence[Path] = QUESTION_FILES
) -> list[Question]:
    """The team's questions of the split's pages, with the other pages people judged to
    answer them."""
    everything = [q for path in files for q in load_questions(path)]
    if JUDGMENTS_FILE.is_file():
        everything = with_judgments(everything, load_judgments(JUDGMENTS_FILE))
    pages = manifest.pages(split)
    return [q for q in everything if f"{q.document}#{q.page}" in pages]


def own_retrieval_questions(manifest: Manifest, split: Split) -> list[RetrievalQuestion]:
    return [
        RetrievalQuestion(item_id("own", q.question), "own", q)
        for q in own_questions(manifest, split)
    ]


def evenly_spaced(items: Sequence[T], size: int | None) -> list[T]:
    """`size` items spread over the sequence (deterministic); all of them when size is None."""
    if size is None or size >= len(items):
        return list(items)
    stride = len(items) / size
    return [items[int(i * stride)] for i in range(size)]


def generation_items(
    manifest: Manifest,
    piaf: Piaf,
    *,
    split: Split = "test",
    piaf_questions_count: int | None = 50,
) -> list[EvalItem]:
    """Answerable items (the team's questions with a reference answer, a PIAF sample) and the
    unanswerable questions of the split, without passages yet."""
    own = [
        EvalItem(
            id=item_id("own", q.question),
            question=q.question,
            answer=q.answer,
            source="own",
            document=q.document,
            page=q.page,
            product_code=q.product_code,
            other_pages=q.other_pages,
        )
        for q in own_questions(manifest, split)
        if q.answer
    ]
    sample = evenly_spaced(piaf_questions(piaf, manifest, split), piaf_questions_count)
    from_piaf = [
        EvalItem(
            id=r.id,
            question=r.question.question,
            answer=r.question.answer,
            source="piaf",
            document=r.question.document,
            page=r.question.page,
        )
        for r in sample
        if r.question.answer
    ]
    refusals = [
        EvalItem(
            id=item_id("unanswerable", text), question=text, answer=None, source="unanswerable"
        )
        for text in manifest.unanswerable(split)
    ]
    return own + from_piaf + refusals


def with_question_metadata(items: Sequence[EvalItem]) -> list[EvalItem]:
    """The team's items completed from the question files (matched by text): product code (the
    chat searches within the product once it knows it) and the other pages people judged to
    answer. Items already carrying them, and other sources, are left as they are."""
    from dataclasses import replace

    from knowledge.eval.splits import MANIFEST, Manifest

    manifest = Manifest.load(MANIFEST)
    known = {
        q.question: q for split in ("train", "dev", "test") for q in own_questions(manifest, split)
    }
    completed = []
    for item in items:
        question = known.get(item.question) if item.source == "own" else None
        if question is None:
            completed.append(item)
            continue
        completed.append(
            replace(
                item,
                product_code=item.product_code or question.product_code,
                other_pages=item.other_pages or question.other_pages,
                document=item.document or question.document,
                page=item.page or question.page,
            )
        )
    return completed
