"""Chunking: cleaned pages → passages that fit a size, cut at sentence boundaries.

A chunk never spans two pages (its page is exact, which the evaluation and the citations rely
on) nor two sections: it carries the title of the section it belongs to, and the section runs on
across pages until the next heading. Within a (page, section) run, sentences are packed up to
`chunk_size`; the next chunk starts with the last sentences of the previous one, up to
`chunk_overlap`. A sentence longer than `chunk_size` is cut at word boundaries.

A chunk keeps the page's line breaks between its sentences: a table row, a list item or a
paragraph starts a new line of the chunk, sentences of one line are joined by a space. The
sentence splitting of the answers (`knowledge.text.split_sentences`) reads lines first, so a row
or an item is never merged with the next one.

A table cut between chunks keeps its column names: a chunk that continues a table opens on the
table's header row (its first row), repeated, and so does the first chunk of a page whose first
rows continue the table that ended the previous page with as many cells, when the page does not
repeat the header itself. A table at the top of a chunk therefore always starts with its header
row, which the answers rely on to name a row's columns (`knowledge.extractive.labelled_row`).

Sizes are measured by `length` — characters by default; pass a tokenizer's counting function to
measure in tokens. Every chunk is at most `chunk_size` long, and never empty.
"""

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from knowledge.cleaning import heading_level, heading_text
from knowledge.interfaces import CELL_SEPARATOR, Chunk, Page

# A sentence ends at . ! ? … followed by a space and a capital, a digit or an opening mark;
# common French abbreviations ("art.", "M.", "n°", "cf.") do not end one.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[«\"(\[A-ZÀ-Ý0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:art|cf|etc|M|Mme|Mlle|MM|Dr|St|n°|no|p|pp|env|réf|vol|éd|ex|min|max|hab)\.|\b[A-Z]\.)$"
)


def split_sentences(text: str) -> list[str]:
    """The sentences of one paragraph, in order, none empty."""
    pieces = _SENTENCE_BREAK.split(text)
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if sentences and _ABBREVIATIONS.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def searchable_text(chunk: Chunk) -> str:
    """What the stores index for a chunk: document title and section before the passage.

    Passages of insurance documents rarely repeat the product or the topic ("Sont exclus : …"),
    the title and the section do; both lexical and dense search see this text.
    """
    return in_context(chunk, chunk.text)


def in_context(chunk: Chunk, text: str) -> str:
    """`text` (the chunk's or one of its sentences) under the chunk's document title and
    section, as the stores and the trained scorers read it."""
    context = " — ".join(part for part in (chunk.metadata.get("title", ""), chunk.section) if part)
    return under_heading(context, text)


def under_heading(heading: str, text: str) -> str:
    """`text` on the line after `heading` (none: `text` alone): the one form every trained
    scorer reads, in training (a PIAF article's title) and at run time (`in_context`)."""
    return f"{heading}\n{text}" if heading else text


class _Unit(NamedTuple):
    """A sentence-sized piece of a page, and whether it opens a line of the page."""

    text: str
    opens_line: bool

    @property
    def is_row(self) -> bool:
        """Whether the unit is a table row (or opens one: a row longer than a chunk is cut)."""
        return self.opens_line and CELL_SEPARATOR in self.text


def _cells(row: _Unit) -> int:
    return row.text.count(CELL_SEPARATOR) + 1


def _joined(units: Sequence[_Unit]) -> str:
    """The units as one text: a line break before a unit that opens a line, else a space."""
    parts: list[str] = []
    for unit in units:
        if parts:
            parts.append("\n" if unit.opens_line else " ")
        parts.append(unit.text)
    return "".join(parts)


def chunk_id(document: str, page: int, index: int, text: str) -> str:
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{document}#p{page}-{index}-{digest}"


