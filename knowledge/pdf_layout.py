"""Layout analysis of PDF pages: text in reading order, table rows kept whole, footnotes apart.

pypdf's plain extraction gives a page's text in the order its content stream draws it, which is
the reading order only when the producer drew it so: a driver that draws line by line across two
columns interleaves them, a table comes out cell by cell, footnotes land wherever they were drawn.
This module rebuilds the page from *where* each piece of text is drawn (`knowledge.pdf_content`):

1. Rows: fragments on one baseline (a superscript joins the row it rises from).
2. Page furniture: at most two rows at the top and at the bottom edge, set apart by a wide gap
   (running header and footer), stay first and last, where the cleaner looks for them.
3. Footnotes: the rows at the foot of the body in a smaller font that start with a note number,
   called in the body by a superscript (or drawn raised themselves); each becomes its own
   paragraph "(n) text" after the body, and its calls read "word(n)".
4. Regions: the rows sharing an empty vertical band that the most lines come up to (a page's
   gutter, or the gaps between the columns of a table) are taken first and split into parts at
   their bands; the rows above and below are regions of their own. Parts that are all wide are
   columns, read one after the other, each analysed again (a table may sit in a column). A part
   narrower than 8 ems, rules crossing the bands between the rows, or rows that start together
   after wider gaps make a table, given row by row, the cells of a row joined by " | " on one
   line. Word spaces that happen to line up in justified text drawn word by word are no band.
5. Lines: each row of a column is a line; lines drawn whole in a heading font are marked "# "
   or "## " (bold at the body size or more, or clearly larger than the body text), a heading
   that wraps is one line.

Distances are measured in font sizes (ems), so the thresholds hold at any size and none is tied
to one producer; every block keeps its page, for citations.
"""

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from knowledge.interfaces import CELL_SEPARATOR
from knowledge.pdf_content import Fragment, PageContent, Rule

BlockKind = Literal["furniture", "heading", "line", "row", "footnote", "break"]

# ---------------------------------------------------------------- rows


@dataclass
class _Row:
    fragments: list[Fragment]
    y: float = 0.0  # baseline of the main text
    size: float = 0.0  # main font size

    def settle(self) -> None:
        self.fragments.sort(key=lambda f: f.x0)
        sizes: Counter[float] = Counter()
        for fragment in self.fragments:
            sizes[round(fragment.size, 1)] += len(fragment.text)
        self.size = max(sizes.most_common(1)[0][0], 0.1)
        main = [f for f in self.fragments if abs(f.size - self.size) <= 0.15 * self.size]
        self.y = statistics.median(f.y for f in (main or self.fragments))

    @property
    def x0(self) -> float:
        return self.fragments[0].x0

    @property
    def x1(self) -> float:
        return max(f.x1 for f in self.fragments)

    def within(self, x0: float, x1: float) -> "_Row | None":
        kept = [f for f in self.fragments if _inside_part(f, x0, x1)]
        if not kept:
            return None
        row = _Row(kept)
        row.settle()
        return row


def _inside_part(fragment: Fragment, left: float, right: float) -> bool:
    """Whether the fragment lies between left and right (half a point of rounding allowed)."""
    return fragment.x0 >= left - 0.5 and fragment.x1 <= right + 0.5


def _rows(fragments: Sequence[Fragment]) -> list[_Row]:
    """Fragments grouped by baseline, top to bottom; a superscript joins the row below it.

    A fragment joins the current row when its middle is within 0.45 em of the middle of the
    row's first (highest) fragment: measured from that anchor, not from the last fragment
    added, so that columns whose baselines are a little offset never chain into one row."""
    ordered = sorted(fragments, key=lambda f: -(f.y + 0.3 * f.size))
    rows: list[_Row] = []
    anchor = size = 0.0
    for fragment in ordered:
        middle = fragment.y + 0.3 * fragment.size
        if rows and anchor - middle <= 0.45 * max(size, fragment.size):
            rows[-1].fragments.append(fragment)
            size = max(size, fragment.size)
            continue
        rows.append(_Row([fragment]))
        anchor, size = middle, fragment.size
    for row in rows:
        row.settle()
    _move_superscripts(rows)
    for row in rows:
        row.fragments = _without_duplicates(row.fragments)
    rows.sort(key=lambda r: -r.y)
    return rows


