"""The held-out evaluation sets kept as data: robustness (perturbed questions) and calibration.

Robustness (`finetune/data/robustness.jsonl`): held-out questions of the team, each with four
variants — `typos`, `no_accents`, `lower_case` (computed by `finetune.perturb`, stored so that
every run measures the same text) and `paraphrase`, written by a person in a given `register`
(familiar, formal, SMS, verbose): the same need in other words, never a fixed opening. One
original per line, in the shape `finetune.robustness.read_robustness_set` reads:

    {"id", "source": "own", "question", "document", "page", "answer", "split", "register",
     "variants": {"typos", "no_accents", "lower_case", "paraphrase"}}

A person adds a line with `question` (a held-out hand-written question), `paraphrase` and
`register` only; `refresh_robustness` fills in the rest from the question files.

Calibration (`finetune/data/calibration.jsonl`): every test question of the team with its
reference answer (and its product, and the other pages that print the answer), and the test
questions the documents do not answer (`answer` null), for the expected calibration error of an
answering strategy's confidence; the fields are those `finetune.evaluation.EvalItem` reads.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError
from finetune.perturb import lower_case, with_typos, without_accents
from finetune.records import write_jsonl
from finetune.sources import (
    CALIBRATION_FILE,
    ROBUSTNESS_FILE,
    handwritten_files,
    load_handwritten,
    page_split,
)
from knowledge.errors import DatasetError
from knowledge.eval.datasets import Question
from knowledge.eval.splits import MANIFEST, Manifest, Split, question_lines

REGISTERS = ("familiar", "formal", "sms", "verbose")
AUTOMATIC = {"typos": with_typos, "no_accents": without_accents, "lower_case": lower_case}
VARIANT_NAMES = (*AUTOMATIC, "paraphrase")


def item_id(source: str, question: str) -> str:
    """The evaluation's identifier of a question (as `finetune.evaluation.item_id`)."""
    digest = hashlib.sha1(question.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{source}-{digest}"


def _by_text() -> dict[str, Question]:
    return {q.question: q for q in load_handwritten(handwritten_files())}


def _read_lines(path: Path) -> list[dict[str, Any]]:
    """The manifest's reader of question files, its errors as this package's."""
    try:
        return question_lines(path)
    except DatasetError as exc:
        raise DataFileError(exc.file, exc.line, exc.reason) from exc


@dataclass(frozen=True)
class RobustnessItem:
    question: str
    document: str
    page: int
    answer: str | None
    split: Split
    register: str
    variants: dict[str, str]


def robustness_row(row: dict[str, Any], questions: dict[str, Question]) -> dict[str, Any]:
    """A complete line of the robustness set from an authored one (question, paraphrase,
    register); a question that is not a held-out hand-written question is an error."""
    text = str(row["question"])
    question = questions.get(text)
    if question is None:
        raise DataFileError(str(ROBUSTNESS_FILE), None, f"not a hand-written question: {text!r}")
    split = page_split(question.document, question.page)
    if split == "train":
        raise DataFileError(str(ROBUSTNESS_FILE), None, f"a training question: {text!r}")
    variants = row.get("variants") or {}
    paraphrase = str(row.get("paraphrase") or variants.get("paraphrase") or "").strip()
    register = str(row.get("register") or "")
    if not paraphrase or register not in REGISTERS:
        raise DataFileError(
            str(ROBUSTNESS_FILE), None, f"{text!r} needs a paraphrase and a register"
        )
    return {
        "id": item_id("own", text),
        "source": "own",
        "question": text,
        "document": question.document,
        "page": question.page,
        "answer": question.answer,
        "split": split,
        "register": register,
        "variants": {
            **{name: perturb(text) for name, perturb in AUTOMATIC.items()},
            "paraphrase": paraphrase,
        },
    }


def refresh_robustness(path: Path = ROBUSTNESS_FILE) -> int:
    """Recomputes the automatic variants and the fields taken from the question files."""
    questions = _by_text()
    rows = [robustness_row(row, questions) for row in _read_lines(path)]
    return write_jsonl(path, rows)


def load_robustness(path: Path = ROBUSTNESS_FILE) -> list[RobustnessItem]:
    items: list[RobustnessItem] = []
    for row in _read_lines(path):
        variants = row.get("variants")
        if not isinstance(variants, dict) or set(variants) != set(VARIANT_NAMES):
            raise DataFileError(str(path), None, f"{row['question']!r}: incomplete variants")
        items.append(
            RobustnessItem(
                question=row["question"],
                document=str(row["document"]),
                page=int(row["page"]),
                answer=row.get("answer"),
                split=row["split"],
                register=str(row["register"]),
                variants={str(k): str(v) for k, v in variants.items()},
            )
        )
    return items


def paraphrases(path: Path = ROBUSTNESS_FILE) -> dict[str, str]:
    """Hand-written paraphrase of each original of the robustness set."""
    if not path.is_file():
        return {}
    return {
        str(row["question"]): str(row["variants"]["paraphrase"])
        for row in _read_lines(path)
        if isinstance(row.get("variants"), dict) and "paraphrase" in row["variants"]
    }


# ---------------------------------------------------------------- calibration


def calibration_rows(
    split: Split = "test", manifest: Manifest | None = None
) -> list[dict[str, Any]]:
    """The hand-written questions of `split` with a reference answer, then the questions the
    documents do not answer of that split (answer None)."""
    manifest = manifest or Manifest.load(MANIFEST)
    rows: list[dict[str, Any]] = []
    for question in load_handwritten(handwritten_files()):
        if not question.answer or page_split(question.document, question.page) != split:
            continue
        rows.append(
            {
                "id": item_id("own", question.question),
                "source": "own",
                "question": question.question,
                "answer": question.answer,
                "document": question.document,
                "page": question.page,
                "product_code": question.product_code,
                "other_pages": [list(page) for page in question.other_pages],
                "split": split,
            }
        )
    for text in manifest.unanswerable(split):
        rows.append(
            {
                "id": item_id("unanswerable", text),
                "source": "unanswerable",
                "question": text,
                "answer": None,
                "document": None,
                "page": None,
                "split": split,
            }
        )
    return rows


def write_calibration_set(path: Path = CALIBRATION_FILE, split: Split = "test") -> int:
    return write_jsonl(path, calibration_rows(split))


def load_calibration(path: Path = CALIBRATION_FILE) -> list[dict[str, Any]]:
    return _read_lines(path)
