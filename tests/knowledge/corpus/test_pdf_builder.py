"""Building the corpus PDFs: layout helpers, running header and footer, tables and columns,
reproducible bytes, and the build command."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from knowledge.corpus.__main__ import main
from knowledge.corpus.markdown_source import parse_source
from knowledge.corpus.pdf_builder import build_corpus, column_widths, inline, render_pdf
from tests.knowledge.corpus.samples import BODY, FRONT, long_body, write_source

pytestmark = pytest.mark.unit


class TestLayoutHelpers:
    def test_amounts_and_french_punctuation_do_not_break_across_lines(self) -> None:
        markup = inline("Plafond : 150 000 € et 12,8 % ? « oui »")
        assert "150\u00a0000\u00a0€" in markup
        assert "12,8\u00a0%" in markup
        assert "Plafond\u00a0:" in markup
        assert "\u00a0?" in markup
        assert "«\u00a0oui\u00a0»" in markup

    def test_emphasis_becomes_markup_and_special_characters_are_escaped(self) -> None:
        assert inline("**gras** et *italique* & <b>") == (
            "<b>gras</b> et <i>italique</i> &amp; &lt;b&gt;"
        )

    def test_columns_fit_the_width_and_their_longest_word(self) -> None:
        rows = (("Garantie", "Proposée", "Caractéristiques"), ("Décès", "Oui", "Capital " * 20))
        widths = column_widths(rows, 400)
        assert sum(widths) <= 400
        assert widths[1] >= stringWidth("Proposée", "Helvetica-Bold", 8.5)
        assert widths[2] > widths[0]


class TestPdfBuilder:
    def test_pdf_has_running_header_footer_and_page_numbers(self, tmp_path: Path) -> None:
        write_source(tmp_path, FRONT + BODY + long_body(12))
        built, failures = build_corpus(tmp_path, tmp_path / "out")
        assert failures == 0
        pdf = tmp_path / "out" / "essai" / "vg-essai-conditions-generales.pdf"
        reader = PdfReader(pdf)
        assert len(reader.pages) == built[0].pages >= 3
        total = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            text = page.extract_text()
            assert "Vergemont Assurances — Conditions générales Vergemont Essai" in text
            assert f"Réf. CG-ESSAI · version 2026-01 · page {number} / {total}" in text

    def test_french_characters_survive_extraction(self, tmp_path: Path) -> None:
        body = "Le cœur de l’offre : 1 500 € « net », Œuvre, déjà, garçon, naïf.\n"
        document = render_pdf(parse_source(FRONT + body, name="x.md", stem="x"))
        text = PdfReader(io.BytesIO(document.pdf)).pages[0].extract_text()
        assert "Le cœur de l’offre : 1 500 € « net », Œuvre, déjà, garçon, naïf." in text

    def test_table_cells_and_columns_text_are_laid_out(self, tmp_path: Path) -> None:
        document = render_pdf(parse_source(FRONT + BODY, name="x.md", stem="x"))
        reader = PdfReader(io.BytesIO(document.pdf))
        first = reader.pages[0].extract_text()
        assert "Incendie" in first
        assert "300 000 €" in first
        assert "Texte en colonnes." in first
        assert document.pages == len(reader.pages) == 1  # a trailing page break adds no page

    def test_pagebreak_starts_a_new_page(self) -> None:
        body = "Première page.\n\n<!-- pagebreak -->\nDeuxième page.\n"
        document = render_pdf(parse_source(FRONT + body, name="x.md", stem="x"))
        reader = PdfReader(io.BytesIO(document.pdf))
        assert len(reader.pages) == 2
        assert "Deuxième page." in reader.pages[1].extract_text()
        assert "Deuxième page." not in reader.pages[0].extract_text()

    def test_metadata_names_the_product(self) -> None:
        document = render_pdf(parse_source(FRONT + BODY, name="x.md", stem="x"))
        metadata = PdfReader(io.BytesIO(document.pdf)).metadata
        assert metadata is not None
        assert metadata.title == "Conditions générales Vergemont Essai"
        assert "VG-ESSAI" in str(metadata.get("/Keywords"))

    def test_rebuilding_an_unchanged_source_gives_identical_bytes(self, tmp_path: Path) -> None:
        write_source(tmp_path, FRONT + BODY + long_body(6))
        build_corpus(tmp_path, tmp_path / "a")
        build_corpus(tmp_path, tmp_path / "b")
        first = (tmp_path / "a" / "essai" / "vg-essai-conditions-generales.pdf").read_bytes()
        second = (tmp_path / "b" / "essai" / "vg-essai-conditions-generales.pdf").read_bytes()
        assert first == second

    def test_a_malformed_source_is_skipped_and_counted(self, tmp_path: Path) -> None:
        write_source(tmp_path, FRONT + BODY)
        write_source(tmp_path, FRONT + "#### mauvais\n", stem="vg-essai-faq")
        built, failures = build_corpus(tmp_path, tmp_path / "out")
        assert [document.source.stem for document in built] == ["vg-essai-conditions-generales"]
        assert failures == 1

    def test_cli_build_reports_documents_and_pages(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write_source(tmp_path, FRONT + BODY)
        code = main(["build", "--sources", str(tmp_path), "--out", str(tmp_path / "out")])
        assert code == 0
        assert "Built 1 documents, 1 pages" in capsys.readouterr().out
