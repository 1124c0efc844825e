"""The content-stream interpreter: where each string is drawn, in which font, and the rules."""

from pathlib import Path

import pypdf
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from knowledge.pdf_content import ContentReader, PageContent
from tests.knowledge.layout.raw import raw_pdf

pytestmark = pytest.mark.unit


def _read(path: Path) -> PageContent:
    return ContentReader().read(pypdf.PdfReader(path).pages[0])


class TestContentReader:
    def test_records_each_string_with_its_box_font_size_and_weight(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"BT /F1 10 Tf 72 700 Td (Franchise) Tj ET BT /F2 12 Tf 300 690 Td (Plafond) Tj ET",
            )
        )

        first, second = content.fragments
        assert (first.text, first.x0, first.y, first.size, first.bold) == (
            "Franchise", 72.0, 700.0, 10.0, False,
        )  # fmt: skip
        assert first.x1 == pytest.approx(72 + stringWidth("Franchise", "Helvetica", 10))
        assert (second.text, second.x0, second.y, second.size, second.bold) == (
            "Plafond", 300.0, 690.0, 12.0, True,
        )  # fmt: skip
        assert (content.width, content.height) == (595.0, 842.0)

    def test_follows_the_line_operators(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"BT /F1 10 Tf 14 TL 72 700 Td (un) Tj T* (deux) Tj (trois) ' "
                b"2 0 (quatre) \" 0 -20 TD (cinq) Tj (six) ' ET",
            )
        )

        assert [(f.text, f.y) for f in content.fragments] == [
            ("un", 700.0), ("deux", 686.0), ("trois", 672.0), ("quatre", 658.0), ("cinq", 638.0),
            ("six", 618.0),
        ]  # fmt: skip

    def test_a_wide_move_in_a_tj_array_starts_a_new_fragment(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"BT /F1 10 Tf 72 700 Td [(Gar) 20 (antie) -3000 (Plafond)] TJ ET",
            )
        )

        garantie, plafond = content.fragments
        assert garantie.text == "Garantie"  # a kerning move stays inside the fragment
        width = stringWidth("Garantie", "Helvetica", 10) - 0.2
        assert garantie.x1 == pytest.approx(72 + width)
        assert plafond.x0 == pytest.approx(garantie.x1 + 30)

    def test_word_spacing_and_horizontal_scaling_widen_the_box(self, tmp_path: Path) -> None:
        plain = _read(raw_pdf(tmp_path / "a.pdf", b"BT /F1 10 Tf 72 700 Td (a b c) Tj ET"))
        spaced = _read(
            raw_pdf(tmp_path / "b.pdf", b"BT /F1 10 Tf 5 Tw 50 Tz 72 700 Td (a b c) Tj ET")
        )

        width = plain.fragments[0].x1 - 72
        assert spaced.fragments[0].x1 - 72 == pytest.approx((width + 10) / 2)

    def test_a_superscript_keeps_its_rise_and_small_size(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf", b"BT /F1 10 Tf 72 700 Td (franchise) Tj /F1 6 Tf 4 Ts (1) Tj ET"
            )
        )

        word, call = content.fragments
        assert call.x0 == pytest.approx(word.x1)
        assert (call.y, call.size, call.rise) == (704.0, 6.0, 4.0)

    def test_reads_the_text_of_a_form_xobject_where_it_is_placed(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"q 1 0 0 1 10 20 cm /X1 Do Q",
                form=b"BT /F1 10 Tf 5 5 Td (Dans le formulaire) Tj ET",
            )
        )

        (fragment,) = content.fragments
        assert (fragment.text, fragment.x0, fragment.y) == ("Dans le formulaire", 115.0, 75.0)

    def test_applies_the_page_rotation(self, tmp_path: Path) -> None:
        # drawn turned a quarter in the content, upright on the page displayed with /Rotate 90
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"BT /F1 10 Tf 0 1 -1 0 300 100 Tm (Paysage) Tj ET",
                rotate=90,
            )
        )

        (fragment,) = content.fragments
        assert (content.width, content.height) == (842.0, 595.0)
        assert (fragment.text, fragment.x0, fragment.y) == ("Paysage", 100.0, 295.0)

    def test_counts_text_at_an_angle_without_recording_it(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(tmp_path / "p.pdf", b"BT /F1 10 Tf 0.7 0.7 -0.7 0.7 300 300 Tm (Tampon) Tj ET")
        )

        assert content.fragments == []
        assert content.skipped_chars == len("Tampon")

    def test_records_horizontal_rules_from_lines_and_rectangles(self, tmp_path: Path) -> None:
        content = _read(
            raw_pdf(
                tmp_path / "p.pdf",
                b"72 600 m 500 600 l S 72 500 400 20 re f "
                b"300 100 m 300 400 l S 72 450 m 90 460 l n",
            )
        )

        assert sorted((round(r.x0), round(r.x1), round(r.y)) for r in content.rules) == [
            (72, 472, 500), (72, 472, 520), (72, 500, 600),
        ]  # fmt: skip
