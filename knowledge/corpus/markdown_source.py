"""Read a corpus source: YAML front matter, then a small Markdown subset, into typed blocks.

The subset: `#` chapter, `##` article, `###` sub-article, paragraphs, `- ` bullet lists (an
indented line continues the item), pipe tables with a header row, `**bold**` and `*italic*`,
and three HTML comments: `<!-- columns: 2 -->`, `<!-- columns: 1 -->` and `<!-- pagebreak -->`.
Anything else that could be a typo (a fourth heading level, another comment, an unbalanced
`*`, a character the PDF fonts cannot draw) is refused with the file and line.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

import yaml

from knowledge.corpus.errors import SourceError

DocumentKind = Literal[
    "conditions_generales", "document_information", "document_informations_cles", "notice", "faq"
]
KINDS: tuple[str, ...] = get_args(DocumentKind)
FRONT_MATTER_KEYS = ("title", "product_code", "kind", "reference", "version", "effective_date")

# Characters outside the fonts' encoding (Windows-1252) that have an exact drawable equivalent.
_REPLACEMENTS = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0", "\u2011": "-"})
_HEADING = re.compile(r"^(#+)\s+(\S.*)$")
_COMMENT = re.compile(r"^<!--\s*(.*?)\s*-->$")
_COLUMNS = re.compile(r"^columns:\s*([12])$")
_SEPARATOR_CELL = re.compile(r"^:?-{3,}:?$")


@dataclass(frozen=True)
class FrontMatter:
    title: str
    product_code: str
    kind: DocumentKind
    reference: str
    version: str
    effective_date: date


@dataclass(frozen=True)
class Heading:
    level: int  # 1 chapter, 2 article, 3 sub-article
    text: str
    line: int


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    line: int


@dataclass(frozen=True)
class Columns:
    count: int
    line: int


@dataclass(frozen=True)
class PageBreak:
    line: int


Block = Heading | Paragraph | BulletList | Table | Columns | PageBreak


@dataclass(frozen=True)
class Source:
    """One parsed document; `stem` names the PDF, `category` is the folder it was found in."""

    name: str
    stem: str
    category: str
    meta: FrontMatter
    blocks: tuple[Block, ...]

    @property
    def pdf_name(self) -> str:
        return f"{self.stem}.pdf"


def read_source(path: Path) -> Source:
    """Parse the source file at `path`; raises SourceError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(str(path), 1, f"cannot read the file: {error}") from error
    return parse_source(text, name=str(path), stem=path.stem, category=path.parent.name)


def parse_source(text: str, *, name: str, stem: str, category: str = "") -> Source:
    """Parse source text; `name` is what errors show for the file."""
    lines = text.splitlines()
    meta, body_start = _parse_front_matter(lines, name)
    blocks = _BodyParser(name).parse(lines, body_start)
    if not blocks:
        raise SourceError(name, len(lines) or 1, "no content after the front matter")
    return Source(name=name, stem=stem, category=category, meta=meta, blocks=tuple(blocks))


