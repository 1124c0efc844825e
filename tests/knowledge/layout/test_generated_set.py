"""The PDF reader against the generated layout set: reading order, table rows, footnotes."""

from pathlib import Path

import pytest

from knowledge.cleaning import TextCleaner
from knowledge.interfaces import Page
from knowledge.readers import PdfReader
from tests.knowledge.layout.builder import GoldDocument, build
from tests.knowledge.layout.measures import Scores, score_document
from tests.knowledge.layout.specs import BOOKLET, LAYOUT_SET

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, GoldDocument]]:
    directory = tmp_path_factory.mktemp("layout-set")
    return {spec.name: build(spec, directory) for spec in LAYOUT_SET}


def read(path: Path, *, layout: bool) -> list[Page]:
    return TextCleaner().clean(PdfReader(layout=layout).read(path))


def assert_read_whole(scores: Scores) -> None:
    assert scores.order >= 0.99, scores
    assert scores.paragraphs.share >= 0.98, scores.paragraphs
    assert scores.rows.share >= 0.95, scores.rows
    assert scores.footnotes.share == 1.0, scores.footnotes
    assert scores.headings.share >= 0.95, scores.headings


class TestLayoutReaderOnTheGeneratedSet:
    @pytest.mark.parametrize("name", [spec.name for spec in LAYOUT_SET])
    def test_reads_the_document_in_order_with_table_rows_and_footnotes_whole(
        self, generated: dict[str, tuple[Path, GoldDocument]], name: str
    ) -> None:
        path, gold = generated[name]

        assert_read_whole(score_document(gold, read(path, layout=True)))

    @pytest.mark.parametrize("name", ["cg-deux-colonnes-par-lignes", "cg-desordre"])
    def test_the_stream_order_is_not_the_reading_order_there(
        self, generated: dict[str, tuple[Path, GoldDocument]], name: str
    ) -> None:
        # what makes the set hard: pypdf's plain extraction follows the drawing order
        path, gold = generated[name]

        plain = score_document(gold, read(path, layout=False))

        assert plain.order < 0.8
        assert plain.rows.share < 0.5

    def test_the_plain_extraction_glues_footnotes_and_splits_table_rows_even_in_order(
        self, generated: dict[str, tuple[Path, GoldDocument]]
    ) -> None:
        path, gold = generated["notice-une-colonne"]  # drawn in reading order, footnotes "1 …"

        plain = score_document(gold, read(path, layout=False))
        layout = score_document(gold, read(path, layout=True))

        assert plain.footnotes.found < layout.footnotes.found == layout.footnotes.total
        assert plain.rows.found < layout.rows.found


class TestBooklet:
    def test_reads_the_90_page_booklet_in_order_keeping_every_page_number(
        self, tmp_path: Path
    ) -> None:
        path, gold = build(BOOKLET, tmp_path)

        pages = read(path, layout=True)

        assert [page.page for page in pages] == list(range(1, 91))
        assert_read_whole(score_document(gold, pages))
