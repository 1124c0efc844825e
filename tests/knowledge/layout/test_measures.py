"""The measures of the layout set: edit distance, rows, footnotes and paragraphs found whole."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.knowledge.layout.builder import GoldPage, Unit
from tests.knowledge.layout.measures import edit_distance, score_page

pytestmark = pytest.mark.unit

PAGE = GoldPage(
    number=1,
    layout="1 column",
    stream="flow",
    units=[
        Unit("heading", "Article 2 — Franchises"),
        Unit("paragraph", "La franchise est de cent euros par sinistre."),
        Unit("row", "Garantie | Plafond", ("Garantie", "Plafond")),
        Unit("row", "Vol | 8 000 €", ("Vol", "8 000 €")),
        Unit("paragraph", "Elle ne s'applique pas au bris de glace."),
        Unit("footnote", "Au sens du Code des assurances.", number=1),
    ],
)
READ_WHOLE = """## Article 2 — Franchises
La franchise(1) est de cent euros par sinistre.

Garantie | Plafond
Vol | 8 000 €

Elle ne s'applique pas au bris de glace.

(1) Au sens du Code des assurances."""


def _levenshtein(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


class TestMeasures:
    @given(
        st.lists(st.sampled_from("abcd"), max_size=12),
        st.lists(st.sampled_from("abcd"), max_size=12),
    )
    def test_edit_distance_is_the_levenshtein_distance(self, a: list[str], b: list[str]) -> None:
        assert edit_distance(a, b) == _levenshtein(a, b)

    def test_a_page_read_whole_scores_full_marks(self) -> None:
        scores = score_page(PAGE, READ_WHOLE)

        assert (scores.order, scores.edits) == (1.0, 0)
        counts = (scores.paragraphs, scores.rows, scores.footnotes, scores.headings)
        assert [(c.found, c.total) for c in counts] == [(2, 2), (2, 2), (1, 1), (1, 1)]

    def test_a_row_split_over_two_lines_or_out_of_order_is_not_whole(self) -> None:
        split = READ_WHOLE.replace("Garantie | Plafond", "Garantie\nPlafond")
        swapped = READ_WHOLE.replace(
            "Garantie | Plafond\nVol | 8 000 €", "Vol | 8 000 €\nGarantie | Plafond"
        )

        assert score_page(PAGE, split).rows.found == 1
        assert score_page(PAGE, swapped).rows.found == 1

    def test_a_footnote_inside_a_line_of_the_body_is_not_apart(self) -> None:
        glued = READ_WHOLE.replace("bris de glace.\n\n(1) Au sens", "bris de glace. 1 Au sens")

        scores = score_page(PAGE, glued)

        assert scores.footnotes.found == 0
        assert scores.order == 1.0  # the words are still in order

    def test_paragraphs_read_in_the_wrong_order_cost_order_not_wholeness(self) -> None:
        lines = READ_WHOLE.split("\n")
        lines[1], lines[6] = lines[6], lines[1]

        scores = score_page(PAGE, "\n".join(lines))

        assert scores.order < 1.0
        assert scores.paragraphs.found == 2