def _move_superscripts(rows: list[_Row]) -> None:
    """A small fragment (a note call, an exponent) grouped with the row of another column whose
    baseline is close goes to the row whose text it touches: the word it follows."""
    for index, row in enumerate(rows):
        for fragment in list(row.fragments):
            if fragment.size >= 0.85 * row.size or len(row.fragments) == 1:
                continue
            if any(-0.5 <= fragment.x0 - f.x1 <= 0.3 * row.size for f in row.fragments):
                continue  # it follows a word of its own row
            for other in rows[max(0, index - 1) : index + 2]:
                if other is row or abs(fragment.y - other.y) > 0.8 * other.size:
                    continue
                if any(-0.5 <= fragment.x0 - f.x1 <= 0.3 * other.size for f in other.fragments):
                    row.fragments.remove(fragment)
                    other.fragments.append(fragment)
                    row.settle()
                    other.settle()
                    break


def _without_duplicates(fragments: list[Fragment]) -> list[Fragment]:
    """Drops text drawn twice at almost the same place (simulated bold, shadows)."""
    kept: list[Fragment] = []
    for fragment in fragments:
        if kept:
            previous = kept[-1]
            overlap = min(previous.x1, fragment.x1) - max(previous.x0, fragment.x0)
            width = max(fragment.x1 - fragment.x0, 0.1)
            if previous.text == fragment.text and overlap > 0.7 * width:
                continue
        kept.append(fragment)
    return kept


# ---------------------------------------------------------------- page analysis


@dataclass(frozen=True)
class Block:
    """A line of a page's text in reading order, with what it is and its page."""

    kind: BlockKind
    text: str
    page: int
    level: int = 0  # heading level, 0 for other blocks


_MARKER = re.compile(r"^(?:[•▪◦●■□◆▸►✓✔*–—-]|\(?\d{1,2}[.)]|\(?[a-z][.)])$")
_NOTE_START = re.compile(r"^(?:\((\d{1,3})\)|(\d{1,3})(?:[.)]|\s)|([*†‡]))\s*")
_DIGITS = re.compile(r"^\d{1,3}$")
_GAP = 0.7  # narrowest empty band between columns or table cells, in ems of the region's text


