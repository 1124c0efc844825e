"""Generated PDFs of known text with hard layouts: the test set of the layout-aware PDF reader.

A document is laid out page by page by a small composer of its own (not reportlab's platypus),
so that the test knows where every word went:

- pages of one, two or three columns, a full-width chapter title above the columns on the first
  page of a chapter;
- a running header and footer with the page number;
- article and annex headings ("Article 4.2 — …", "Annexe 2 — …");
- paragraphs flowing from column to column and page to page, hyphenated at line ends
  ("garan-" / "tie") in some documents, ragged, justified by word spacing or drawn word by word;
- tables with a bold header row and cells that wrap, ruled, striped or bare;
- numbered footnotes in a smaller font at the foot of the page, called by a superscript number.

The stream order, the order in which a page's content stream draws its text, is a property of
the document: "flow" (the reading order), "master" (header and footer first, as page-layout
programs draw master-page items), "rows" (text sorted by line across the columns, as some print
drivers and OCR text layers do), "scrambled" (footnotes first, right column before left, table
cells column by column, header and footer last) or "mixed" (one of these per page). A reader that
follows the stream, as pypdf's plain extraction does, reads what the stream says; a layout
reader must give the same text whatever the order.

`GoldDocument` holds, for every page, the units a reader should give in reading order: title,
headings, paragraph pieces, table rows, then the footnotes.
"""

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from tests.knowledge.layout.texts import INSURER, PRODUCTS, FrenchText

UnitKind = Literal["title", "heading", "paragraph", "row", "footnote"]
Stream = Literal["flow", "master", "rows", "scrambled", "mixed"]
TextMode = Literal["ragged", "justified", "words"]
TableStyle = Literal["grid", "stripes", "bare"]

_STREAMS: tuple[Stream, ...] = ("flow", "master", "rows", "scrambled")
_BOLD = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold"}
_VOWELS = set("aeiouyàâäéèêëîïôöùûüœ")
_UNSPLIT = {"ch", "ph", "th", "gn", "qu"}  # consonant pairs never split by hyphenation
_LIQUIDS = set("rl")  # "br", "cl", "tr"… start a syllable together


@dataclass(frozen=True)
class Unit:
    """What a reader should give for one piece of a page, in reading order."""

    kind: UnitKind
    text: str
    cells: tuple[str, ...] = ()
    number: int = 0  # footnote number


@dataclass
class GoldPage:
    number: int
    layout: str  # "2 columns + title", "1 column"…
    stream: Stream
    units: list[Unit] = field(default_factory=list)


@dataclass
class GoldDocument:
    name: str
    pages: list[GoldPage]


@dataclass(frozen=True)
class Style:
    """Typography of one document."""

    font: str = "Helvetica"
    size: float = 10.0
    leading: float = 1.3  # times the size
    margin: float = 56.0
    gutter: float = 18.0
    text_mode: TextMode = "justified"
    hyphenate: bool = True
    table_style: TableStyle = "grid"
    footnote_marker: Literal["superscript", "number"] = "superscript"
    stream: Stream = "flow"


@dataclass(frozen=True)
class DocumentSpec:
    name: str
    pages: int
    seed: int
    columns: tuple[int, ...] = (1,)  # column counts, one drawn per page
    style: Style = Style()
    table_share: float = 0.3  # share of articles that hold a table
    footnotes: bool = True
    annex_pages: int = 0  # the last pages hold the annexes


# ---------------------------------------------------------------- drawing records


@dataclass(frozen=True)
class _Span:
    text: str
    font: str
    size: float
    rise: float = 0.0


@dataclass(frozen=True)
class _Draw:
    """One text drawing of a page, with what decides its place in each stream order."""

    group: int  # 0 header, 1 footer, 2 body, 3 footnotes
    x: float
    y: float
    spans: tuple[_Span, ...]
    word_space: float = 0.0
    frame: int = 0
    block: int = 0  # index of the block on the page
    cell: tuple[int, int] = (0, 0)  # (row, column) of a table cell
    order: int = 0


@dataclass(frozen=True)
class _Rule:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: bool = False  # a filled rectangle rather than a stroked line


@dataclass
class _Token:
    text: str
    word: int  # index of the word in its paragraph
    call: int = 0  # footnote number drawn after the word, 0 for none


