"""Layout analysis: pages of fragments at known places read back in reading order."""

from collections.abc import Iterable

import pytest

from knowledge.pdf_content import Fragment, PageContent, Rule
from knowledge.pdf_layout import Block, PageAnalyser, page_text

pytestmark = pytest.mark.unit

BODY = 10.0
LEFT, RIGHT = 50.0, 310.0  # the two columns of a page, 240 points wide, gutter 20 points


def fragment(
    text: str, x: float, y: float, size: float = BODY, *, bold: bool = False, rise: float = 0.0
) -> Fragment:
    """A fragment as wide as its text set at half an em a character."""
    return Fragment(text, x, x + 0.5 * size * len(text), y + rise, size, bold, rise)


def column(x: float, top: float, lines: Iterable[str], pitch: float = 13.0) -> list[Fragment]:
    return [fragment(line, x, top - i * pitch) for i, line in enumerate(lines)]


def analyse(
    fragments: Iterable[Fragment], rules: Iterable[Rule] = (), page: int = 1
) -> list[Block]:
    content = PageContent(list(fragments), list(rules), 595.0, 842.0)
    return PageAnalyser(BODY).blocks(content, page)


def texts(blocks: list[Block]) -> list[str]:
    return [block.text for block in blocks if block.kind != "break"]


LEFT_LINES = [f"gauche ligne {i} du texte qui continue ici" for i in range(1, 7)]
RIGHT_LINES = [f"droite ligne {i} du texte qui continue là" for i in range(1, 7)]


class TestColumns:
    def test_reads_two_columns_one_after_the_other_whatever_the_drawing_order(self) -> None:
        left = column(LEFT, 700, LEFT_LINES)
        right = column(RIGHT, 700, RIGHT_LINES)
        interleaved = [f for pair in zip(left, right, strict=True) for f in pair]

        assert texts(analyse(interleaved)) == LEFT_LINES + RIGHT_LINES
        assert texts(analyse(right + left)) == LEFT_LINES + RIGHT_LINES

    def test_columns_whose_baselines_do_not_line_up_are_still_columns(self) -> None:
        left = column(LEFT, 700, LEFT_LINES)
        right = column(RIGHT, 694, RIGHT_LINES)

        assert texts(analyse(left + right)) == LEFT_LINES + RIGHT_LINES

    def test_title_above_and_running_header_and_footer_keep_their_places(self) -> None:
        header = fragment("Conditions générales", 440, 810, 8)
        title = fragment("Chapitre II — Les garanties de vos biens", 50, 760, 16, bold=True)
        footer = fragment("page 3 sur 12", 270, 30, 8)
        body = column(LEFT, 720, LEFT_LINES) + column(RIGHT, 720, RIGHT_LINES)

        blocks = analyse([footer, *body, header, title])

        assert texts(blocks) == [
            "Conditions générales",
            "Chapitre II — Les garanties de vos biens",
            *LEFT_LINES,
            *RIGHT_LINES,
            "page 3 sur 12",
        ]
        assert (blocks[0].kind, blocks[1].kind, blocks[1].level) == ("furniture", "heading", 1)

    def test_a_column_holding_one_line_is_read_after_the_first(self) -> None:
        # the end of a paragraph carried over to the top of the second column, a little higher
        # than the first column's heading
        heading = fragment("Article 3.1 — Règlement", LEFT, 729, bold=True)
        left = column(LEFT, 711, LEFT_LINES)
        carried = fragment("disposition contraire du contrat.", RIGHT, 737)

        assert texts(analyse([carried, heading, *left])) == [
            "Article 3.1 — Règlement", *LEFT_LINES, "disposition contraire du contrat.",
        ]  # fmt: skip

    def test_word_spaces_that_line_up_do_not_split_justified_text(self) -> None:
        # three justified lines drawn word by word whose fourth spaces line up (a "river")
        rows = [
            ["Les", "garanties", "du", "contrat", "couvrent", "vos", "biens"],
            ["dans", "la", "limite", "des", "plafonds", "prévus", "ici"],
            ["pour", "chaque", "sinistre", "déclaré", "dans", "les", "délais"],
        ]
        fragments = []
        for line, words in enumerate(rows):
            x = LEFT
            for word in words:
                fragments.append(fragment(word, x, 700 - 13 * line))
                x += 5 * len(word) + 8
            if line < 2:  # line up the space before the fifth word
                fragments[-3:] = [
                    Fragment(f.text, f.x0 + 4, f.x1 + 4, f.y, f.size, f.bold)
                    for f in fragments[-3:]
                ]

        assert texts(analyse(fragments)) == [" ".join(words) for words in rows]

    def test_list_bullets_stay_with_their_items(self) -> None:
        items = ["vol par effraction", "incendie et explosion", "dégâts des eaux"]
        fragments = [f for i, item in enumerate(items) for f in (
            fragment("•", LEFT, 700 - 13 * i), fragment(item, LEFT + 15, 700 - 13 * i),
        )]  # fmt: skip

        assert texts(analyse(fragments)) == [f"• {item}" for item in items]