class PageAnalyser:
    """Turns one page's fragments into blocks in reading order (the module docstring's steps);
    `body_size` is the document's body text size (`body_size`), the em of its thresholds."""

    def __init__(self, body_size: float) -> None:
        self.body = body_size

    def blocks(self, content: PageContent, page: int) -> list[Block]:
        rows = _rows(content.fragments)
        if not rows:
            return []
        pitch = self._pitch(rows)
        head, rows, foot = self._furniture(rows, content.height, pitch, self._called(rows))
        rows, notes = self._footnotes(rows)
        calls = {number for number, _ in notes}
        blocks = [self._line(row, calls, page, "furniture") for row in head]
        blocks += self._region(rows, content.rules, calls, page, 0)
        for number, text in notes:
            blocks.append(Block("footnote", f"({number}) {text}", page))
        if foot:
            blocks.append(Block("break", "", page))
        blocks += [self._line(row, calls, page, "furniture") for row in foot]
        return _join_headings([block for block in blocks if block.text or block.kind == "break"])

    # ------------------------------------------------------------ furniture

    def _pitch(self, rows: list[_Row]) -> float:
        """The usual distance between baselines of the body text."""
        pitches = [
            upper.y - lower.y
            for upper, lower in pairwise(rows)
            if 0 < upper.y - lower.y < 3 * self.body
        ]
        return statistics.median(pitches) if pitches else 1.2 * self.body

    def _furniture(
        self, rows: list[_Row], height: float, pitch: float, called: set[int]
    ) -> tuple[list[_Row], list[_Row], list[_Row]]:
        """Header rows, body rows, footer rows: at most two rows in the outer 15 % of the page,
        set apart from the body by at least 1.8 line pitches."""
        head = 0
        for i in range(min(2, len(rows) - 1)):
            if rows[i].y < height * 0.85:
                break
            if rows[i].y - rows[i + 1].y >= 1.8 * pitch:
                head = i + 1
                break
        foot = len(rows)
        for i in range(len(rows) - 1, max(len(rows) - 3, head), -1):
            if rows[i].y > height * 0.15 or self._is_note(rows[i], called):
                break  # a footnote is not a footer, even alone at the foot of a page
            if rows[i - 1].y - rows[i].y >= 1.8 * pitch:
                foot = i
                break
        return rows[:head], rows[head:foot], rows[foot:]

    # ------------------------------------------------------------ footnotes

    def _footnotes(self, rows: list[_Row]) -> tuple[list[_Row], list[tuple[int, str]]]:
        """Splits the footnotes off the foot of the body: (body rows, [(number, text)])."""
        start = len(rows)
        while start > 1 and rows[start - 1].size <= 0.9 * self.body:
            start -= 1
        if start == len(rows) or start == 0:
            return rows, []
        called = self._called(rows[:start])
        first = None
        for i in range(start, len(rows)):
            number, raised = self._note_number(rows[i])
            if number is not None and (raised or number in called):
                first = i
                break
        if first is None:
            return rows, []
        notes: list[tuple[int, list[str]]] = []
        for row in rows[first:]:
            number, raised = self._note_number(row)
            starts = number is not None and (
                raised or number in called or (bool(notes) and number == notes[-1][0] + 1)
            )
            if number is not None and starts:
                if raised:
                    text = self._text(_Row(row.fragments[1:], row.y, row.size), set())
                else:
                    text = _NOTE_START.sub("", self._text(row, set()), count=1)
                notes.append((number, [text]))
            elif notes:
                notes[-1][1].append(self._text(row, set()))
        return rows[:first], [(n, _join_lines(parts)) for n, parts in notes]

    def _is_note(self, row: _Row, called: set[int]) -> bool:
        """Whether the row starts a footnote: a number drawn raised, or called in the body,
        followed by text (a number alone is a page number)."""
        number, raised = self._note_number(row)
        if number is None or not (raised or number in called):
            return False
        return len(self._text(row, set())) > len(str(number)) + 2

    def _note_number(self, row: _Row) -> tuple[int | None, bool]:
        """The note number a row starts with, and whether it is drawn raised."""
        first = row.fragments[0]
        if len(row.fragments) > 1 and _DIGITS.match(first.text):
            second = row.fragments[1]
            if first.y - second.y > 0.15 * second.size and first.size < 0.9 * second.size:
                return int(first.text), True
        match = _NOTE_START.match(first.text + " ")
        if match and (match.group(1) or match.group(2)):
            return int(match.group(1) or match.group(2)), False
        return None, False

    @staticmethod
    def _called(rows: list[_Row]) -> set[int]:
        """Numbers drawn as superscripts in the body: the footnote calls."""
        calls: set[int] = set()
        for row in rows:
            for index, fragment in enumerate(row.fragments):
                if _DIGITS.match(fragment.text) and _raised(row, index):
                    calls.add(int(fragment.text))
        return calls

    # ------------------------------------------------------------ regions

    def _region(
        self, rows: list[_Row], rules: list[Rule], calls: set[int], page: int, depth: int
    ) -> list[Block]:
        """The blocks of a region in reading order. The rows that share an empty band over the
        most lines (a page's gutter before a table's inner gaps) are taken first, as columns or
        a table; the rows above and below them are regions of their own."""
        if not rows:
            return []
        x0 = min(row.x0 for row in rows)
        x1 = max(row.x1 for row in rows)
        em = statistics.median(row.size for row in rows)
        gap = _GAP * em
        bands = [_gaps(row, x0, x1, gap) for row in rows]
        run = _longest_run(rows, bands, gap)
        if run is None:
            return [self._line(row, calls, page) for row in rows]
        first, end = run
        shared = bands[first]
        for row_bands in bands[first + 1 : end]:
            shared = _intersect(shared, row_bands, gap)
        shared = [band for band in shared if not _river(band, rows[first:end])]
        # bands most of the run's lines come up to (the gutters of a page of three columns);
        # a band only a table beside the text reaches is that table's, for the part it is in
        reach = {band: _touching(band, rows[first:end]) for band in shared}
        shared = [band for band in shared if reach[band] * 2 >= max(reach.values(), default=0)]
        inner = _interior(shared, rows[first:end])
        while (
            first
            and inner
            and all(
                any(_overlap(band, gap_above) >= gap for gap_above in bands[first - 1])
                for band in inner
            )
        ):  # a run found from its longest band may start higher: a header's first line
            first -= 1
            shared = _intersect(shared, bands[first], gap)
        blocks = self._region(rows[:first], rules, calls, page, depth)
        for section_rows, parts, kind in self._classify(rows[first:end], shared, rules, em):
            if kind == "columns" and depth < 4:
                for left, right in parts:
                    part_rows = [r for r in (row.within(left, right) for row in section_rows) if r]
                    blocks += self._region(part_rows, rules, calls, page, depth + 1)
            elif kind == "table":
                blocks += self._table(section_rows, parts, rules, calls, page)
            else:
                blocks += [self._line(row, calls, page) for row in section_rows]
        blocks += self._region(rows[end:], rules, calls, page, depth)
        return blocks

    def _classify(
        self,
        rows: list[_Row],
        bands: list[tuple[float, float]],
        rules: list[Rule],
        em: float,
    ) -> list[tuple[list[_Row], list[tuple[float, float]], str]]:
        """A run of rows as sections: (rows, parts, "plain" | "columns" | "table"). Rules that
        cross the bands between two rows or more mark a table: the rows they enclose are one
        section, the rows above and below are classified on their own."""
        parts = self._parts(rows, _interior(bands, rows))
        if len(parts) < 2:
            return [(rows, [], "plain")]
        gutters = _gutters(parts)
        filled = min(sum(1 for row in rows if row.within(*part)) for part in parts)
        reached = min(_touching(gutter, rows) for gutter in gutters)
        if filled < 2 and reached < 3:
            # one line beside a gap few lines come up to is word spaces lined up, not a
            # structure; a column that holds one line beside a long one is a column
            return [(rows, [], "plain")]
        crossing = sorted(
            {
                round(rule.y, 1)
                for rule in rules
                if rows[-1].y - 2 * rows[-1].size < rule.y < rows[0].y + 1.5 * rows[0].size
                and any(rule.x0 <= a and rule.x1 >= b for a, b in gutters)
            },
            reverse=True,
        )
        if len(crossing) >= 2:
            top, bottom = crossing[0], crossing[-1]
            first = next((i for i, row in enumerate(rows) if row.y < top), len(rows))
            end = next((i for i, row in enumerate(rows) if row.y < bottom), len(rows))
            if end < len(rows) and end > first:
                # the last row of a table without a bottom rule sits just below the last rule
                inside = [upper.y - lower.y for upper, lower in pairwise(rows[first:end])]
                line = min(inside) if inside else 1.2 * em
                if bottom - rows[end].y <= 1.5 * line:
                    end += 1
                    while end < len(rows) and rows[end - 1].y - rows[end].y <= 1.35 * line:
                        end += 1
            if end - first >= 2:
                sections = self._classify(rows[:first], bands, rules, em) if first else []
                sections.append((rows[first:end], parts, "table"))
                if end < len(rows):
                    sections += self._classify(rows[end:], bands, rules, em)
                return sections
        return [(rows, parts, self._kind(rows, parts, em))]

    @staticmethod
    def _parts(rows: list[_Row], gutters: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """The x ranges between gutters, list markers kept with the text they mark."""
        if not gutters:
            return []
        edges = [-math.inf, *(x for band in sorted(gutters) for x in band), math.inf]
        parts = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
        merged: list[tuple[float, float, list[str]]] = []
        for left, right in parts:
            texts = [f.text for row in rows for f in row.fragments if _inside_part(f, left, right)]
            if merged and _all_markers(merged[-1][2]):
                merged[-1] = (merged[-1][0], right, texts)
            else:
                merged.append((left, right, texts))
        return [(left, right) for left, right, _ in merged] if len(merged) > 1 else []

    def _kind(self, rows: list[_Row], parts: list[tuple[float, float]], em: float) -> str:
        """Columns when every part is wide and the rows do not start together as table rows
        do; a table otherwise."""
        widths = []
        for left, right in parts:
            inside = [f for row in rows for f in row.fragments if _inside_part(f, left, right)]
            if not inside:
                return "plain"
            widths.append(max(f.x1 for f in inside) - min(f.x0 for f in inside))
        if min(widths) < 8 * em or self._rows_start_together(rows, parts):
            return "table"
        return "columns" if len(rows) >= 3 else "plain"  # two lines: a river of word spaces

    @staticmethod
    def _rows_start_together(rows: list[_Row], parts: list[tuple[float, float]]) -> bool:
        """Whether, in every part, lines fall into short groups split by wider gaps, and the
        groups of the parts start on the same baselines: table rows, not running text."""
        starts: list[list[float]] = []
        for left, right in parts:
            ys = [r.y for r in (row.within(left, right) for row in rows) if r is not None]
            pitches = [upper - lower for upper, lower in pairwise(ys)]
            if len(pitches) < 2:
                return False
            line = min(pitches)
            breaks = [i for i, pitch in enumerate(pitches) if pitch > 1.35 * line]
            sizes = [b - a for a, b in zip([-1, *breaks], [*breaks, len(pitches)], strict=False)]
            if len(breaks) < 2 or statistics.median(sizes) > 3:
                return False
            starts.append([ys[i + 1] for i in breaks])
        tolerance = 0.3 * statistics.median(row.size for row in rows)
        shared = [
            y
            for y in starts[0]
            if any(any(abs(y - other) <= tolerance for other in ys) for ys in starts[1:])
        ]
        return len(shared) >= 2 and len(shared) >= 0.8 * len(starts[0])

    # ------------------------------------------------------------ tables

    def _table(
        self,
        rows: list[_Row],
        parts: list[tuple[float, float]],
        rules: list[Rule],
        calls: set[int],
        page: int,
    ) -> list[Block]:
        """A row per line, its cells joined by " | ". A line with text in the first column only
        (a paragraph's last line above the table, a heading between two tables, a caption)
        is a line of its own, and the table rows on each side of it are tables of their own."""
        groups = self._groups(rows, parts, rules)
        blocks: list[Block] = []
        pending: list[list[_Row]] = []
        for group in groups:
            if len(groups) > 1 and _first_part_only(group, parts):
                blocks += self._table_rows(pending, parts, rules, calls, page)
                blocks += [self._line(row, calls, page) for row in group]
                pending = []
            else:
                pending.append(group)
        return blocks + self._table_rows(pending, parts, rules, calls, page)

    def _table_rows(
        self,
        groups: list[list[_Row]],
        parts: list[tuple[float, float]],
        rules: list[Rule],
        calls: set[int],
        page: int,
    ) -> list[Block]:
        if not groups:
            return []
        rows = [row for group in groups for row in group]
        if len(rows) >= 2:
            # the table's own columns: the run it was found in may have been shared with a line
            # whose text hides some of the gaps between the cells
            x0, x1 = min(row.x0 for row in rows), max(row.x1 for row in rows)
            gap = _GAP * statistics.median(row.size for row in rows)
            shared = _gaps(rows[0], x0, x1, gap)
            for row in rows[1:]:
                shared = _intersect(shared, _gaps(row, x0, x1, gap), gap)
            narrower = self._parts(rows, _interior(shared, rows))
            if len(narrower) >= len(parts):
                parts = narrower
                groups = self._groups(rows, parts, rules)
        blocks = [Block("break", "", page)]
        for group in groups:
            cells = []
            for part_left, part_right in parts:
                lines = [
                    self._text(r, calls)
                    for r in (row.within(part_left, part_right) for row in group)
                    if r is not None
                ]
                text = _join_lines(lines)
                if text:
                    cells.append(text)
            if cells:
                blocks.append(Block("row", CELL_SEPARATOR.join(cells), page))
        blocks.append(Block("break", "", page))
        return blocks

    @staticmethod
    def _groups(
        rows: list[_Row], parts: list[tuple[float, float]], rules: list[Rule]
    ) -> list[list[_Row]]:
        """The rows of a table grouped into table rows: between the rules where rules separate
        rows, else at the gaps wider than the line spacing within a cell (every line is a row
        when all gaps are the same)."""
        left, right = parts[0][0], parts[-1][1]
        x0 = max(left, min(row.x0 for row in rows))
        x1 = min(right, max(row.x1 for row in rows))
        span = x1 - x0
        table_rules = [r for r in rules if r.x1 - r.x0 >= 0.5 * span and r.x0 <= x1 and r.x1 >= x0]
        pitches = [upper.y - lower.y for upper, lower in pairwise(rows)]
        line = min(pitches) if pitches else 0.0
        uniform = bool(pitches) and max(pitches) <= 1.35 * line
        ruled_rows = _ruled(table_rules, rows)
        groups: list[list[_Row]] = [[rows[0]]]
        for upper, lower in pairwise(rows):
            ruled = any(lower.y + 0.6 * lower.size < r.y < upper.y for r in table_rules)
            wide = uniform or upper.y - lower.y > 1.35 * line
            if ruled or (wide and not ruled_rows):
                groups.append([lower])
            else:
                groups[-1].append(lower)
        return groups

    # ------------------------------------------------------------ lines

    def _line(self, row: _Row, calls: set[int], page: int, kind: BlockKind = "line") -> Block:
        text = self._text(row, calls)
        main = [f for i, f in enumerate(row.fragments) if not _raised(row, i)]
        if len(text) <= 160 and main and all(self._heading_font(f) for f in main):
            level = 1 if max(f.size for f in main) >= self.body * 1.4 else 2
            return Block("heading", text, page, level)
        return Block(kind, text, page)

    def _heading_font(self, fragment: Fragment) -> bool:
        return (fragment.bold and fragment.size >= self.body * 0.95) or (
            fragment.size >= self.body * 1.2
        )

    @staticmethod
    def _text(row: _Row, calls: set[int]) -> str:
        """The row's text: fragments joined by a space where the gap is a word space."""
        out = ""
        previous: Fragment | None = None
        for index, fragment in enumerate(row.fragments):
            piece = fragment.text
            if previous is not None:
                if _raised(row, index) and _DIGITS.match(piece):
                    if int(piece) in calls:
                        piece = f"({piece})"
                    out += piece
                    previous = fragment
                    continue
                gap = fragment.x0 - previous.x1
                if gap > 0.15 * min(fragment.size, previous.size) or gap < -0.5 * fragment.size:
                    out += " "
            out += piece
            previous = fragment
        return re.sub(r"\s+", " ", out).strip()


def _ruled(rules: list[Rule], rows: list[_Row]) -> bool:
    """Whether rules separate some of the rows (then they alone separate rows)."""
    return any(
        any(lower.y + 0.6 * lower.size < r.y < upper.y for r in rules)
        for upper, lower in pairwise(rows)
    )


def _first_part_only(group: list[_Row], parts: list[tuple[float, float]]) -> bool:
    left, right = parts[0]
    return all(_inside_part(f, left, right) for row in group for f in row.fragments)


def _join_headings(blocks: list[Block]) -> list[Block]:
    """A heading that wraps onto a second line is one heading: the second line goes on in lower
    case, or the first ends with a dash or a comma."""
    joined: list[Block] = []
    for block in blocks:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and block.kind == previous.kind == "heading"
            and block.level == previous.level
            and (block.text[:1].islower() or previous.text.endswith(("—", "–", "-", ",")))
        ):
            joined[-1] = Block("heading", _join_lines([previous.text, block.text]), block.page,
                               block.level)  # fmt: skip
        else:
            joined.append(block)
    return joined


