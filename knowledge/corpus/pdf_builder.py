"""Lay a parsed source out as an A4 PDF with running header and footer, "page X / Y".

The PDF is rendered twice: the first pass counts the pages, the second draws the footers with
the total. Output is deterministic (reportlab's invariant mode fixes the creation date and the
document ID), so an unchanged source rebuilds to identical bytes.
"""

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    HRFlowable,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Spacer,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus.flowables import BalancedColumns

from knowledge.corpus import styles
from knowledge.corpus.errors import BuildError, CorpusError
from knowledge.corpus.markdown_source import (
    Block,
    BulletList,
    Columns,
    Heading,
    Paragraph,
    Source,
    Table,
    read_source,
)
from knowledge.corpus.markdown_source import PageBreak as PageBreakBlock

logger = logging.getLogger(__name__)

INSURER = "Vergemont Assurances"
MARGIN_X = 2.0 * cm
MARGIN_TOP = 2.4 * cm
MARGIN_BOTTOM = 2.2 * cm
COLUMN_GAP = 0.7 * cm
FRAME_PADDING = 6  # reportlab's default padding inside a frame
FULL_WIDTH = A4[0] - 2 * MARGIN_X - 2 * FRAME_PADDING
COLUMN_WIDTH = (FULL_WIDTH - COLUMN_GAP) / 2
CELL_PADDING = 4

Flowable = Any  # reportlab ships without type information
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"\*(.+?)\*")
_NO_BREAK = (
    (re.compile(r"(?<=\d) (?=\d{3}(?!\d))"), "\u00a0"),  # thousands: 150 000
    (re.compile(r"(?<=\d) (?=[€%])"), "\u00a0"),  # 30 €, 12,8 %
    (re.compile(r" (?=[:;?!»])"), "\u00a0"),  # French punctuation spacing
    (re.compile(r"(?<=«) "), "\u00a0"),
)
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class BuiltDocument:
    source: Source
    pdf: bytes
    pages: int


def render_pdf(source: Source) -> BuiltDocument:
    """Render one source; raises BuildError if reportlab cannot lay it out."""
    pages = _render(source, total=None)[1]
    pdf, second = _render(source, total=pages)
    if second != pages:
        raise BuildError(f"{source.name}: page count changed between passes ({pages}, {second})")
    return BuiltDocument(source=source, pdf=pdf, pages=pages)


def find_sources(root: Path) -> list[Path]:
    """Every source under `root`, one folder per category, in a stable order."""
    return sorted(root.glob("*/*.md"))


def build_corpus(sources: Path, out: Path) -> tuple[list[BuiltDocument], int]:
    """Build every source into `out/<category>/<stem>.pdf`; a failing source is logged and
    skipped. Returns the built documents and the number of failures. A PDF whose bytes did not
    change is not rewritten."""
    built: list[BuiltDocument] = []
    failures = 0
    for path in find_sources(sources):
        try:
            document = render_pdf(read_source(path))
        except CorpusError as error:
            logger.error("corpus source skipped: %s", error, extra={"source": str(path)})
            failures += 1
            continue
        target = out / document.source.category / document.source.pdf_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != document.pdf:
            target.write_bytes(document.pdf)
        built.append(document)
    return built, failures


def inline(text: str) -> str:
    """Markdown emphasis to reportlab paragraph markup, with XML special characters escaped and
    French no-break spaces, so that "150 000 €" or "garanti ?" never breaks across lines."""
    for pattern, replacement in _NO_BREAK:
        text = pattern.sub(replacement, text)
    return _ITALIC.sub(r"<i>\1</i>", _BOLD.sub(r"<b>\1</b>", escape(text)))