class TestTables:
    def test_a_table_row_is_one_line_its_cells_in_order(self) -> None:
        rows = [
            (["Garantie"], ["Plafond"], ["Franchise"]),
            (["Dégâts des eaux"], ["3 000 €"], ["150 €"]),
            (["Vol par effraction", "des objets de valeur"], ["8 000 €"], ["300 €"]),
            (["Bris de glace"], ["1 500 €"], ["aucune"]),
        ]
        fragments, rules, y = [], [], 700.0
        for row in rows:
            for x, cell in zip((60.0, 260.0, 400.0), row, strict=True):
                fragments += column(x, y, cell, pitch=11)
            height = 11 * max(len(cell) for cell in row) + 8
            rules.append(Rule(50, 520, y + 11))
            y -= height
        rules.append(Rule(50, 520, y + 11))

        blocks = analyse(reversed(fragments), rules)

        assert [b.text for b in blocks if b.kind == "row"] == [
            "Garantie | Plafond | Franchise",
            "Dégâts des eaux | 3 000 € | 150 €",
            "Vol par effraction des objets de valeur | 8 000 € | 300 €",
            "Bris de glace | 1 500 € | aucune",
        ]

    def test_a_table_without_rules_is_found_from_its_narrow_column(self) -> None:
        fragments = []
        for i, (label, value) in enumerate(
            [("Franchise générale", "150 €"), ("Franchise vol", "300 €"), ("Plafond", "8 000 €")]
        ):
            fragments += [fragment(label, LEFT, 700 - 18 * i), fragment(value, 300, 700 - 18 * i)]

        assert texts(analyse(fragments)) == [
            "Franchise générale | 150 €", "Franchise vol | 300 €", "Plafond | 8 000 €",
        ]  # fmt: skip

    def test_the_last_line_of_a_paragraph_above_a_table_is_not_one_of_its_rows(self) -> None:
        paragraph = [
            fragment("Le tableau suivant donne les plafonds de chaque garantie du", LEFT, 720),
            fragment("contrat :", LEFT, 707),
        ]
        table = []
        for i, (label, value) in enumerate([("Garantie", "Plafond"), ("Vol", "8 000 €")]):
            table += [fragment(label, LEFT, 685 - 14 * i), fragment(value, 300, 685 - 14 * i)]
        rules = [Rule(45, 360, 696), Rule(45, 360, 681), Rule(45, 360, 667)]

        blocks = analyse(paragraph + table, rules)

        assert [(b.kind, b.text) for b in blocks] == [
            ("line", "Le tableau suivant donne les plafonds de chaque garantie du"),
            ("line", "contrat :"),
            ("break", ""),
            ("row", "Garantie | Plafond"),
            ("row", "Vol | 8 000 €"),
            ("break", ""),
        ]

    def test_a_table_in_one_column_beside_running_text(self) -> None:
        table = []
        for i, (label, value) in enumerate(
            [("Garantie", "Délai"), ("Vol", "2 jours"), ("Incendie", "5 jours")]
        ):
            table += [fragment(label, LEFT, 700 - 16 * i), fragment(value, 200, 700 - 16 * i)]
        right = column(RIGHT, 700, RIGHT_LINES)

        assert texts(analyse(table + right)) == [
            "Garantie | Délai", "Vol | 2 jours", "Incendie | 5 jours", *RIGHT_LINES,
        ]  # fmt: skip