def _raised(row: _Row, index: int) -> bool:
    """Whether the row's fragment at `index` is a superscript: smaller, and raised above the
    word it follows (or precedes, at the start of the row). A row can hold two columns whose
    baselines differ a little, so the row's own baseline is no reference."""
    fragment = row.fragments[index]
    neighbours = [row.fragments[i] for i in (index - 1, index + 1) if 0 <= i < len(row.fragments)]
    reference = next((f for f in neighbours if f.size > fragment.size), None)
    y, size = (reference.y, reference.size) if reference else (row.y, row.size)
    return fragment.y - y > 0.2 * size and fragment.size < 0.85 * size


def _join_lines(lines: Sequence[str]) -> str:
    """Lines of one cell or footnote on one line; a word cut by a hyphen is joined again."""
    out = ""
    for line in lines:
        if not line:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def _all_markers(texts: list[str]) -> bool:
    return bool(texts) and all(_MARKER.match(text) for text in texts)


def _gaps(row: _Row, x0: float, x1: float, width: float) -> list[tuple[float, float]]:
    """Empty x ranges of a row between x0 and x1, at least `width` wide."""
    gaps: list[tuple[float, float]] = []
    cursor = x0
    for fragment in row.fragments:  # sorted by x0
        if fragment.x0 - cursor >= width:
            gaps.append((cursor, fragment.x0))
        cursor = max(cursor, fragment.x1)
    if x1 - cursor >= width:
        gaps.append((cursor, x1))
    return gaps


