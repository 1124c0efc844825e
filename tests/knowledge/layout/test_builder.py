"""The generator of the layout set: its gold text is the text it draws."""

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pypdf
import pytest

from knowledge.cleaning import TextCleaner
from knowledge.readers import PdfReader
from tests.knowledge.layout.builder import DocumentSpec, Stream, Style, build
from tests.knowledge.layout.measures import score_document, words
from tests.knowledge.layout.specs import LAYOUT_SET

pytestmark = pytest.mark.unit

ONE_COLUMN = LAYOUT_SET[0]  # drawn in reading order: the plain extraction reads it as it is


def _drawn_words(path: Path) -> Counter[str]:
    return Counter(w for page in pypdf.PdfReader(path).pages for w in words(page.extract_text()))


class TestComposer:
    def test_the_gold_text_is_the_text_drawn(self, tmp_path: Path) -> None:
        path, gold = build(ONE_COLUMN, tmp_path)

        scores = score_document(gold, TextCleaner().clean(PdfReader(layout=False).read(path)))

        assert scores.edits == 0
        assert {unit.kind for page in gold.pages for unit in page.units} == {
            "title", "heading", "paragraph", "row", "footnote",
        }  # fmt: skip

    def test_a_spec_always_gives_the_same_document(self, tmp_path: Path) -> None:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()

        first, first_gold = build(ONE_COLUMN, tmp_path / "a")
        second, second_gold = build(ONE_COLUMN, tmp_path / "b")

        assert first.read_bytes() == second.read_bytes()
        assert first_gold == second_gold

    def test_stream_orders_draw_the_same_words_in_another_order(self, tmp_path: Path) -> None:
        def variant(stream: Stream) -> DocumentSpec:
            return replace(ONE_COLUMN, name=stream, style=replace(ONE_COLUMN.style, stream=stream))

        flow, flow_gold = build(variant("flow"), tmp_path)
        scrambled, scrambled_gold = build(variant("scrambled"), tmp_path)

        assert [p.units for p in flow_gold.pages] == [p.units for p in scrambled_gold.pages]
        assert _drawn_words(flow) == _drawn_words(scrambled)
        assert flow.read_bytes() != scrambled.read_bytes()

    def test_hyphenates_line_ends_only_when_asked(self, tmp_path: Path) -> None:
        def split_words(hyphenate: bool) -> set[str]:
            spec = replace(
                ONE_COLUMN,
                name=f"hyphens-{hyphenate}",
                style=replace(ONE_COLUMN.style, hyphenate=hyphenate),
            )
            path, gold = build(spec, tmp_path)
            text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
            drawn = {a + b for a, b in re.findall(r"(\w+)-\n(\w+)", text)}
            gold_words = {w for page in gold.pages for u in page.units for w in u.text.split()}
            return drawn & gold_words

        assert split_words(hyphenate=True)
        assert not split_words(hyphenate=False)

    def test_pages_have_the_columns_of_their_spec(self, tmp_path: Path) -> None:
        spec = DocumentSpec("trois", pages=3, seed=3, columns=(3,), style=Style(size=9))

        _, gold = build(spec, tmp_path)

        assert [page.layout.split(" ")[0] for page in gold.pages] == ["3", "3", "3"]
        assert len(pypdf.PdfReader(tmp_path / "trois.pdf").pages) == 3