# ---------------------------------------------------------------- story


@dataclass
class _Title:
    text: str


@dataclass
class _Heading:
    text: str
    annex: bool = False


@dataclass(eq=False)  # hashed by identity: the keys of a page's pieces
class _Paragraph:
    words: list[str]
    tokens: list[_Token] = field(default_factory=list)
    started: bool = False
    placed: set[int] = field(default_factory=set)  # indexes of the words already drawn


@dataclass
class _Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


_Block = _Title | _Heading | _Paragraph | _Table


class _Story:
    """The document's content, one block at a time: chapters of articles, then annexes."""

    def __init__(self, text: FrenchText, rng: random.Random, table_share: float) -> None:
        self.text = text
        self.rng = rng
        self.table_share = table_share
        self.annex = 0
        self._blocks = self._chapters()

    def _chapters(self) -> Iterator[_Block]:
        chapter = 0
        while True:
            chapter += 1
            yield _Title(self.text.chapter_title(chapter))
            for article in range(1, self.rng.randint(3, 6) + 1):
                yield _Heading(self.text.article_heading(chapter, article))
                for _ in range(self.rng.randint(1, 3)):
                    yield _Paragraph(self.text.paragraph().split(" "))
                if self.rng.random() < self.table_share:
                    header, rows = self.text.table(4, self.rng.randint(2, 5))
                    yield _Table(header, rows)
                    yield _Paragraph(self.text.paragraph((1, 2)).split(" "))

    def _annexes(self) -> Iterator[_Block]:
        while True:
            self.annex += 1
            yield _Heading(self.text.annex_heading(self.annex), annex=True)
            yield _Paragraph(self.text.paragraph((1, 3)).split(" "))
            header, rows = self.text.table(4, self.rng.randint(3, 6))
            yield _Table(header, rows)
            yield _Paragraph(self.text.paragraph((2, 4)).split(" "))

    def start_annexes(self) -> None:
        if not self.annex:
            self._blocks = self._annexes()

    def next(self) -> _Block:
        return next(self._blocks)


# ---------------------------------------------------------------- composer


@dataclass
class _Frame:
    x: float
    width: float
    top: float
    bottom: float


class _PageState:
    def __init__(self, number: int, stream: Stream) -> None:
        self.number = number
        self.stream = stream
        self.draws: list[_Draw] = []
        self.rules: list[_Rule] = []
        self.units: list[Unit] = []
        self.footnotes: list[tuple[int, str]] = []  # (number, text) called on this page
        self.pending_notes: list[str] = []  # planned, not yet called
        self.block = 0
        self.order = 0
        self.layout = ""

    def draw(
        self,
        group: int,
        x: float,
        y: float,
        spans: tuple[_Span, ...],
        *,
        word_space: float = 0.0,
        frame: int = 0,
        cell: tuple[int, int] = (0, 0),
    ) -> None:
        self.order += 1
        self.draws.append(
            _Draw(group, x, y, spans, word_space, frame, self.block, cell, self.order)
        )