def _longest_run(
    rows: list[_Row], bands: list[list[tuple[float, float]]], gap: float
) -> tuple[int, int] | None:
    """The run of rows sharing an empty band, with text on both sides, that the most rows come up
    to (two at least): (first row, end), None when there is none. Ties go to the longer run,
    then to the one higher on the page. Bands that are only word spaces lined up do not count."""
    best: tuple[int, int, int] | None = None  # (rows that come up to the band, first, end)
    for i, row_bands in enumerate(bands):
        for band in row_bands:
            if i and any(p[0] <= band[0] and p[1] >= band[1] for p in bands[i - 1]):
                continue  # the run from the row above is one row longer
            shared = [band]
            j = i + 1
            while j < len(rows):
                narrowed = _intersect(shared, bands[j], gap)
                if not narrowed:
                    break
                shared = narrowed
                j += 1
            length = j - i
            if length < 2 or (best is not None and length < best[0]):
                continue  # it cannot beat the best run: no more rows than that come up to it
            left, right = _extent(rows[i:j])
            for b in shared:
                if not _inside([b], left, right):
                    continue
                touching = _touching(b, rows[i:j])
                if touching < 2 or (
                    best is not None and (touching, length) <= (best[0], best[2] - best[1])
                ):
                    continue
                if not _river(b, rows[i:j]):
                    best = (touching, i, j)
    return (best[1], best[2]) if best is not None else None


