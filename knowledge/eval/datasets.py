"""The evaluation data sets: hand-written questions, people's judgments, SQuAD-format files.

- Questions, JSONL, one object per line: `question`, `document` (file name), `page`, optional
  `answer`, `product_code` and `also_answered_on` (a list of `{"document", "page"}`: the other
  pages of the product that print the answer, see `knowledge.corpus.alternates`).
- Judgments, JSONL: a person's verdict on whether one page answers one question; the pages
  judged to answer are added to the question's other pages (`with_judgments`).
- SQuAD-format JSON (e.g. PIAF): every paragraph becomes one passage, every question points to
  its paragraph.

Every problem of a file is a `DatasetError` naming the file and, where there is one, the line.
"""

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from knowledge.errors import DatasetError
from knowledge.interfaces import Chunk

Verdict = Literal["answers", "partial", "no"]
VERDICTS: tuple[Verdict, ...] = ("answers", "partial", "no")


@dataclass(frozen=True)
class Question:
    question: str
    document: str
    page: int
    answer: str | None = None
    product_code: str | None = None
    other_pages: tuple[tuple[str, int], ...] = ()

    def is_hit(self, chunk: Chunk) -> bool:
        """The chunk comes from the page the question was written from."""
        return chunk.document == self.document and chunk.page == self.page

    def is_answering_hit(self, chunk: Chunk) -> bool:
        """The chunk comes from that page or from another page that prints the answer."""
        return self.is_hit(chunk) or (chunk.document, chunk.page) in self.other_pages


def load_questions(path: Path) -> list[Question]:
    """Reads a questions JSONL file; every problem names the file and line."""
    name = str(path)
    questions: list[Question] = []
    for number, item in _json_objects(path):
        question, document, page = _question_on_page(item, name, number)
        answer, product_code = item.get("answer"), item.get("product_code")
        if answer is not None and not isinstance(answer, str):
            raise DatasetError(name, number, "'answer' must be a string when given")
        if product_code is not None and not isinstance(product_code, str):
            raise DatasetError(name, number, "'product_code' must be a string when given")
        others = _other_pages(item.get("also_answered_on", []), name, number)
        questions.append(Question(question, document, page, answer, product_code or None, others))
    if not questions:
        raise DatasetError(name, None, "no questions")
    return questions


def _json_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object, or a file that cannot be read, is a DatasetError naming the file and line."""
    name = str(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(name, None, f"cannot read the file ({exc})") from exc
    objects: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(name, number, f"not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise DatasetError(name, number, "expected a JSON object")
        objects.append((number, item))
    return objects


def _question_on_page(item: dict[str, Any], name: str, number: int) -> tuple[str, str, int]:
    """The checked `question` (stripped), `document` (file name) and `page` of an entry."""
    question, document, page = item.get("question"), item.get("document"), item.get("page")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(name, number, "'question' must be a non-empty string")
    if not isinstance(document, str) or not document:
        raise DatasetError(name, number, "'document' must be a file name")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise DatasetError(name, number, "'page' must be a page number from 1")
    return question.strip(), Path(document).name, page


def _other_pages(value: Any, name: str, number: int) -> tuple[tuple[str, int], ...]:
    message = '\'also_answered_on\' must be a list of {"document", "page"} objects'
    if not isinstance(value, list):
        raise DatasetError(name, number, message)
    pages: list[tuple[str, int]] = []
    for other in value:
        if not isinstance(other, dict):
            raise DatasetError(name, number, message)
        document, page = other.get("document"), other.get("page")
        if not isinstance(document, str) or not document:
            raise DatasetError(name, number, message)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise DatasetError(name, number, message)
        pages.append((Path(document).name, page))
    return tuple(pages)


@dataclass(frozen=True)
class Judgment:
    """A person's verdict on whether one page answers one question (pooled assessment).

    `evidence` is the excerpt of the page that holds the answer ("" when the verdict is "no").
    Only "answers" makes the page a hit; "partial" and "no" are kept to show what was judged.
    """

    question: str
    document: str
    page: int
    verdict: Verdict
    evidence: str = ""
    reason: str = ""


def load_judgments(path: Path) -> list[Judgment]:
    """Reads a judgments JSONL file: `question`, `document`, `page`, `verdict`, and optional
    `evidence` and `reason`; every problem names the file and line."""
    name = str(path)
    judgments: list[Judgment] = []
    for number, item in _json_objects(path):
        question, document, page = _question_on_page(item, name, number)
        verdict = item.get("verdict")
        evidence, reason = item.get("evidence", ""), item.get("reason", "")
        if verdict not in VERDICTS:
            raise DatasetError(name, number, f"'verdict' must be one of {', '.join(VERDICTS)}")
        if not isinstance(evidence, str) or not isinstance(reason, str):
            raise DatasetError(name, number, "'evidence' and 'reason' must be strings")
        if verdict != "no" and not evidence.strip():
            raise DatasetError(name, number, f"a '{verdict}' verdict needs its evidence")
        judgments.append(Judgment(question, document, page, verdict, evidence, reason))
    return judgments


def with_judgments(questions: Sequence[Question], judgments: Sequence[Judgment]) -> list[Question]:
    """The questions with the pages judged to answer them added to their other pages.

    A judgment of a question that is not in `questions` is an error (a typo would otherwise
    silently judge nothing), unless the questions were cut (`--limit`): pass only those."""
    known = {question.question: question for question in questions}
    added: dict[str, list[tuple[str, int]]] = {}
    for judgment in judgments:
        if judgment.question not in known:
            raise DatasetError(
                "judgments", None, f"judged question not in the questions: {judgment.question!r}"
            )
        if judgment.verdict == "answers":
            added.setdefault(judgment.question, []).append((judgment.document, judgment.page))
    result: list[Question] = []
    for question in questions:
        extra = [
            page for page in added.get(question.question, []) if page not in question.other_pages
        ]
        result.append(
            dataclasses.replace(question, other_pages=question.other_pages + tuple(extra))
            if extra
            else question
        )
    return result


@dataclass(frozen=True)
class SquadData:
    passages: list[Chunk]  # one per paragraph
    questions: list[str]
    gold: list[str]  # chunk_id of each question's paragraph


def load_squad(path: Path) -> SquadData:
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(name, None, f"cannot read the file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(name, exc.lineno, f"not JSON ({exc.msg})") from exc
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise DatasetError(name, None, "not SQuAD format: no 'data' list")
    passages: list[Chunk] = []
    questions: list[str] = []
    gold: list[str] = []
    try:
        for a, article in enumerate(articles):
            title = str(article.get("title") or f"article-{a}")
            for p, paragraph in enumerate(article["paragraphs"]):
                identifier = f"{a}-{p}"
                passages.append(
                    Chunk(
                        chunk_id=identifier,
                        document=title,
                        page=p + 1,
                        text=str(paragraph["context"]),
                    )
                )
                for qa in paragraph["qas"]:
                    questions.append(str(qa["question"]))
                    gold.append(identifier)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(name, None, f"not SQuAD format ({type(exc).__name__}: {exc})") from exc
    if not questions:
        raise DatasetError(name, None, "no questions")
    return SquadData(passages, questions, gold)