class SectionChunker:
    """Section-aware, sentence-boundary chunking with a size and an overlap."""

    def __init__(
        self,
        chunk_size: int = 500,
        chunk_overlap: int = 60,
        *,
        length: Callable[[str], int] = len,
    ) -> None:
        if chunk_size < 20:
            raise ValueError("chunk_size must be at least 20")
        if not 0 <= chunk_overlap < chunk_size // 2:
            raise ValueError("chunk_overlap must be >= 0 and less than half of chunk_size")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.length = length

    def split(self, pages: Sequence[Page]) -> list[Chunk]:
        chunks: list[Chunk] = []
        section = ""
        header: _Unit | None = None  # of the table that ended the previous run, if one did
        for page in pages:
            index = 0
            for run_section, units in self._runs(page.text, section):
                if run_section != section:
                    header = None  # a new section starts no table of the previous one
                section = run_section
                texts, header = self._pack(units, header)
                for text in texts:
                    chunks.append(
                        Chunk(
                            chunk_id=chunk_id(page.document, page.page, index, text),
                            document=page.document,
                            page=page.page,
                            text=text,
                            section=section,
                        )
                    )
                    index += 1
        return chunks

    def _runs(self, text: str, section: str) -> Iterator[tuple[str, list[_Unit]]]:
        """(section title, sentence-sized units) for each section of a page."""
        units: list[_Unit] = []
        after_heading = False
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            if heading_level(line):
                if units:
                    yield section, units
                    units = []
                title = heading_text(line)
                # headings in a row ("Qu'est-ce qui est assuré ?" then "Garanties prévues :")
                # make one title
                section = f"{section} — {title}" if after_heading and section else title
                after_heading = True
                continue
            after_heading = False
            pieces = [piece for sentence in split_sentences(line) for piece in self._fit(sentence)]
            units.extend(_Unit(piece, i == 0) for i, piece in enumerate(pieces))
        # a page that ends on a heading still moves the section on
        yield section, units

    def _fit(self, sentence: str) -> list[str]:
        """The sentence itself, or word windows of it when it is longer than a chunk."""
        if self.length(sentence) <= self.chunk_size:
            return [sentence]
        pieces: list[str] = []
        current: list[str] = []
        for word in sentence.split(" "):
            while self.length(word) > self.chunk_size:  # a "word" longer than a chunk: cut it
                head, word = _cut(word, self.chunk_size, self.length)
                if current:
                    pieces.append(" ".join(current))
                    current = []
                pieces.append(head)
            candidate = " ".join([*current, word])
            if current and self.length(candidate) > self.chunk_size:
                pieces.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        if current:
            pieces.append(" ".join(current))
        return [piece for piece in pieces if piece.strip()]

    def _pack(
        self, units: list[_Unit], header: _Unit | None = None
    ) -> tuple[list[str], _Unit | None]:
        """Greedy packing of units into chunks, each next chunk opening on the overlap (and on
        the header row of a table it continues); also the header row of the table the units
        end on, if they end on one.

        `header` is the header row of the table that ended the previous page: rows that open
        these units with as many cells continue it."""
        chunks: list[str] = []
        current: list[_Unit] = []
        fresh = 0  # units of `current` that are not overlap from the previous chunk
        for position, unit in enumerate(units):
            continues_table = False
            if unit.is_row:
                continued = position == 0 and header is not None and _cells(unit) == _cells(header)
                if header is None or (position == 0 and not continued):
                    header = unit  # the first row of a table: its column names
                elif unit.text != header.text:  # (a page that repeats the header row itself)
                    continues_table = True
            elif unit.opens_line:
                header = None  # a line of text ends the table
            if current and self.length(_joined([*current, unit])) > self.chunk_size:
                if fresh:
                    chunks.append(_joined(current))
                current = self._overlap(current, unit)
                fresh = 0
            if fresh == 0 and header is not None and (continues_table or not unit.opens_line):
                current = self._with_header(current, header, unit)  # a chunk opening in a table
            current.append(unit)
            fresh += 1
        if current and fresh:
            chunks.append(_joined(current))
        return chunks, header

    def _with_header(self, current: list[_Unit], header: _Unit, following: _Unit) -> list[_Unit]:
        """`current` (the overlap a chunk opens on, before `following`) opened by the table's
        header row when it holds no line of the table's start and the header fits; overlap
        units make room for it first."""
        if current and current[0].is_row and current[0].text == header.text:
            return current
        if any(unit.opens_line and not unit.is_row for unit in current):
            return current  # the table starts inside this chunk, after text: its header is here
        kept = list(current)
        while kept and self.length(_joined([header, *kept, following])) > self.chunk_size:
            kept.pop(0)
        if self.length(_joined([header, *kept, following])) > self.chunk_size:
            return current
        return [header, *kept]

    def _overlap(self, previous: list[_Unit], following: _Unit) -> list[_Unit]:
        """The last units of a chunk that fit in the overlap and leave room for `following`."""
        kept: list[_Unit] = []
        for unit in reversed(previous):
            candidate = [unit, *kept]
            if (
                self.length(_joined(candidate)) > self.chunk_overlap
                or self.length(_joined([*candidate, following])) > self.chunk_size
            ):
                break
            kept = candidate
        return kept


def _cut(word: str, size: int, length: Callable[[str], int]) -> tuple[str, str]:
    """The longest head of `word` within `size`, and the rest."""
    end = min(len(word), size)
    while end > 1 and length(word[:end]) > size:
        end -= 1
    return word[:end], word[end:]
