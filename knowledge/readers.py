"""Readers: one file in, its pages out (PDF, DOCX, HTML, Markdown).

A PDF gives one `Page` per page, its text in reading order whatever order the file draws it in
(columns, tables row by row, footnotes after the body: `knowledge.pdf_layout`), its headings
recognised by their font. Formats without pages (DOCX, HTML, Markdown) give one `Page` per
top-level section (a heading of level 1 or 2 starts a new one), numbered from 1. Headings are
kept in the text as Markdown heading lines ("## Exclusions") so that the chunker knows the
section of every passage whatever the format was; table rows become "cell | cell" lines.

Every failure is a `DocumentError` naming the file and the reason: the ingestion pipeline reports
it and goes on with the other files.
"""

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from knowledge.errors import DocumentError
from knowledge.interfaces import CELL_SEPARATOR, Page, Reader

logger = logging.getLogger(__name__)

_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "form", "li", "main", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "thead", "tfoot", "tr", "ul",
    *_HEADING_TAGS,
}  # fmt: skip
_DROPPED_TAGS = ["script", "style", "noscript", "template", "nav", "header", "footer", "svg"]
_SPACES = re.compile(r"\s+")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.DOTALL)


@dataclass(frozen=True)
class _Block:
    text: str
    heading_level: int = 0  # 0 for body text


def _blocks_to_pages(document: str, blocks: Iterable[_Block]) -> list[Page]:
    """Groups blocks into pages, a new page at each heading of level 1 or 2."""
    pages: list[list[str]] = [[]]
    for block in blocks:
        text = _SPACES.sub(" ", block.text).strip()
        if not text:
            continue
        if block.heading_level:
            if 0 < block.heading_level <= 2 and any(not line.startswith("#") for line in pages[-1]):
                pages.append([])
            pages[-1].append(f"{'#' * block.heading_level} {text}")
        else:
            pages[-1].append(text)
    kept = [lines for lines in pages if any(not line.startswith("#") for line in lines)]
    if not kept:
        raise DocumentError(document, "no text found: the document is empty")
    return [
        Page(document=document, page=number, text="\n".join(lines))
        for number, lines in enumerate(kept, start=1)
    ]


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # legacy French web pages


@dataclass(frozen=True)
class _Run:
    """One piece of text drawn by a PDF page, with its font."""

    text: str
    bold: bool
    size: float


_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)


def _font_runs(page: Any) -> tuple[str, list[_Run]]:
    """The page's text (pypdf's plain extraction) and the runs it was drawn from."""
    runs: list[_Run] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            name = str(font.get("/BaseFont", "")) if font else ""
            scale = abs(float(tm[3])) if tm else 1.0
            runs.append(_Run(text.strip(), bool(_BOLD_FONT.search(name)), size * (scale or 1.0)))

    return page.extract_text(visitor_text=visit) or "", runs


def _mark_headings(texts: list[str], runs: list[list[_Run]]) -> list[str]:
    """Writes "# " / "## " before the lines drawn whole in a heading font.

    A heading font is bold at the body size or more, or clearly larger than the body size (the
    size most characters are drawn in); level 1 when at least 1.4 times the body size.
    """
    sizes: Counter[float] = Counter()
    for page_runs in runs:
        for run in page_runs:
            sizes[round(run.size, 1)] += len(run.text)
    if not sizes:
        return texts
    body = sizes.most_common(1)[0][0]
    marked: list[str] = []
    for text, page_runs in zip(texts, runs, strict=True):
        levels = {
            run.text: 1 if run.size >= body * 1.4 else 2
            for run in page_runs
            if len(run.text) <= 160
            and ((run.bold and run.size >= body * 0.95) or run.size >= body * 1.2)
        }
        lines = [
            f"{'#' * levels[line.strip()]} {line.strip()}" if line.strip() in levels else line
            for line in text.split("\n")
        ]
        marked.append("\n".join(lines))
    return marked


