"""The corpus builder: source parsing, PDF layout read back with pypdf, determinism, coverage."""

import io
from datetime import date
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from knowledge.corpus.__main__ import DEFAULT_SOURCES, main
from knowledge.corpus.errors import SourceError
from knowledge.corpus.markdown_source import (
    BulletList,
    Columns,
    Heading,
    PageBreak,
    Paragraph,
    Table,
    parse_source,
    read_source,
)
from knowledge.corpus.pdf_builder import build_corpus, column_widths, inline, render_pdf

pytestmark = pytest.mark.unit

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "product_catalog" / "products"

FRONT = """---
title: Conditions générales Vergemont Essai
product_code: VG-ESSAI
kind: conditions_generales
reference: CG-ESSAI
version: 2026-01
effective_date: 2026-01-01
---
"""

BODY = """# Chapitre 1 — Dispositions générales

## Article 1 — Objet

Le contrat garantit l'**assuré** contre les *conséquences* d'un sinistre,
dans la limite de 150 000 € par an.

- premier point
- second point qui continue
  sur la ligne suivante

| Garantie | Plafond | Franchise |
|---|---|---|
| Vol | 8 000 € | 150 € |
| Incendie | 300 000 € | aucune |

<!-- columns: 2 -->
### Sous-article

Texte en colonnes.
<!-- pagebreak -->
<!-- columns: 1 -->
"""


def write_source(root: Path, text: str, stem: str = "vg-essai-conditions-generales") -> Path:
    path = root / "essai" / f"{stem}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def long_body(articles: int) -> str:
    paragraph = "L'assureur verse l'indemnité dans un délai de trente jours. " * 12
    return "\n".join(f"## Article {n}\n\n{paragraph}\n" for n in range(1, articles + 1))


class TestMarkdownSource:
    def test_front_matter_is_read_into_typed_fields(self) -> None:
        source = parse_source(FRONT + BODY, name="essai.md", stem="essai")
        assert source.meta.title == "Conditions générales Vergemont Essai"
        assert source.meta.kind == "conditions_generales"
        assert source.meta.version == "2026-01"
        assert source.meta.effective_date == date(2026, 1, 1)
        assert source.pdf_name == "essai.pdf"

    def test_body_becomes_blocks_in_order(self) -> None:
        blocks = parse_source(FRONT + BODY, name="essai.md", stem="essai").blocks
        kinds = [type(block) for block in blocks]
        assert kinds == [
            Heading,
            Heading,
            Paragraph,
            BulletList,
            Table,
            Columns,
            Heading,
            Paragraph,
            PageBreak,
            Columns,
        ]
        assert [b.level for b in blocks if isinstance(b, Heading)] == [1, 2, 3]

    def test_paragraph_lines_are_joined_and_list_items_continued(self) -> None:
        blocks = parse_source(FRONT + BODY, name="essai.md", stem="essai").blocks
        paragraph = next(b for b in blocks if isinstance(b, Paragraph))
        assert paragraph.text.endswith("d'un sinistre, dans la limite de 150 000 € par an.")
        bullets = next(b for b in blocks if isinstance(b, BulletList))
        assert bullets.items == ("premier point", "second point qui continue sur la ligne suivante")

    def test_table_keeps_header_and_rows(self) -> None:
        blocks = parse_source(FRONT + BODY, name="essai.md", stem="essai").blocks
        table = next(b for b in blocks if isinstance(b, Table))
        assert table.header == ("Garantie", "Plafond", "Franchise")
        assert table.rows == (("Vol", "8 000 €", "150 €"), ("Incendie", "300 000 €", "aucune"))

    def test_column_markers_carry_their_count(self) -> None:
        blocks = parse_source(FRONT + BODY, name="essai.md", stem="essai").blocks
        assert [b.count for b in blocks if isinstance(b, Columns)] == [2, 1]

    def test_narrow_no_break_space_is_normalised(self) -> None:
        source = parse_source(FRONT + "Montant : 10\u202f000\u00a0€\n", name="x.md", stem="x")
        paragraph = source.blocks[0]
        assert isinstance(paragraph, Paragraph)
        assert paragraph.text == "Montant : 10\u00a0000\u00a0€"

    @pytest.mark.parametrize(
        ("body", "line", "message"),
        [
            ("Texte\n\n#### Trop profond\n", 11, "headings"),
            ("<!-- colonnes: 2 -->\n", 9, "allowed"),
            ("| A | B |\n|---|---|\n| 1 |\n", 11, "cells"),
            ("| A | B |\n| 1 | 2 |\n", 9, "separator"),
            ("Un **gras non fermé.\n", 9, "unbalanced"),
            ("- point\nsuite sans retrait\n", 10, "indent"),
            ("Un emoji \U0001f600 ici.\n", 9, "cannot be drawn"),
        ],
    )
    def test_malformed_body_names_file_and_line(self, body: str, line: int, message: str) -> None:
        with pytest.raises(SourceError, match=message) as caught:
            parse_source(FRONT + body, name="sources/x/essai.md", stem="essai")
        assert caught.value.line == line
        assert str(caught.value).startswith(f"sources/x/essai.md:{line}:")

    def test_bad_front_matter_names_the_key_line(self) -> None:
        text = FRONT.replace("kind: conditions_generales", "kind: brochure") + "Texte.\n"
        with pytest.raises(SourceError, match="brochure") as caught:
            parse_source(text, name="essai.md", stem="essai")
        assert caught.value.line == 4

    def test_missing_front_matter_is_refused(self, tmp_path: Path) -> None:
        path = write_source(tmp_path, "# Titre\n\nTexte.\n")
        with pytest.raises(SourceError, match="front matter") as caught:
            read_source(path)
        assert str(path) in str(caught.value)

    def test_missing_key_is_named(self) -> None:
        text = FRONT.replace("reference: CG-ESSAI\n", "") + "Texte.\n"
        with pytest.raises(SourceError, match="'reference'"):
            parse_source(text, name="essai.md", stem="essai")


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


class TestCorpusSources:
    def test_every_catalogue_document_has_a_source(self) -> None:
        expected: set[str] = set()
        for path in CATALOGUE_DIR.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for product in data["products"]:
                expected.update(
                    f"{data['category']}/{document['filename'].removesuffix('.pdf')}.md"
                    for document in product["documents"]
                )
                expected.add(f"{data['category']}/{product['code'].lower()}-faq.md")
        present = {f"{p.parent.name}/{p.name}" for p in DEFAULT_SOURCES.glob("*/*.md")}
        assert sorted(expected - present) == []

    def test_catalogue_titles_kinds_and_codes_are_those_of_the_sources(self) -> None:
        for path in CATALOGUE_DIR.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for product in data["products"]:
                for document in product["documents"]:
                    stem = document["filename"].removesuffix(".pdf")
                    source = DEFAULT_SOURCES / data["category"] / f"{stem}.md"
                    if not source.exists():
                        continue  # reported by test_every_catalogue_document_has_a_source
                    meta = read_source(source).meta
                    assert (meta.title, meta.kind, meta.product_code) == (
                        document["title"],
                        document["kind"],
                        product["code"],
                    ), source

    def test_every_source_parses_and_agrees_with_its_file_name(self) -> None:
        for path in sorted(DEFAULT_SOURCES.glob("*/*.md")):
            source = read_source(path)
            assert path.stem.startswith(source.meta.product_code.lower()), path
            assert (source.meta.kind == "faq") == path.stem.endswith("-faq"), path