def _touching(band: tuple[float, float], rows: Sequence[_Row]) -> int:
    """The number of rows whose text comes up to the band, within an em on either side: all
    the lines of two columns do, as do the cells of a table column; scattered word spaces or a
    margin that happens to be empty do not."""
    return sum(
        1
        for row in rows
        if any(
            band[0] - row.size <= f.x1 <= band[0] + 0.5
            or band[1] - 0.5 <= f.x0 <= band[1] + row.size
            for f in row.fragments
        )
    )


def _river(band: tuple[float, float], rows: Sequence[_Row]) -> bool:
    """Whether the band is only a line-up of word spaces (justified text drawn word by word).

    In a row whose text runs across the band, the gap across it is compared with the row's
    other word spaces (gaps under 1.5 em; wider ones separate cells or columns). The band is a
    river when such rows are a third of the run or more and most of them space it like a word."""
    spaces = telling = 0
    for row in rows:
        pairs = list(pairwise(row.fragments))
        across = [b.x0 - a.x1 for a, b in pairs if a.x1 <= band[0] + 0.5 and b.x0 >= band[1] - 0.5]
        others = [
            b.x0 - a.x1
            for a, b in pairs
            if 0.1 * row.size < b.x0 - a.x1 < 1.5 * row.size
            and not (a.x1 <= band[0] + 0.5 and b.x0 >= band[1] - 0.5)
        ]
        if not across or len(others) < 2:
            continue
        telling += 1
        usual = statistics.median(others)
        if abs(across[0] - usual) <= 0.25 * usual + 0.5:
            spaces += 1
    return telling * 3 >= len(rows) and spaces * 2 > telling


