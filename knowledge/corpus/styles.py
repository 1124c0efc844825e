"""Fonts, colours and paragraph styles of the corpus PDFs.

The standard Helvetica fonts are encoded in Windows-1252, which draws every French character,
the euro sign, the ligature œ and typographic quotes; `markdown_source` refuses anything else.
"""

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import TableStyle

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"
ACCENT = colors.HexColor("#1F4E5F")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#9AAAB0")
HEADER_FILL = colors.HexColor("#DCE8EC")
STRIPE_FILL = colors.HexColor("#F4F7F8")

KIND_LABELS = {
    "conditions_generales": "Conditions générales",
    "document_information": "Document d'information",
    "document_informations_cles": "Document d'informations clés",
    "notice": "Notice",
    "faq": "Questions fréquentes",
}

_BODY = ParagraphStyle(
    "body", fontName=FONT, fontSize=10, leading=13.5, alignment=TA_JUSTIFY, spaceAfter=5
)

STYLES: dict[str, ParagraphStyle] = {
    "brand": ParagraphStyle(
        "brand", fontName=BOLD, fontSize=9, leading=12, textColor=ACCENT, spaceAfter=4
    ),
    "title": ParagraphStyle(
        "title", fontName=BOLD, fontSize=17, leading=21, textColor=ACCENT, spaceAfter=4
    ),
    "subtitle": ParagraphStyle(
        "subtitle", fontName=FONT, fontSize=8.5, leading=11, textColor=MUTED, spaceAfter=6
    ),
    "h1": ParagraphStyle(
        "h1",
        fontName=BOLD,
        fontSize=13,
        leading=16,
        textColor=ACCENT,
        spaceBefore=12,
        spaceAfter=6,
        keepWithNext=1,
    ),
    "h2": ParagraphStyle(
        "h2",
        fontName=BOLD,
        fontSize=10.5,
        leading=13.5,
        spaceBefore=8,
        spaceAfter=3,
        keepWithNext=1,
    ),
    "h3": ParagraphStyle(
        "h3",
        fontName="Helvetica-BoldOblique",
        fontSize=10,
        leading=13,
        spaceBefore=5,
        spaceAfter=2,
        keepWithNext=1,
    ),
    "body": _BODY,
    "body_narrow": ParagraphStyle("body_narrow", parent=_BODY, alignment=TA_LEFT),
    "bullet": ParagraphStyle(
        "bullet", parent=_BODY, alignment=TA_LEFT, leftIndent=14, bulletIndent=4, spaceAfter=2
    ),
    "th": ParagraphStyle("th", fontName=BOLD, fontSize=8.5, leading=10.5),
    "td": ParagraphStyle("td", fontName=FONT, fontSize=8.5, leading=10.5),
}

TABLE_STYLE = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE_FILL]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
)
