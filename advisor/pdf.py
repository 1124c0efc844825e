"""The duty-of-advice PDF, rendered with reportlab.

Rendering is reproducible (`invariant`): the same content, version and validation give the same
bytes, so the stored SHA-256 can be recomputed. Every text is escaped before it reaches reportlab's
paragraph markup, so what an advisor or a prospect typed is printed as typed.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

INSURER = "Vergemont Assurances"


def _paragraphs(text: str, style: Any) -> list[Paragraph]:
    return [Paragraph(escape(line) or "&nbsp;", style) for line in text.splitlines() or [""]]


def render_advice_pdf(
    content: dict[str, Any], version: int, validated_by: str, validated_at: datetime
) -> bytes:
    styles = getSampleStyleSheet()
    body, heading, title = styles["BodyText"], styles["Heading2"], styles["Title"]
    small = styles["Italic"]
    story: list[Any] = [
        Paragraph(escape(f"{INSURER} — Devoir de conseil"), title),
        Paragraph(
            escape(
                f"Prospect {content.get('lead_reference', '')} — {content.get('client_name', '')}"
                f" — version {version}"
            ),
            body,
        ),
        Spacer(1, 0.4 * cm),
        Paragraph("Exigences et besoins exprimés", heading),
        *_paragraphs(str(content.get("demands_and_needs", "")), body),
        Paragraph("Produits proposés et motivation", heading),
    ]
    for product in content.get("products", []):
        story.append(
            Paragraph(escape(f"{product['name']} ({product['code']})"), styles["Heading3"])
        )
        story.extend(_paragraphs(str(product.get("reasons", "")), body))
        for warning in product.get("warnings", []):
            story.append(Paragraph(escape(f"Point d'attention : {warning}"), body))
        if product.get("documents"):
            story.append(Paragraph("Documents remis :", body))
            for document in product["documents"]:
                story.append(
                    Paragraph(
                        escape(
                            f"• {document['kind']} — {document['title']} "
                            f"({document['filename']}, version {document['version']})"
                        ),
                        body,
                    )
                )
    if not content.get("products"):
        story.append(Paragraph("Aucun produit n'a été proposé.", body))
    story.append(Paragraph("Situations particulières", heading))
    story.extend(_paragraphs(str(content.get("special_situations", "")) or "Aucune.", body))
    story.append(Paragraph("Compléments du conseiller", heading))
    story.extend(_paragraphs(str(content.get("advisor_additions", "")) or "Aucun.", body))
    story.append(Spacer(1, 0.6 * cm))
    story.append(
        Paragraph(
            escape(
                f"Version {version} validée par {validated_by} le "
                f"{validated_at.strftime('%d/%m/%Y à %H:%M')} (UTC). "
                f"Catalogue : {content.get('catalogue_version') or 'non précisé'}."
            ),
            small,
        )
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Devoir de conseil {content.get('lead_reference', '')} v{version}",
        author=INSURER,
        invariant=1,
    )
    document.build(story)
    return buffer.getvalue()