def _extent(rows: Sequence[_Row]) -> tuple[float, float]:
    return min(row.x0 for row in rows), max(row.x1 for row in rows)


def _inside(bands: list[tuple[float, float]], left: float, right: float) -> bool:
    """Whether one of the bands has text on both sides (text spans from left to right)."""
    return any(left < a and right > b for a, b in bands)


def _gutters(parts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(parts[i][1], parts[i + 1][0]) for i in range(len(parts) - 1)]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _intersect(
    a: list[tuple[float, float]], b: list[tuple[float, float]], width: float
) -> list[tuple[float, float]]:
    out = []
    for left in a:
        for right in b:
            lo, hi = max(left[0], right[0]), min(left[1], right[1])
            if hi - lo >= width:
                out.append((lo, hi))
    return out


def _interior(bands: list[tuple[float, float]], rows: Sequence[_Row]) -> list[tuple[float, float]]:
    """The bands with text on both sides somewhere in the rows."""
    if not bands:
        return []
    lefts = min(f.x0 for row in rows for f in row.fragments)
    rights = max(f.x1 for row in rows for f in row.fragments)
    return [(a, b) for a, b in bands if lefts < a and rights > b]


# ---------------------------------------------------------------- documents


def body_size(contents: Sequence[PageContent]) -> float:
    """The font size most characters of the document are drawn in."""
    sizes: Counter[float] = Counter()
    for content in contents:
        for fragment in content.fragments:
            sizes[round(fragment.size, 1)] += len(fragment.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def page_text(blocks: Sequence[Block]) -> str:
    """The text of a page's blocks: headings marked "#"/"##", a footnote or a table set apart by
    blank lines so that the cleaner never joins them to the body."""
    lines: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            lines.append(f"{'#' * block.level} {block.text}")
        elif block.kind == "footnote":
            lines += ["", block.text]
        elif block.kind == "break":
            lines.append("")
        else:
            lines.append(block.text)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