class PdfReader:
    """Text of every page; refuses encrypted, empty and image-only files.

    By default the text is rebuilt from where it is drawn (`knowledge.pdf_layout`): columns read
    one after the other, a table row on one line with its cells joined by " | ", footnotes as
    their own paragraphs "(n) text" after the body, running header and footer kept at the page's
    edges for the cleaner. `layout=False` takes pypdf's plain extraction, the content stream's
    order (also the fallback for a page the layout analysis cannot read).

    Either way, lines drawn whole in a heading font (bold, or larger than the body text) are
    marked as Markdown headings, so FAQ questions and article titles become section titles.
    """

    suffixes: tuple[str, ...] = (".pdf",)

    def __init__(self, *, layout: bool = True) -> None:
        self.layout = layout

    def read(self, path: Path) -> list[Page]:
        import pypdf
        from pypdf.errors import DependencyError, EmptyFileError, FileNotDecryptedError

        name = path.name
        try:
            reader = pypdf.PdfReader(path, strict=False)
            if reader.is_encrypted:
                try:
                    decrypted = reader.decrypt("")  # readable when only an owner password is set
                except (DependencyError, NotImplementedError) as exc:
                    reason = f"encrypted with an unsupported method ({exc})"
                    raise DocumentError(name, reason) from exc
                if not decrypted:
                    raise DocumentError(name, "encrypted: the PDF is protected by a password")
            if len(reader.pages) == 0:
                raise DocumentError(name, "empty: the PDF has no pages")
            texts = _layout_texts(name, reader.pages) if self.layout else _plain_texts(reader.pages)
        except DocumentError:
            raise
        except FileNotDecryptedError as exc:
            raise DocumentError(name, "encrypted: the PDF is protected by a password") from exc
        except EmptyFileError as exc:
            raise DocumentError(name, "empty file") from exc
        except Exception as exc:  # pypdf raises many exception types on damaged files
            raise DocumentError(name, f"malformed PDF ({type(exc).__name__}: {exc})") from exc
        if not any(text.strip() for text in texts):
            raise DocumentError(
                name, "no extractable text: scanned or image-only PDF (OCR is not supported)"
            )
        blank = sum(1 for text in texts if not text.strip())
        if blank:
            logger.info("pages without text skipped", extra={"document": name, "pages": blank})
        return [
            Page(document=name, page=number, text=text)
            for number, text in enumerate(texts, start=1)
        ]


def _plain_texts(pages: Sequence[Any]) -> list[str]:
    """pypdf's plain extraction of every page, heading lines marked."""
    extracted = [_font_runs(page) for page in pages]
    return _mark_headings([text for text, _ in extracted], [runs for _, runs in extracted])


def _layout_texts(document: str, pages: Sequence[Any]) -> list[str]:
    """Every page's text in reading order (`knowledge.pdf_layout`); a page the analysis cannot
    read, or where it finds no text, or mostly rotated text, gets the plain extraction."""
    from knowledge import pdf_layout
    from knowledge.pdf_content import ContentReader, PageContent

    content_reader = ContentReader()
    contents: list[PageContent | None] = []
    for number, page in enumerate(pages, start=1):
        try:
            content: PageContent | None = content_reader.read(page)
        except Exception:  # a content stream the interpreter cannot follow: plain extraction
            logger.warning("layout analysis failed, plain extraction used",
                           extra={"document": document, "page": number}, exc_info=True)  # fmt: skip
            content = None
        contents.append(content)
    analyser = pdf_layout.PageAnalyser(
        pdf_layout.body_size([content for content in contents if content is not None])
    )
    texts: list[str] = []
    for number, (page, content) in enumerate(zip(pages, contents, strict=True), start=1):
        text = ""
        if content is not None and len(content.fragments) > 0:
            drawn = sum(len(fragment.text) for fragment in content.fragments)
            if content.skipped_chars <= drawn:
                try:
                    text = pdf_layout.page_text(analyser.blocks(content, number))
                except Exception:  # an analysis bug must not lose the page
                    logger.warning("layout analysis failed, plain extraction used",
                                   extra={"document": document, "page": number},
                                   exc_info=True)  # fmt: skip
        if not text.strip():
            text = _plain_texts([page])[0]
        texts.append(text)
    return texts


