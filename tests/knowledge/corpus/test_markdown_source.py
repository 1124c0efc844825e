"""Corpus sources: front matter, blocks, and malformed sources named by file and line."""

from datetime import date
from pathlib import Path

import pytest

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
from tests.knowledge.corpus.samples import BODY, FRONT, write_source

pytestmark = pytest.mark.unit


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
