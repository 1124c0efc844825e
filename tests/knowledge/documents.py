"""Small source documents written on the fly for the reader and ingestion tests."""

import io
from collections.abc import Sequence
from pathlib import Path

from docx import Document as DocxDocument
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas


def write_pdf(
    path: Path,
    pages: Sequence[Sequence[str]],
    *,
    header: str | None = None,
    footer: str | None = None,
) -> Path:
    """One PDF page per item of `pages`, each line drawn on its own (in bold when it starts
    with "**"); optional running header and footer ("{page}" and "{pages}" are replaced)."""
    _, height = A4
    sheet = canvas.Canvas(str(path), pagesize=A4)
    for number, lines in enumerate(pages, start=1):
        sheet.setFont("Helvetica", 10)
        if header:
            sheet.drawString(50, height - 30, header)
        y = height - 70
        for line in lines:
            bold = line.startswith("**")
            sheet.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
            sheet.drawString(50, y, line.removeprefix("**"))
            y -= 14
        if footer:
            sheet.drawString(50, 25, footer.format(page=number, pages=len(pages)))
        sheet.showPage()
    sheet.save()
    return path


def write_image_pdf(path: Path) -> Path:
    """A PDF page holding only a picture (a scan): no text to extract."""
    picture = io.BytesIO()
    Image.new("RGB", (60, 40), color=(200, 30, 30)).save(picture, format="PNG")
    picture.seek(0)
    sheet = canvas.Canvas(str(path), pagesize=A4)
    sheet.drawImage(ImageReader(picture), 50, 500, width=300, height=200)
    sheet.showPage()
    sheet.save()
    return path


def write_docx(path: Path, blocks: Sequence[tuple[str, str]]) -> Path:
    """(kind, text) blocks: kind "h1"/"h2"/"h3" for headings, "p" for paragraphs,
    "table" for a table whose rows are separated by ";" and cells by "|"."""
    document = DocxDocument()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, cells in enumerate(rows):
                for c, cell in enumerate(cells):
                    table.cell(r, c).text = cell.strip()
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
