"""Measures of a PDF reader's cleaned text against the gold text of a generated document.

All measures compare the pages as the ingestion pipeline sees them, after `TextCleaner`:

- reading order: 1 − the normalised word-level edit distance between the page's words and the
  gold words in reading order (title, headings, paragraphs, table rows, then footnotes), summed
  over pages; only alphabetic words count, lower-cased, so that numbering and punctuation
  conventions weigh nothing;
- paragraphs whole: a paragraph's piece on a page appears whole, its words contiguous and in
  order in the page's words (the cleaner keeps a line break between sentences, so lines are not
  compared);
- table rows whole: a line holds exactly the row's words and numbers, nothing else, and the
  rows found keep the table's order (rows whole *and* in order, counted by longest increasing
  run of their line numbers);
- footnotes apart: a line holds exactly the footnote's words and numbers, its number aside;
- headings whole: a heading ("Article 4.2 — …", "Annexe 2 — …") is one line of its own.
"""

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.interfaces import Page
from tests.knowledge.layout.builder import GoldDocument, GoldPage, Unit

_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def tokens(text: str) -> list[str]:
    return [token.casefold() for token in _TOKEN.findall(text)]


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences (row by row, vectorised)."""
    if not a or not b:
        return max(len(a), len(b))
    vocabulary: dict[str, int] = {}
    left = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in a])
    right = np.array([vocabulary.setdefault(w, len(vocabulary)) for w in b])
    columns = np.arange(len(right) + 1)
    previous = columns.copy()
    for i, symbol in enumerate(left, start=1):
        substitute = previous[:-1] + (right != symbol)
        delete = previous[1:] + 1
        best = np.minimum(substitute, delete)
        current = np.empty_like(previous)
        current[0] = i
        current[1:] = best
        # insertions: current[j] = min over k <= j of current[k] + (j - k)
        current = np.minimum.accumulate(current - columns) + columns
        previous = current
    return int(previous[-1])


@dataclass
class Count:
    found: int = 0
    total: int = 0

    def add(self, found: int, total: int) -> None:
        self.found += found
        self.total += total

    @property
    def share(self) -> float:
        return self.found / self.total if self.total else 1.0


@dataclass
class Scores:
    edits: int = 0
    gold_words: int = 0
    paragraphs: Count = field(default_factory=Count)
    rows: Count = field(default_factory=Count)
    footnotes: Count = field(default_factory=Count)
    headings: Count = field(default_factory=Count)

    @property
    def order(self) -> float:
        return 1.0 - self.edits / self.gold_words if self.gold_words else 1.0

    def add(self, other: "Scores") -> None:
        self.edits += other.edits
        self.gold_words += other.gold_words
        for name in ("paragraphs", "rows", "footnotes", "headings"):
            count: Count = getattr(other, name)
            getattr(self, name).add(count.found, count.total)


def _gold_words(units: Sequence[Unit]) -> list[str]:
    return [word for unit in units for word in words(unit.text)]


def score_page(gold: GoldPage, text: str) -> Scores:
    lines = [line.lstrip("#").strip() for line in text.split("\n") if line.strip()]
    line_tokens = [tokens(line) for line in lines]
    expected = _gold_words(gold.units)
    found = words(text)
    scores = Scores(edits=edit_distance(expected, found), gold_words=len(expected))
    page_words = " " + " ".join(found) + " "
    row_lines: list[int] = []
    used: set[int] = set()
    for unit in gold.units:
        if unit.kind == "paragraph" and words(unit.text):
            wanted = " " + " ".join(words(unit.text)) + " "
            scores.paragraphs.add(wanted in page_words, 1)
        elif unit.kind in ("heading", "title"):
            wanted_tokens = tokens(unit.text)
            scores.headings.add(wanted_tokens in line_tokens, 1)
        elif unit.kind == "row":
            wanted_tokens = [token for cell in unit.cells for token in tokens(cell)]
            scores.rows.add(0, 1)
            matches = [i for i, t in enumerate(line_tokens) if t == wanted_tokens and i not in used]
            if matches:  # the first match after the previous row's, else the first one
                after = [i for i in matches if not row_lines or i > row_lines[-1]]
                index = (after or matches)[0]
                used.add(index)
                row_lines.append(index)
        elif unit.kind == "footnote":
            wanted_tokens = tokens(unit.text)
            scores.footnotes.add(
                any(_without_number(t, unit.number) == wanted_tokens for t in line_tokens), 1
            )
    scores.rows.found = _longest_increasing(row_lines)
    return scores


def _without_number(line: list[str], number: int) -> list[str]:
    return line[1:] if line[:1] == [str(number)] else line


def _longest_increasing(values: list[int]) -> int:
    tails: list[int] = []
    for value in values:
        position = bisect_left(tails, value)
        if position == len(tails):
            tails.append(value)
        else:
            tails[position] = value
    return len(tails)


def score_document(gold: GoldDocument, pages: Sequence[Page]) -> Scores:
    if len(pages) != len(gold.pages):
        raise ValueError(f"{gold.name}: {len(pages)} pages read, {len(gold.pages)} generated")
    total = Scores()
    for gold_page, page in zip(gold.pages, pages, strict=True):
        total.add(score_page(gold_page, page.text))
    return total