def french_date(value: date) -> str:
    """2026-01-01 as « 1er janvier 2026 »."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[value.month - 1]} {value.year}"


def _render(source: Source, total: int | None) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    meta = source.meta
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=meta.title,
        author=INSURER,
        subject=f"{styles.KIND_LABELS[meta.kind]} — réf. {meta.reference}",
        keywords=f"{meta.product_code}, {meta.kind}, {source.category}",
        creator="knowledge.corpus",
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    last_page = [0]
    decorate = _decorator(source, total, last_page)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    try:
        doc.build(_story(source))
    except Exception as error:  # reportlab raises bare LayoutError / ValueError
        raise BuildError(f"{source.name}: cannot lay the document out: {error}") from error
    return buffer.getvalue(), last_page[0]


def _decorator(source: Source, total: int | None, last_page: list[int]) -> Callable[..., None]:
    meta = source.meta
    width, height = A4

    def decorate(canvas: Any, doc: Any) -> None:
        page = canvas.getPageNumber()
        last_page[0] = page
        canvas.saveState()
        canvas.setStrokeColor(styles.RULE)
        canvas.setLineWidth(0.5)
        header = f"{INSURER} — {meta.title}"
        size = 8.0
        while size > 6 and stringWidth(header, styles.FONT, size) > width - 2 * MARGIN_X:
            size -= 0.5
        canvas.setFont(styles.FONT, size)
        canvas.setFillColor(styles.MUTED)
        canvas.drawString(MARGIN_X, height - 1.45 * cm, header)
        canvas.line(MARGIN_X, height - 1.6 * cm, width - MARGIN_X, height - 1.6 * cm)
        canvas.line(MARGIN_X, 1.55 * cm, width - MARGIN_X, 1.55 * cm)
        footer = f"Réf. {meta.reference} · version {meta.version} · page {page} / {total or 0}"
        canvas.setFont(styles.FONT, 8)
        canvas.drawCentredString(width / 2, 1.1 * cm, footer)
        canvas.restoreState()

    return decorate


def _story(source: Source) -> list[Flowable]:
    story: list[Flowable] = _title_block(source)
    column: list[Flowable] | None = None

    def close_columns() -> None:
        nonlocal column
        if column:
            story.append(
                BalancedColumns(
                    column,
                    nCols=2,
                    leftPadding=0,
                    rightPadding=0,
                    innerPadding=COLUMN_GAP,
                    vLinesStrokeColor=styles.RULE,
                    vLinesStrokeWidth=0.5,
                )
            )
        column = None

    for block in source.blocks:
        if isinstance(block, Columns):
            close_columns()
            column = [] if block.count == 2 else None
        elif isinstance(block, PageBreakBlock):
            in_columns = column is not None
            close_columns()
            story.append(PageBreak())
            column = [] if in_columns else None
        else:
            target = column if column is not None else story
            target.extend(_flowables(block, narrow=column is not None))
    close_columns()
    return story


def _title_block(source: Source) -> list[Flowable]:
    meta = source.meta
    line = (
        f"{styles.KIND_LABELS[meta.kind]} · réf. {meta.reference} · version {meta.version} · "
        f"en vigueur au {french_date(meta.effective_date)}"
    )
    return [
        RLParagraph(escape(INSURER.upper()), styles.STYLES["brand"]),
        RLParagraph(inline(meta.title), styles.STYLES["title"]),
        RLParagraph(escape(line), styles.STYLES["subtitle"]),
        HRFlowable(width="100%", thickness=1, color=styles.ACCENT, spaceAfter=8),
    ]


def _flowables(block: Block, narrow: bool) -> list[Flowable]:
    body = styles.STYLES["body_narrow" if narrow else "body"]
    if isinstance(block, Heading):
        return [RLParagraph(inline(block.text), styles.STYLES[f"h{block.level}"])]
    if isinstance(block, Paragraph):
        return [RLParagraph(inline(block.text), body)]
    if isinstance(block, BulletList):
        style = styles.STYLES["bullet"]
        return [RLParagraph(inline(item), style, bulletText="•") for item in block.items]
    if isinstance(block, Table):
        return [_table(block, COLUMN_WIDTH if narrow else FULL_WIDTH), Spacer(1, 6)]
    raise BuildError(f"unexpected block {block!r}")


def _table(block: Table, width: float) -> Flowable:
    header = [RLParagraph(inline(cell), styles.STYLES["th"]) for cell in block.header]
    rows = [[RLParagraph(inline(cell), styles.STYLES["td"]) for cell in row] for row in block.rows]
    widths = column_widths((block.header, *block.rows), width)
    table = RLTable([header, *rows], colWidths=widths, repeatRows=1, style=styles.TABLE_STYLE)
    return table if len(block.rows) > 12 else KeepTogether([table])


def column_widths(rows: tuple[tuple[str, ...], ...], width: float) -> list[float]:
    """Give every column room for its longest word (bold, as in the header), then share the rest
    in proportion to how much text the column holds."""
    size = styles.STYLES["td"].fontSize
    count = len(rows[0])
    minimum = [
        max(stringWidth(word, styles.BOLD, size) for row in rows for word in row[i].split() or [""])
        + 2 * CELL_PADDING
        + 2
        for i in range(count)
    ]
    weights = [min(45, max(len(row[i]) for row in rows)) + 1 for i in range(count)]
    spare = width - sum(minimum) - 1
    if spare <= 0:
        return [width * m / sum(minimum) - 0.5 for m in minimum]
    return [m + spare * w / sum(weights) for m, w in zip(minimum, weights, strict=True)]
