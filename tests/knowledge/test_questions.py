"""The hand-written evaluation questions: each one names a built PDF and the page that answers it.

Every line of `tests/knowledge/questions/*.jsonl` is checked against the corpus, built once per
session into a temporary folder: the fields are present, the document exists, the product code is
the document's, and the key facts of the reference answer are printed on the stated page: every
number of the answer, and most of its content words.
"""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from knowledge.corpus.__main__ import DEFAULT_SOURCES
from knowledge.corpus.answer_check import (
    WORD_SHARE,
    missing_numbers,
    missing_words,
    normalise,
    passage_answers,
)
from knowledge.corpus.markdown_source import read_source
from knowledge.corpus.pdf_builder import build_corpus

pytestmark = pytest.mark.unit

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
FIELDS: dict[str, type] = {
    "question": str,
    "document": str,
    "page": int,
    "answer": str,
    "product_code": str,
}
OPTIONAL_FIELDS: dict[str, type] = {"also_answered_on": list}
MIN_QUESTIONS = 300


def _lines() -> list[tuple[str, dict[str, Any]]]:
    lines: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(QUESTIONS_DIR.glob("*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if text.strip():
                lines.append((f"{path.name}:{number}", json.loads(text)))
    return lines


QUESTIONS = _lines()
IDS = [location for location, _ in QUESTIONS]


@pytest.fixture(scope="session")
def corpus_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The text of each page of each built PDF, by file name."""
    out = tmp_path_factory.mktemp("corpus")
    built, failures = build_corpus(DEFAULT_SOURCES, out)
    assert failures == 0
    return {
        document.source.pdf_name: [
            normalise(page.extract_text())
            for page in PdfReader(out / document.source.category / document.source.pdf_name).pages
        ]
        for document in built
    }


@pytest.fixture(scope="session")
def product_codes() -> dict[str, str]:
    return {
        f"{path.stem}.pdf": read_source(path).meta.product_code
        for path in DEFAULT_SOURCES.glob("*/*.md")
    }


class TestQuestionFiles:
    def test_there_are_enough_questions(self) -> None:
        assert len(QUESTIONS) >= MIN_QUESTIONS

    def test_no_question_is_asked_twice(self) -> None:
        counts = Counter(entry["question"].strip().lower() for _, entry in QUESTIONS)
        assert [question for question, count in counts.items() if count > 1] == []

    @pytest.mark.parametrize(("location", "entry"), QUESTIONS, ids=IDS)
    def test_fields_are_present_and_typed(self, location: str, entry: dict[str, Any]) -> None:
        assert set(FIELDS) <= set(entry) <= set(FIELDS) | set(OPTIONAL_FIELDS), location
        for name, kind in FIELDS.items():
            assert isinstance(entry[name], kind), f"{location}: {name}"
        assert entry["question"].strip(), location
        assert entry["answer"].strip(), location
        assert entry["page"] >= 1, location

    @pytest.mark.parametrize(("location", "entry"), QUESTIONS, ids=IDS)
    def test_document_exists_and_belongs_to_the_product(
        self,
        location: str,
        entry: dict[str, Any],
        corpus_pages: dict[str, list[str]],
        product_codes: dict[str, str],
    ) -> None:
        assert entry["document"] in corpus_pages, f"{location}: no built {entry['document']}"
        assert entry["page"] <= len(corpus_pages[entry["document"]]), location
        assert product_codes[entry["document"]] == entry["product_code"], location

    @pytest.mark.parametrize(("location", "entry"), QUESTIONS, ids=IDS)
    def test_answer_is_printed_on_the_stated_page(
        self, location: str, entry: dict[str, Any], corpus_pages: dict[str, list[str]]
    ) -> None:
        pages = corpus_pages.get(entry["document"], [])
        if not 1 <= entry["page"] <= len(pages):
            pytest.fail(f"{location}: page {entry['page']} is not in {entry['document']}")
        page = pages[entry["page"] - 1]
        missing = missing_numbers(page, entry["answer"])
        assert missing == [], f"{location}: numbers not on page {entry['page']}: {missing}"
        absent, total = missing_words(page, entry["answer"])
        assert total - len(absent) >= WORD_SHARE * total, (
            f"{location}: page {entry['page']} lacks {sorted(set(absent))}"
        )

    @pytest.mark.parametrize(("location", "entry"), QUESTIONS, ids=IDS)
    def test_other_answering_pages_belong_to_the_product_and_answer(
        self,
        location: str,
        entry: dict[str, Any],
        corpus_pages: dict[str, list[str]],
        product_codes: dict[str, str],
    ) -> None:
        for other in entry.get("also_answered_on", []):
            document, page = other["document"], other["page"]
            assert product_codes.get(document) == entry["product_code"], location
            assert (document, page) != (entry["document"], entry["page"]), location
            pages = corpus_pages[document]
            assert 1 <= page <= len(pages), f"{location}: {document} has no page {page}"
            assert passage_answers(pages[page - 1], entry["answer"], min_words=3), (
                f"{location}: {document} page {page} does not print the answer"
            )


JUDGMENTS_FILE = Path(__file__).resolve().parent / "judgments" / "answering-pages.jsonl"


def _judgments() -> list[tuple[str, dict[str, Any]]]:
    if not JUDGMENTS_FILE.exists():
        return []
    return [
        (f"{JUDGMENTS_FILE.name}:{number}", json.loads(text))
        for number, text in enumerate(JUDGMENTS_FILE.read_text(encoding="utf-8").splitlines(), 1)
        if text.strip()
    ]


JUDGMENTS = _judgments()


def _flat(text: str) -> str:
    return " ".join(normalise(text).split())


class TestJudgedPages:
    """People's judgments of other pages (`knowledge eval --judgments`): each one is about a
    known question and a page of the same product, and its evidence is printed on that page."""

    def test_the_judgments_file_exists_and_judges_each_page_once(self) -> None:
        assert JUDGMENTS, f"no judgments in {JUDGMENTS_FILE}"
        pairs = Counter((e["question"], e["document"], e["page"]) for _, e in JUDGMENTS)
        assert [pair for pair, count in pairs.items() if count > 1] == []

    @pytest.mark.parametrize(("location", "judgment"), JUDGMENTS, ids=[j[0] for j in JUDGMENTS])
    def test_judges_a_known_question_on_a_page_of_its_product(
        self,
        location: str,
        judgment: dict[str, Any],
        corpus_pages: dict[str, list[str]],
        product_codes: dict[str, str],
    ) -> None:
        questions = {entry["question"]: entry for _, entry in QUESTIONS}
        entry = questions.get(judgment["question"])
        assert entry is not None, f"{location}: unknown question"
        document, page = judgment["document"], judgment["page"]
        assert product_codes.get(document) == entry["product_code"], location
        assert (document, page) != (entry["document"], entry["page"]), location
        assert 1 <= page <= len(corpus_pages[document]), f"{location}: no page {page}"
        assert judgment["verdict"] in ("answers", "partial", "no"), location
        if judgment["verdict"] != "no":
            assert _flat(judgment["evidence"]) in _flat(corpus_pages[document][page - 1]), (
                f"{location}: the evidence is not printed on {document} page {page}"
            )
