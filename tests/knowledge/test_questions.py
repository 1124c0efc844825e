"""The hand-written evaluation questions: each one names a built PDF and the page that answers it.

Every line of `tests/knowledge/questions/*.jsonl` is checked against the corpus, built once per
session into a temporary folder: the fields are present, the document exists, the product code is
the document's, and the key facts of the reference answer are printed on the stated page: every
number of the answer, and most of its content words.
"""

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from knowledge.corpus.__main__ import DEFAULT_SOURCES
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
MIN_QUESTIONS = 300
WORD_SHARE = 0.6  # share of the answer's content words that the page must contain
# A phone number (01 00 00 00 00), or a number with its thousands groups and decimals.
NUMBER = re.compile(r"0\d(?: \d{2}){4}|\d+(?: \d{3})*(?:,\d+)?")
STOPWORDS = frozenset(
    {
        "alors",
        "après",
        "aucun",
        "aucune",
        "autre",
        "autres",
        "avant",
        "avoir",
        "celle",
        "celui",
        "cette",
        "comme",
        "depuis",
        "doivent",
        "entre",
        "leurs",
        "moins",
        "notre",
        "peuvent",
        "quand",
        "quelle",
        "selon",
        "seulement",
        "toute",
        "toutes",
        "votre",
        "faire",
        "ainsi",
        "aussi",
        "chaque",
        "encore",
        "lorsque",
        "partir",
        "parce",
    }
)


def _lines() -> list[tuple[str, dict[str, Any]]]:
    lines: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(QUESTIONS_DIR.glob("*.jsonl")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if text.strip():
                lines.append((f"{path.name}:{number}", json.loads(text)))
    return lines


QUESTIONS = _lines()
IDS = [location for location, _ in QUESTIONS]


def normalise(text: str) -> str:
    """One space between words, no-break spaces included; line breaks kept as separators."""
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u202f", " ")
    text = text.replace("’", "'")
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())


def numbers(text: str) -> list[str]:
    return NUMBER.findall(normalise(text))


def contains_number(page: str, number: str) -> bool:
    """`number` stands alone on the page: not part of a larger number such as 1 030 or 30 000."""
    pattern = rf"(?<![\d,])(?<!\d ){re.escape(number)}(?!\d)(?!,\d)(?! \d{{3}}(?!\d))"
    return re.search(pattern, page) is not None


def content_words(text: str) -> list[str]:
    words = re.findall(r"[a-zà-ÿœ]+", normalise(text).lower())
    return [word for word in words if len(word) >= 5 and word not in STOPWORDS]


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
        assert set(entry) == set(FIELDS), location
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
        missing = [n for n in numbers(entry["answer"]) if not contains_number(page, n)]
        assert missing == [], f"{location}: numbers not on page {entry['page']}: {missing}"
        words = content_words(entry["answer"])
        flat = page.replace("\n", " ").lower()
        found = [word for word in words if word.rstrip("sx") in flat]  # plural or singular
        assert len(found) >= WORD_SHARE * len(words), (
            f"{location}: page {entry['page']} lacks {sorted(set(words) - set(found))}"
        )