class TestFootnotes:
    def test_footnotes_follow_the_body_as_their_own_paragraphs(self) -> None:
        body = [
            fragment("La franchise", LEFT, 700),
            fragment("1", LEFT + 62, 700, 6, rise=4),
            fragment("est de 150 € par sinistre.", LEFT + 68, 700),
            *column(LEFT, 687, ["Elle ne s'applique pas au bris de glace, ni aux frais"]),
        ]
        notes = [
            fragment("1", LEFT, 80, 5, rise=3),
            fragment(
                "Au sens de l'article L. 121-1 du Code des assurances, révisée", LEFT + 5, 80, 8
            ),
            fragment("chaque année.", LEFT + 5, 70, 8),
        ]

        blocks = analyse(notes + body)

        assert [(b.kind, b.text) for b in blocks] == [
            ("line", "La franchise(1) est de 150 € par sinistre."),
            ("line", "Elle ne s'applique pas au bris de glace, ni aux frais"),
            ("footnote", "(1) Au sens de l'article L. 121-1 du Code des assurances, révisée "
                         "chaque année."),
        ]  # fmt: skip
        assert page_text(blocks).endswith(
            "ni aux frais\n\n(1) Au sens de l'article L. 121-1 du Code des assurances, "
            "révisée chaque année."
        )

    def test_a_call_beside_a_line_of_the_other_column_stays_with_its_word(self) -> None:
        left = [
            fragment("Passé ce délai, la", LEFT, 692.2),
            fragment("5", LEFT + 90, 692.2, 6.5, rise=3.7),
            fragment("mutuelle peut opposer", LEFT + 95, 692.2),
            *column(LEFT, 679.2, LEFT_LINES[:3]),
        ]
        right = [  # baselines 3.3 points higher, the first line drawn word by word
            fragment("couverts", RIGHT, 695.5),
            fragment("contre le vol", RIGHT + 45, 695.5),
            fragment("que lorsque", RIGHT + 115, 695.5),
            *column(RIGHT, 682.5, RIGHT_LINES[1:4]),
        ]
        notes = [fragment("5 Voir l'annexe 1 pour la liste des pièces.", LEFT, 100, 8)]

        blocks = analyse(left + right + notes)

        assert texts(blocks)[:5] == [
            "Passé ce délai, la(5) mutuelle peut opposer", *LEFT_LINES[:3],
            "couverts contre le vol que lorsque",
        ]  # fmt: skip
        assert (blocks[-1].kind, blocks[-1].text) == (
            "footnote", "(5) Voir l'annexe 1 pour la liste des pièces.",
        )  # fmt: skip

    def test_small_print_that_starts_with_a_number_no_one_calls_stays_in_the_body(self) -> None:
        body = column(LEFT, 700, LEFT_LINES[:3])
        small = [fragment("1 exemplaire est remis à l'adhérent.", LEFT, 660, 8)]

        blocks = analyse(body + small)

        assert [(b.kind, b.text) for b in blocks][-1] == (
            "line", "1 exemplaire est remis à l'adhérent.",
        )  # fmt: skip


class TestLines:
    def test_marks_headings_and_joins_a_heading_that_wraps(self) -> None:
        blocks = analyse(
            [
                fragment("Conditions générales Habitation", LEFT, 760, 16, bold=True),
                fragment("Article 4.2 — Franchises", LEFT, 730, bold=True),
                fragment("applicables", LEFT, 717, bold=True),
                fragment("Une franchise reste à votre charge.", LEFT, 700),
            ]
        )

        assert page_text(blocks).split("\n") == [
            "# Conditions générales Habitation",
            "## Article 4.2 — Franchises applicables",
            "Une franchise reste à votre charge.",
        ]

    def test_every_block_keeps_its_page(self) -> None:
        blocks = analyse(column(LEFT, 700, LEFT_LINES), page=37)

        assert {block.page for block in blocks} == {37}
