"""Readers: pages out of PDF, DOCX, HTML and Markdown; a clear error for files they cannot read."""

from pathlib import Path

import pypdf
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from knowledge.errors import DocumentError
from knowledge.readers import (
    DocxReader,
    HtmlReader,
    MarkdownReader,
    PdfReader,
    default_readers,
    reader_for,
)
from tests.knowledge.documents import write_docx, write_image_pdf, write_pdf

pytestmark = pytest.mark.unit


class TestPdfReader:
    def test_gives_one_page_per_pdf_page_with_its_text(self, tmp_path: Path) -> None:
        path = write_pdf(
            tmp_path / "cg.pdf",
            [["Article 1 — Objet", "Le contrat couvre le vol."], ["Article 2 — Exclusions"]],
        )

        pages = PdfReader().read(path)

        assert [(page.document, page.page) for page in pages] == [("cg.pdf", 1), ("cg.pdf", 2)]
        assert "Le contrat couvre le vol." in pages[0].text
        assert "Article 2 — Exclusions" in pages[1].text

    def test_marks_lines_drawn_in_bold_as_headings(self, tmp_path: Path) -> None:
        path = write_pdf(
            tmp_path / "faq.pdf",
            [
                [
                    "**Puis-je résilier à tout moment ?",
                    "Oui, après un an, avec un préavis d'un mois.",
                    "Un texte avec un mot en gras n'est pas un titre.",
                    "Le contrat se renouvelle chaque année par tacite reconduction.",
                ]
            ],
        )

        text = PdfReader().read(path)[0].text

        assert text.splitlines()[:2] == [
            "## Puis-je résilier à tout moment ?",
            "Oui, après un an, avec un préavis d'un mois.",
        ]
        assert text.count("#") == 2

    def test_reads_two_columns_drawn_line_by_line_one_after_the_other(self, tmp_path: Path) -> None:
        left = [f"Colonne de gauche, ligne {i} du texte." for i in range(1, 6)]
        right = [f"Colonne de droite, ligne {i} du texte." for i in range(1, 6)]
        path = tmp_path / "colonnes.pdf"
        sheet = canvas.Canvas(str(path), pagesize=A4)
        sheet.setFont("Helvetica", 10)
        for i, (a, b) in enumerate(zip(left, right, strict=True)):  # as a print driver draws
            sheet.drawString(50, 700 - 13 * i, a)
            sheet.drawString(320, 700 - 13 * i, b)
        sheet.showPage()
        sheet.save()

        layout = PdfReader().read(path)[0].text
        plain = PdfReader(layout=False).read(path)[0].text

        assert layout.split("\n") == left + right
        assert plain.split("\n")[:2] != left[:2]  # the drawing order, line across line

    def test_a_page_the_layout_analysis_cannot_read_gets_the_plain_extraction(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "tampon.pdf"
        sheet = canvas.Canvas(str(path), pagesize=A4)
        sheet.setFont("Helvetica", 12)
        sheet.translate(300, 300)
        sheet.rotate(30)  # text at an angle, which the layout analysis leaves out
        sheet.drawString(0, 0, "Copie certifiée conforme")
        sheet.showPage()
        sheet.save()

        assert "Copie certifiée conforme" in PdfReader().read(path)[0].text

    def test_refuses_a_password_protected_pdf(self, tmp_path: Path) -> None:
        source = write_pdf(tmp_path / "plain.pdf", [["Texte secret du contrat."]])
        writer = pypdf.PdfWriter(clone_from=source)
        writer.encrypt("motdepasse")
        writer.write(tmp_path / "locked.pdf")

        with pytest.raises(DocumentError, match="encrypted") as caught:
            PdfReader().read(tmp_path / "locked.pdf")
        assert caught.value.file == "locked.pdf"

    def test_reads_a_pdf_encrypted_with_an_empty_user_password(self, tmp_path: Path) -> None:
        source = write_pdf(tmp_path / "plain.pdf", [["Texte lisible par tous."]])
        writer = pypdf.PdfWriter(clone_from=source)
        writer.encrypt("", owner_password="proprietaire")
        writer.write(tmp_path / "owner-only.pdf")

        pages = PdfReader().read(tmp_path / "owner-only.pdf")

        assert "Texte lisible par tous." in pages[0].text

    def test_refuses_an_image_only_pdf(self, tmp_path: Path) -> None:
        with pytest.raises(DocumentError, match="image-only"):
            PdfReader().read(write_image_pdf(tmp_path / "scan.pdf"))

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (b"", "empty file"),
            (b"%PDF-1.4\nnot really a PDF\n", "malformed PDF"),
        ],
    )
    def test_refuses_an_empty_or_malformed_file(
        self, tmp_path: Path, content: bytes, reason: str
    ) -> None:
        path = tmp_path / "bad.pdf"
        path.write_bytes(content)

        with pytest.raises(DocumentError, match=reason):
            PdfReader().read(path)

    def test_refuses_a_pdf_without_pages(self, tmp_path: Path) -> None:
        pypdf.PdfWriter().write(tmp_path / "nopages.pdf")

        with pytest.raises(DocumentError, match="no pages"):
            PdfReader().read(tmp_path / "nopages.pdf")

    def test_refuses_a_truncated_pdf(self, tmp_path: Path) -> None:
        whole = write_pdf(tmp_path / "whole.pdf", [["Un texte."]]).read_bytes()
        (tmp_path / "cut.pdf").write_bytes(whole[: len(whole) // 3])

        with pytest.raises(DocumentError):
            PdfReader().read(tmp_path / "cut.pdf")


class TestDocxReader:
    def test_keeps_headings_paragraphs_and_tables_in_order(self, tmp_path: Path) -> None:
        path = write_docx(
            tmp_path / "notice.docx",
            [
                ("h1", "Notice Vergemont Auto"),
                ("p", "Une introduction."),
                ("h2", "Garanties"),
                ("p", "Le vol est couvert."),
                ("table", "Formule|Prix;Tiers|25 €"),
            ],
        )

        pages = DocxReader().read(path)

        assert pages[0].text == "# Notice Vergemont Auto\nUne introduction."
        assert pages[1].text == "## Garanties\nLe vol est couvert.\nFormule | Prix\nTiers | 25 €"
        assert [page.page for page in pages] == [1, 2]

    def test_refuses_a_file_that_is_not_a_word_document(self, tmp_path: Path) -> None:
        path = tmp_path / "fake.docx"
        path.write_text("pas un document Word", encoding="utf-8")

        with pytest.raises(DocumentError, match="malformed DOCX"):
            DocxReader().read(path)

    def test_refuses_an_empty_document(self, tmp_path: Path) -> None:
        with pytest.raises(DocumentError, match="empty"):
            DocxReader().read(write_docx(tmp_path / "empty.docx", [("h1", "Titre seul")]))


class TestHtmlReader:
    def test_reads_visible_blocks_and_drops_navigation(self, tmp_path: Path) -> None:
        path = tmp_path / "faq.html"
        path.write_text(
            "<html><head><title>FAQ</title><style>p{color:red}</style></head><body>"
            "<nav>Accueil | Contact</nav><h1>Questions fréquentes</h1>"
            "<p>Le <b>bris de glace</b> est couvert.</p>"
            "<ul><li>Franchise : 50 €</li><li>Délai : 5 jours</li></ul>"
            "<h2>Résiliation</h2><div>Vous pouvez résilier<br>à tout moment.</div>"
            "<table><tr><th>Formule</th><th>Prix</th></tr><tr><td>Tiers</td><td>25 €</td></tr>"
            "</table><footer>© Vergemont</footer><script>var x = 1;</script></body></html>",
            encoding="utf-8",
        )

        pages = HtmlReader().read(path)

        assert pages[0].text == (
            "# Questions fréquentes\nLe bris de glace est couvert.\n"
            "Franchise : 50 €\nDélai : 5 jours"
        )
        assert pages[1].text == (
            "## Résiliation\nVous pouvez résilier à tout moment.\nFormule | Prix\nTiers | 25 €"
        )
        assert "Accueil" not in pages[0].text + pages[1].text

    def test_refuses_a_page_without_text(self, tmp_path: Path) -> None:
        path = tmp_path / "vide.html"
        path.write_text("<html><body><script>x()</script></body></html>", encoding="utf-8")

        with pytest.raises(DocumentError, match="empty"):
            HtmlReader().read(path)

    def test_reads_a_legacy_windows_1252_page(self, tmp_path: Path) -> None:
        path = tmp_path / "ancien.htm"
        path.write_bytes("<p>Dégâts des eaux</p>".encode("cp1252"))

        assert HtmlReader().read(path)[0].text == "Dégâts des eaux"


class TestMarkdownReader:
    def test_reads_sections_lists_and_tables_without_front_matter(self, tmp_path: Path) -> None:
        path = tmp_path / "guide.md"
        path.write_text(
            "---\ntitle: Guide\n---\n# Guide sinistre\n\nDéclarez sous **5 jours**.\n\n"
            "## Pièces\n\n- constat amiable\n- photos\n\n| Formule | Prix |\n|---|---|\n"
            "| Tiers | 25 € |\n",
            encoding="utf-8",
        )

        pages = MarkdownReader().read(path)

        assert pages[0].text == "# Guide sinistre\nDéclarez sous 5 jours."
        assert pages[1].text == ("## Pièces\nconstat amiable\nphotos\nFormule | Prix\nTiers | 25 €")

    def test_refuses_an_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "vide.md"
        path.write_text("\n\n", encoding="utf-8")

        with pytest.raises(DocumentError, match="empty"):
            MarkdownReader().read(path)


class TestReaderFor:
    def test_chooses_the_reader_by_suffix_whatever_the_case(self) -> None:
        assert isinstance(reader_for(Path("A.PDF"), default_readers()), PdfReader)
        assert isinstance(reader_for(Path("b.markdown"), default_readers()), MarkdownReader)

    def test_refuses_an_unsupported_type_naming_the_known_ones(self) -> None:
        with pytest.raises(DocumentError, match=r"unsupported file type \.xlsx.*\.pdf"):
            reader_for(Path("tarifs.xlsx"), default_readers())