def _parse_front_matter(lines: list[str], name: str) -> tuple[FrontMatter, int]:
    if not lines or lines[0].strip() != "---":
        raise SourceError(name, 1, "the file must start with front matter between '---' lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise SourceError(name, 1, "the front matter has no closing '---' line") from None
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise SourceError(name, line, f"the front matter is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise SourceError(name, 2, "the front matter must be a mapping of keys to values")

    def key_line(key: str) -> int:
        for index in range(1, end):
            if lines[index].startswith(f"{key}:"):
                return index + 1
        return 1

    for key in data:
        if key not in FRONT_MATTER_KEYS:
            raise SourceError(name, key_line(str(key)), f"unknown front matter key {key!r}")
    values: dict[str, str] = {}
    for key in FRONT_MATTER_KEYS:
        if key not in data or data[key] in (None, ""):
            raise SourceError(name, 1, f"the front matter lacks {key!r}")
        values[key] = data[key].isoformat() if isinstance(data[key], date) else str(data[key])
        _check_text(values[key], name, key_line(key))
    if values["kind"] not in KINDS:
        raise SourceError(
            name, key_line("kind"), f"kind {values['kind']!r} is not one of {', '.join(KINDS)}"
        )
    try:
        effective = date.fromisoformat(values["effective_date"])
    except ValueError:
        raise SourceError(
            name, key_line("effective_date"), "effective_date must be an ISO date (YYYY-MM-DD)"
        ) from None
    meta = FrontMatter(
        title=values["title"],
        product_code=values["product_code"],
        kind=values["kind"],  # type: ignore[arg-type]  # checked against KINDS above
        reference=values["reference"],
        version=values["version"],
        effective_date=effective,
    )
    return meta, end + 1


def _check_text(text: str, name: str, line: int) -> str:
    """Normalise the characters the fonts lack and refuse unbalanced emphasis markers."""
    text = text.translate(_REPLACEMENTS)
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            raise SourceError(
                name, line, f"character {char!r} (U+{ord(char):04X}) cannot be drawn by the fonts"
            ) from None
    if text.count("**") % 2:
        raise SourceError(name, line, "unbalanced '**' (bold)")
    if text.replace("**", "").count("*") % 2:
        raise SourceError(name, line, "unbalanced '*' (italic)")
    return text


class _BodyParser:
    """A line-by-line state machine: the open paragraph or list is flushed on a blank line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.blocks: list[Block] = []
        self.paragraph: list[str] = []
        self.paragraph_line = 0
        self.items: list[str] = []
        self.items_line = 0

    def parse(self, lines: list[str], start: int) -> list[Block]:
        index = start
        while index < len(lines):
            line_no = index + 1
            raw = lines[index].rstrip()
            stripped = raw.strip()
            if raw.startswith("|"):
                self._flush()
                index = self._table(lines, index)
                continue
            if not stripped:
                self._flush()
            elif stripped.startswith("<!--"):
                self._flush()
                self._comment(stripped, line_no)
            elif raw.startswith("#"):
                self._flush()
                self._heading(raw, line_no)
            elif raw.startswith("- "):
                self._flush_paragraph()
                if not self.items:
                    self.items_line = line_no
                self.items.append(self._text(raw[2:].strip(), line_no))
            elif raw[0] in "*+" and raw[1:2] == " ":
                raise SourceError(self.name, line_no, "write bullet items with '- '")
            elif self.items:
                if not raw.startswith("  "):
                    raise SourceError(
                        self.name,
                        line_no,
                        "text right after a list item: indent it to continue the item, "
                        "or leave a blank line to start a paragraph",
                    )
                self.items[-1] += " " + self._text(stripped, line_no)
            else:
                if not self.paragraph:
                    self.paragraph_line = line_no
                self.paragraph.append(self._text(stripped, line_no))
            index += 1
        self._flush()
        return self.blocks

    def _text(self, text: str, line: int) -> str:
        return _check_text(text, self.name, line)

    def _flush_paragraph(self) -> None:
        if self.paragraph:
            self.blocks.append(Paragraph(" ".join(self.paragraph), self.paragraph_line))
            self.paragraph = []

    def _flush(self) -> None:
        self._flush_paragraph()
        if self.items:
            self.blocks.append(BulletList(tuple(self.items), self.items_line))
            self.items = []

    def _comment(self, text: str, line: int) -> None:
        match = _COMMENT.match(text)
        directive = match.group(1) if match else ""
        columns = _COLUMNS.match(directive)
        if columns:
            self.blocks.append(Columns(int(columns.group(1)), line))
        elif directive == "pagebreak":
            self.blocks.append(PageBreak(line))
        else:
            raise SourceError(
                self.name,
                line,
                "only <!-- columns: 1 -->, <!-- columns: 2 --> and <!-- pagebreak --> "
                "are allowed, each on one line",
            )

    def _heading(self, text: str, line: int) -> None:
        match = _HEADING.match(text)
        if not match:
            raise SourceError(self.name, line, "a heading needs a space and text after '#'")
        level = len(match.group(1))
        if level > 3:
            raise SourceError(self.name, line, "only '#', '##' and '###' headings are allowed")
        self.blocks.append(Heading(level, self._text(match.group(2).strip(), line), line))

    def _table(self, lines: list[str], start: int) -> int:
        end = start
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        rows = [_cells(lines[i]) for i in range(start, end)]
        if len(rows) < 3 or not all(_SEPARATOR_CELL.match(cell) for cell in rows[1]):
            raise SourceError(
                self.name,
                start + 1,
                "a table needs a header row, a separator row such as '|---|---|' "
                "and at least one data row",
            )
        width = len(rows[0])
        for offset, row in enumerate(rows):
            if len(row) != width:
                raise SourceError(
                    self.name,
                    start + offset + 1,
                    f"this table row has {len(row)} cells, the header has {width}",
                )
        header = tuple(self._text(cell, start + 1) for cell in rows[0])
        body = tuple(
            tuple(self._text(cell, start + offset + 3) for cell in row)
            for offset, row in enumerate(rows[2:])
        )
        self.blocks.append(Table(header, body, start + 1))
        return end


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in inner.split("|")]