class Composer:
    """Lays one `DocumentSpec` out; `build()` gives the PDF bytes and the gold text."""

    def __init__(self, spec: DocumentSpec) -> None:
        self.spec = spec
        self.style = spec.style
        self.rng = random.Random(spec.seed)  # noqa: S311 - reproducible layout, not security
        self.text = FrenchText(spec.seed + 1)
        self.story = _Story(self.text, self.rng, spec.table_share)
        self.bold = _BOLD[self.style.font]
        self.width, self.height = A4
        self.product = PRODUCTS[spec.seed % len(PRODUCTS)]
        self.reference = f"MVB-{spec.seed:03d}-2026"
        self.footnote_number = 0
        self.pending: _Block | None = None

    # ------------------------------------------------------------ sizes

    @property
    def size(self) -> float:
        return self.style.size

    @property
    def leading(self) -> float:
        return self.style.size * self.style.leading

    def _width(self, text: str, font: str | None = None, size: float | None = None) -> float:
        return float(stringWidth(text, font or self.style.font, size or self.size))

    # ------------------------------------------------------------ document

    def build(self) -> tuple[bytes, GoldDocument]:
        pages: list[_PageState] = []
        for number in range(1, self.spec.pages + 1):
            if number > self.spec.pages - self.spec.annex_pages:
                self.story.start_annexes()
            stream = self.style.stream
            if stream == "mixed":
                stream = _STREAMS[self.rng.randrange(len(_STREAMS))]
            pages.append(self._page(number, stream))
        buffer = io.BytesIO()
        sheet = canvas.Canvas(buffer, pagesize=A4, invariant=1)
        sheet.setTitle(f"{INSURER} — {self.product}")
        for page in pages:
            self._render(sheet, page)
            sheet.showPage()
        sheet.save()
        gold = GoldDocument(
            self.spec.name, [GoldPage(p.number, p.layout, p.stream, p.units) for p in pages]
        )
        return buffer.getvalue(), gold

    def _page(self, number: int, stream: Stream) -> _PageState:
        page = _PageState(number, stream)
        style = self.style
        columns = self.rng.choice(self.spec.columns)
        left, right = style.margin, self.width - style.margin
        top = self.height - style.margin - 0.5 * self.size
        self._furniture(page, left, right)

        block = self.pending if self.pending is not None else self.story.next()
        self.pending = None
        title = isinstance(block, _Title)
        if isinstance(block, _Title):
            top = self._title(page, block.text, left, right, top)
            block = self.story.next()

        if self.spec.footnotes and self.rng.random() < 0.6:
            page.pending_notes = [self.text.footnote() for _ in range(self.rng.randint(1, 2))]
        note_height = self._footnote_height(page.pending_notes, right - left)
        bottom = style.margin + note_height

        frame_width = (right - left - (columns - 1) * style.gutter) / columns
        frames = [
            _Frame(left + i * (frame_width + style.gutter), frame_width, top, bottom)
            for i in range(columns)
        ]
        layout = f"{columns} column{'s' if columns > 1 else ''}{' + title' if title else ''}"
        page_units = self._fill(page, frames, block)
        page.units = page_units
        self._footnotes(page, left, right)
        page.units.extend(Unit("footnote", text, number=n) for n, text in page.footnotes)
        page.layout = layout
        return page

    # ------------------------------------------------------------ furniture and title

    def _furniture(self, page: _PageState, left: float, right: float) -> None:
        size = self.size * 0.8
        y_header = self.height - self.style.margin * 0.55
        header = f"{INSURER} — {self.product} — Conditions générales"
        page.draw(0, left, y_header, (_Span(header, self.style.font, size),))
        edition = "Édition 2026"
        page.draw(
            0,
            right - self._width(edition, size=size),
            y_header,
            (_Span(edition, self.style.font, size),),
        )
        y_footer = self.style.margin * 0.45
        if self.spec.seed % 2:
            footer = f"Réf. {self.reference} · page {page.number} sur {self.spec.pages}"
            x = (left + right - self._width(footer, size=size)) / 2
        else:
            footer = str(page.number)
            x = right - self._width(footer, size=size) if page.number % 2 else left
        page.draw(1, x, y_footer, (_Span(footer, self.style.font, size),))

    def _title(self, page: _PageState, text: str, left: float, right: float, top: float) -> float:
        size = self.size * 1.6
        lines = self._wrap(text.split(" "), right - left, self.bold, size)
        y = top - size
        for line in lines:
            page.draw(2, left, y, (_Span(line, self.bold, size),))
            y -= size * 1.25
        page.units.append(Unit("title", text))
        page.block += 1
        return y - self.size * 0.8

    def _wrap(self, words: list[str], width: float, font: str, size: float) -> list[str]:
        lines: list[str] = []
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and self._width(candidate, font, size) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        if current:
            lines.append(current)
        return lines

    # ------------------------------------------------------------ body

    def _fill(self, page: _PageState, frames: list[_Frame], block: _Block) -> list[Unit]:
        units = list(page.units)
        paragraph_words: dict[_Paragraph, list[str]] = {}  # its words on this page
        paragraph_units: dict[_Paragraph, int] = {}
        current: _Block | None = block
        for index, frame in enumerate(frames):
            y = frame.top
            last_frame = index == len(frames) - 1
            while current is not None:
                if isinstance(current, _Title):
                    if page.block > 0 or units:
                        self.pending = current
                        return self._finish_units(units, paragraph_units, paragraph_words)
                    current = self.story.next()
                    continue
                if isinstance(current, _Heading):
                    size = self.size * (1.3 if current.annex else 1.15)
                    lines = self._wrap(current.text.split(" "), frame.width, self.bold, size)
                    needed = len(lines) * size * 1.25 + size * 0.6 + 2 * self.leading
                    if y - needed < frame.bottom:
                        break
                    y -= size * 0.6
                    for line in lines:
                        y -= size * 1.2
                        page.draw(2, frame.x, y, (_Span(line, self.bold, size),), frame=index)
                    y -= size * 0.3
                    page.block += 1
                    units.append(Unit("heading", current.text))
                    current = self.story.next()
                    continue
                if isinstance(current, _Paragraph):
                    y, done = self._paragraph(
                        page, current, frame, index, y, last_frame, units, paragraph_units,
                        paragraph_words,
                    )  # fmt: skip
                    if not done:
                        break
                    page.block += 1
                    current = self.story.next()
                    continue
                y, done = self._table(page, current, frame, index, y, units)
                if not done:
                    break
                page.block += 1
                current = self.story.next()
        self.pending = current
        return self._finish_units(units, paragraph_units, paragraph_words)

    @staticmethod
    def _finish_units(
        units: list[Unit],
        paragraph_units: dict[_Paragraph, int],
        words: dict[_Paragraph, list[str]],
    ) -> list[Unit]:
        for key, index in paragraph_units.items():
            units[index] = replace(units[index], text=" ".join(words[key]))
        return units

    def _tokens(self, paragraph: _Paragraph, page: _PageState) -> None:
        paragraph.tokens = [_Token(word, i) for i, word in enumerate(paragraph.words)]
        if page.pending_notes:
            self.footnote_number += 1
            number = self.footnote_number
            page.footnotes.append((number, page.pending_notes.pop(0)))
            at = min(len(paragraph.tokens) - 1, self.rng.randint(1, 3))
            paragraph.tokens[at].call = number

    def _paragraph(
        self,
        page: _PageState,
        paragraph: _Paragraph,
        frame: _Frame,
        frame_index: int,
        y: float,
        last_frame: bool,
        units: list[Unit],
        paragraph_units: dict[_Paragraph, int],
        paragraph_words: dict[_Paragraph, list[str]],
    ) -> tuple[float, bool]:
        """Places lines of the paragraph in the frame; (new y, whether it is finished)."""
        leading = self.leading
        if y - 2 * leading < frame.bottom and not (
            paragraph.started and y - leading >= frame.bottom
        ):
            return y, False  # no orphan line: a paragraph starts with two lines at least
        if not paragraph.started:
            self._tokens(paragraph, page)
            paragraph.started = True
            y -= self.size * 0.5  # paragraph spacing
        key = paragraph
        if key not in paragraph_units:
            paragraph_units[key] = len(units)
            units.append(Unit("paragraph", ""))
            paragraph_words[key] = []
        placed = paragraph_words[key]
        while paragraph.tokens:
            if y - leading < frame.bottom:
                return y, False
            y -= leading
            last_line_of_page = last_frame and y - leading < frame.bottom
            hyphenate = self.style.hyphenate and not last_line_of_page
            line, rest = self._break(paragraph.tokens, frame.width, hyphenate)
            for token in line:
                if token.word not in paragraph.placed:
                    paragraph.placed.add(token.word)
                    placed.append(paragraph.words[token.word])
            final = not rest
            self._draw_line(page, line, frame, frame_index, y, justify=not final)
            paragraph.tokens = rest
        return y, True

    def _break(
        self, tokens: list[_Token], width: float, hyphenate: bool
    ) -> tuple[list[_Token], list[_Token]]:
        """The tokens of one line and the rest; a word that does not fit may be hyphenated."""
        space = self._width(" ")
        line: list[_Token] = []
        used = 0.0
        for index, token in enumerate(tokens):
            w = self._token_width(token)
            need = w if not line else used + space + w
            if need <= width:
                line.append(token)
                used = need
                continue
            if hyphenate and line and not token.call:
                split = self._hyphen_split(token.text, width - used - space)
                if split:
                    head = _Token(token.text[:split] + "-", token.word)
                    tail = _Token(token.text[split:], token.word)
                    return [*line, head], [tail, *tokens[index + 1 :]]
            if not line:
                return [token], tokens[1:]
            return line, tokens[index:]
        return line, []

    def _token_width(self, token: _Token) -> float:
        width = self._width(token.text)
        if token.call:
            width += self._width(str(token.call), size=self.size * 0.65)
        return width

    def _hyphen_split(self, word: str, room: float) -> int:
        """The last split point of `word` whose first part and hyphen fit in `room`, 0 if none."""
        if len(word) < 7 or not word.isalpha():
            return 0
        lower = word.lower()
        best = 0
        for i in range(3, len(word) - 2):
            a, b, c = lower[i - 1], lower[i], lower[i + 1]
            vowel_consonant_vowel = a in _VOWELS and b not in _VOWELS and c in _VOWELS
            double_consonant = (
                a not in _VOWELS
                and b not in _VOWELS
                and lower[i - 2] in _VOWELS
                and c in _VOWELS
                and a + b not in _UNSPLIT
                and b not in _LIQUIDS
            )
            if (vowel_consonant_vowel or double_consonant) and self._width(word[:i] + "-") <= room:
                best = i
        return best

    def _draw_line(
        self,
        page: _PageState,
        line: list[_Token],
        frame: _Frame,
        frame_index: int,
        y: float,
        justify: bool,
    ) -> None:
        mode = self.style.text_mode
        font, size = self.style.font, self.size
        natural = sum(self._token_width(t) for t in line) + self._width(" ") * (len(line) - 1)
        gaps = len(line) - 1
        extra = (frame.width - natural) / gaps if justify and gaps and mode != "ragged" else 0.0
        if mode == "words":
            x = frame.x
            for token in line:
                word = [_Span(token.text, font, size)]
                if token.call:
                    word.append(_Span(str(token.call), font, size * 0.65, size * 0.35))
                page.draw(2, x, y, tuple(word), frame=frame_index)
                x += self._token_width(token) + self._width(" ") + extra
            return
        spans: list[_Span] = []
        text = ""
        for i, token in enumerate(line):
            text += ("" if i == 0 else " ") + token.text
            if token.call:
                spans.append(_Span(text, font, size))
                spans.append(_Span(str(token.call), font, size * 0.65, size * 0.35))
                text = ""
        if text:
            spans.append(_Span(text, font, size))
        page.draw(2, frame.x, y, tuple(spans), word_space=extra, frame=frame_index)

    # ------------------------------------------------------------ tables

    def _table(
        self,
        page: _PageState,
        table: _Table,
        frame: _Frame,
        frame_index: int,
        y: float,
        units: list[Unit],
    ) -> tuple[float, bool]:
        columns = 2 if frame.width < 250 else len(table.header)
        header = table.header[:columns]
        rows = [row[:columns] for row in table.rows]
        size = self.size * 0.88
        cell_leading = size * 1.2
        pad_x = 4.0
        pad_y = 3.0 if self.style.table_style != "bare" else 4.5
        weights = [
            max(len(c) for c in [header[i], *(r[i] for r in rows)]) + 6 for i in range(columns)
        ]
        widths = [frame.width * w / sum(weights) for w in weights]

        def cell_lines(text: str, width: float, font: str) -> list[str]:
            return self._wrap(text.split(" "), width - 2 * pad_x, font, size)

        def row_height(cells: tuple[str, ...], font: str) -> float:
            return (
                max(len(cell_lines(c, w, font)) for c, w in zip(cells, widths, strict=True))
                * cell_leading
                + 2 * pad_y
            )

        all_rows = [(header, True), *((r, False) for r in rows)]
        start_y = y - self.size * 0.6
        if (
            start_y - row_height(header, self.bold) - row_height(rows[0], self.style.font)
            < frame.bottom
        ):
            return y, False
        y = start_y
        top = y
        placed = 0
        stripes = self.style.table_style == "stripes"
        for row_index, (cells, is_header) in enumerate(all_rows):
            font = self.bold if is_header else self.style.font
            height = row_height(cells, font)
            if y - height < frame.bottom:
                break
            if stripes and (is_header or row_index % 2 == 0):
                page.rules.append(_Rule(frame.x, y - height, frame.x + frame.width, y, fill=True))
            x = frame.x
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True)):
                baseline = y - pad_y - size * 0.85
                for line in cell_lines(cell, width, font):
                    page.draw(
                        2,
                        x + pad_x,
                        baseline,
                        (_Span(line, font, size),),
                        frame=frame_index,
                        cell=(row_index, column),
                    )
                    baseline -= cell_leading
                x += width
            units.append(Unit("row", " | ".join(cells), cells))
            y -= height
            if self.style.table_style == "grid" or (stripes and is_header):
                page.rules.append(_Rule(frame.x, y, frame.x + frame.width, y))
            if not is_header:
                placed += 1
        if self.style.table_style == "grid":
            page.rules.append(_Rule(frame.x, top, frame.x + frame.width, top))
            x = frame.x
            for width in [0.0, *widths]:
                x += width
                page.rules.append(_Rule(x, top, x, y))
        table.rows = table.rows[placed:]
        return y - self.size * 0.4, not table.rows

    # ------------------------------------------------------------ footnotes

    def _footnote_height(self, notes: list[str], width: float) -> float:
        if not notes:
            return 0.0
        size = self.size * 0.8
        lines = sum(
            len(self._wrap(f"99 {n}".split(" "), width, self.style.font, size)) for n in notes
        )
        return lines * size * 1.25 + self.size * 1.5

    def _footnotes(self, page: _PageState, left: float, right: float) -> None:
        if not page.footnotes:
            return
        size = self.size * 0.8
        font = self.style.font
        height = self._footnote_height([text for _, text in page.footnotes], right - left)
        y = self.style.margin + height - self.size * 0.6
        page.rules.append(_Rule(left, y, left + 70, y))
        y -= self.size * 0.4
        for number, text in page.footnotes:
            marker = str(number)
            if self.style.footnote_marker == "superscript":
                marker_span = _Span(marker, font, size * 0.7, size * 0.35)
                indent = self._width(marker, size=size * 0.7) + 2
            else:
                marker_span = _Span(f"{marker} ", font, size)
                indent = self._width(f"{marker} ", size=size)
            lines = self._wrap(text.split(" "), right - left - indent, font, size)
            for i, line in enumerate(lines):
                y -= size * 1.25
                if i == 0:
                    page.draw(3, left, y, (marker_span,))
                page.draw(3, left + indent, y, (_Span(line, font, size),))

    # ------------------------------------------------------------ rendering

    def _ordered(self, page: _PageState) -> list[_Draw]:
        header = [d for d in page.draws if d.group == 0]
        footer = [d for d in page.draws if d.group == 1]
        body = [d for d in page.draws if d.group == 2]
        notes = [d for d in page.draws if d.group == 3]
        if page.stream == "flow":
            return header + body + notes + footer
        if page.stream == "master":
            return header + footer + body + notes
        if page.stream == "rows":
            return header + footer + sorted(body + notes, key=lambda d: (-round(d.y, 1), d.x))
        scrambled = sorted(body, key=lambda d: (-d.frame, d.block, d.cell[1], d.cell[0], d.order))
        return notes + scrambled + header + footer

    def _render(self, sheet: canvas.Canvas, page: _PageState) -> None:
        for rule in page.rules:
            if rule.fill:
                sheet.setFillColor(Color(0.9, 0.93, 0.95))
                sheet.rect(rule.x0, rule.y0, rule.x1 - rule.x0, rule.y1 - rule.y0, stroke=0, fill=1)
            else:
                sheet.setStrokeColor(Color(0.4, 0.45, 0.5))
                sheet.setLineWidth(0.5)
                sheet.line(rule.x0, rule.y0, rule.x1, rule.y1)
        sheet.setFillColor(Color(0, 0, 0))
        for draw in self._ordered(page):
            text = sheet.beginText(draw.x, draw.y)
            text.setWordSpace(draw.word_space)
            for span in draw.spans:
                text.setFont(span.font, span.size)
                text.setRise(span.rise)
                text.textOut(span.text)
            sheet.drawText(text)


def build(spec: DocumentSpec, directory: Path) -> tuple[Path, GoldDocument]:
    """Writes `<directory>/<name>.pdf`; returns its path and its gold text."""
    pdf, gold = Composer(spec).build()
    path = directory / f"{spec.name}.pdf"
    path.write_bytes(pdf)
    return path, gold