class DocxReader:
    """Paragraphs and tables of a Word document, in order; "Heading N"/"Titre N" styles."""

    suffixes: tuple[str, ...] = (".docx",)

    def read(self, path: Path) -> list[Page]:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        name = path.name
        try:
            document = docx.Document(str(path))
            blocks: list[_Block] = []
            for item in document.iter_inner_content():
                if isinstance(item, Paragraph):
                    style = item.style.name if item.style is not None else None
                    blocks.append(_Block(item.text, self._heading_level(style)))
                elif isinstance(item, Table):
                    for row in item.rows:
                        cells = [cell.text.strip() for cell in row.cells]
                        blocks.append(_Block(CELL_SEPARATOR.join(_unique(cells))))
        except Exception as exc:  # python-docx raises zip, XML and package errors
            raise DocumentError(name, f"malformed DOCX ({type(exc).__name__}: {exc})") from exc
        return _blocks_to_pages(name, blocks)

    @staticmethod
    def _heading_level(style: str | None) -> int:
        if not style:
            return 0
        if style == "Title":
            return 1
        match = re.fullmatch(r"(?:Heading|Titre) (\d)", style)
        return int(match.group(1)) if match else 0


def _unique(cells: Sequence[str]) -> list[str]:
    """Merged cells repeat their text in python-docx; keep each text once per row."""
    seen: list[str] = []
    for cell in cells:
        if cell and (not seen or seen[-1] != cell):
            seen.append(cell)
    return seen


class HtmlReader:
    """Visible text of an HTML page, block by block; navigation, header and footer dropped."""

    suffixes: tuple[str, ...] = (".html", ".htm")

    def read(self, path: Path) -> list[Page]:
        try:
            markup = _decode(path)
        except OSError as exc:
            raise DocumentError(path.name, f"cannot read the file ({exc})") from exc
        return _blocks_to_pages(path.name, html_blocks(markup))


def html_blocks(markup: str) -> list[_Block]:
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    for line_break in soup("br"):
        line_break.replace_with("\n")
    root = soup.body or soup
    blocks: list[_Block] = []
    if not soup.find("h1") and soup.title and soup.title.string:
        blocks.append(_Block(soup.title.string, 1))
    _walk(root, blocks)
    return blocks


def _walk(element: Tag, blocks: list[_Block]) -> None:
    inline: list[str] = []

    def flush() -> None:
        if inline:
            blocks.append(_Block("".join(inline)))
            inline.clear()

    for child in element.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, doctype or CDATA
                inline.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in _HEADING_TAGS:
            flush()
            blocks.append(_Block(child.get_text(), _HEADING_TAGS[name]))
        elif name == "tr":
            flush()
            cells = [cell.get_text(" ").strip() for cell in child.find_all(["td", "th"])]
            blocks.append(_Block(CELL_SEPARATOR.join(cell for cell in cells if cell)))
        elif name in _BLOCK_TAGS:
            flush()
            if child.find(list(_BLOCK_TAGS)) is None:
                blocks.append(_Block(child.get_text()))
            else:
                _walk(child, blocks)
        else:
            inline.append(child.get_text())
    flush()


class MarkdownReader:
    """Markdown rendered to HTML (tables included) then read as HTML; front matter dropped."""

    suffixes: tuple[str, ...] = (".md", ".markdown")

    def read(self, path: Path) -> list[Page]:
        import markdown

        try:
            text = _FRONT_MATTER.sub("", _decode(path), count=1)
        except OSError as exc:
            raise DocumentError(path.name, f"cannot read the file ({exc})") from exc
        markup = markdown.markdown(text, extensions=["tables", "sane_lists"])
        return _blocks_to_pages(path.name, html_blocks(markup))


def default_readers() -> list[Reader]:
    return [PdfReader(), DocxReader(), HtmlReader(), MarkdownReader()]


def supported_suffixes(readers: Sequence[Reader]) -> set[str]:
    return {suffix for reader in readers for suffix in reader.suffixes}


def reader_for(path: Path, readers: Sequence[Reader]) -> Reader:
    suffix = path.suffix.lower()
    for reader in readers:
        if suffix in reader.suffixes:
            return reader
    known = ", ".join(sorted(supported_suffixes(readers)))
    raise DocumentError(path.name, f"unsupported file type {suffix or '(none)'} (known: {known})")
