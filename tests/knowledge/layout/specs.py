"""The generated layout set: short documents of different layouts and a 90-page booklet.

Each document differs in font, size, leading, margins, gutter, justification, table style,
footnote numbering and stream order, so that a reader tuned to one of them would show it.

- `LAYOUT_SET` and `BOOKLET`: the set the reader was developed on (and the tests run);
- `VARIANTS`: four more, written once the reader read the first set whole, to check it on
  layouts it had not seen; their failures were fixed (a row chaining offset columns, word spaces
  taken for a gutter), so they are development documents too;
- `HELD_OUT`: written last and run once, after the reader was frozen: its figures in
  docs/benchmarks.md are those of a reader that never saw them.
"""

from tests.knowledge.layout.builder import DocumentSpec, Style

LAYOUT_SET: tuple[DocumentSpec, ...] = (
    DocumentSpec(
        "notice-une-colonne",
        pages=8,
        seed=11,
        columns=(1,),
        style=Style(
            font="Times-Roman",
            size=10.5,
            leading=1.25,
            margin=62,
            table_style="grid",
            footnote_marker="number",
            stream="flow",
        ),
        annex_pages=2,
    ),
    DocumentSpec(
        "cg-deux-colonnes",
        pages=8,
        seed=12,
        columns=(2,),
        style=Style(
            size=9.5,
            leading=1.3,
            gutter=20,
            text_mode="ragged",
            table_style="stripes",
            stream="master",
        ),
        annex_pages=1,
    ),
    DocumentSpec(
        "cg-deux-colonnes-par-lignes",
        pages=8,
        seed=13,
        columns=(2,),
        style=Style(
            size=10,
            leading=1.2,
            gutter=16,
            text_mode="justified",
            table_style="bare",
            stream="rows",
        ),
        annex_pages=1,
    ),
    DocumentSpec(
        "depliant-trois-colonnes",
        pages=6,
        seed=14,
        columns=(3,),
        style=Style(
            size=9,
            leading=1.3,
            margin=40,
            gutter=14,
            text_mode="words",
            table_style="grid",
            stream="flow",
        ),
        table_share=0.4,
    ),
    DocumentSpec(
        "cg-desordre",
        pages=8,
        seed=15,
        columns=(1, 2),
        style=Style(
            font="Times-Roman",
            size=10.5,
            leading=1.3,
            gutter=22,
            text_mode="words",
            table_style="stripes",
            footnote_marker="number",
            stream="scrambled",
        ),
        annex_pages=1,
    ),
)

BOOKLET = DocumentSpec(
    "livret-90-pages",
    pages=90,
    seed=16,
    columns=(1, 2, 2, 3),
    style=Style(
        size=10,
        leading=1.3,
        gutter=18,
        text_mode="justified",
        table_style="stripes",
        stream="mixed",
    ),
    table_share=0.35,
    annex_pages=6,
)

VARIANTS: tuple[DocumentSpec, ...] = (
    DocumentSpec(
        "variante-deux-colonnes-times-mots",
        pages=8,
        seed=101,
        columns=(2,),
        style=Style(
            font="Times-Roman",
            size=9,
            leading=1.15,
            gutter=12,
            text_mode="words",
            table_style="grid",
            stream="rows",
        ),
    ),
    DocumentSpec(
        "variante-trois-colonnes-sans-filets",
        pages=8,
        seed=102,
        columns=(3,),
        style=Style(
            size=8.5,
            leading=1.25,
            margin=36,
            gutter=11,
            text_mode="ragged",
            table_style="bare",
            stream="scrambled",
        ),
        table_share=0.5,
    ),
    DocumentSpec(
        "variante-une-colonne-gros-corps",
        pages=8,
        seed=103,
        columns=(1,),
        style=Style(
            size=12,
            leading=1.4,
            margin=72,
            text_mode="justified",
            hyphenate=False,
            table_style="stripes",
            stream="master",
        ),
        annex_pages=2,
    ),
    DocumentSpec(
        "variante-grande-gouttiere",
        pages=8,
        seed=104,
        columns=(2, 1),
        style=Style(
            font="Times-Roman",
            size=11,
            leading=1.3,
            margin=40,
            gutter=30,
            text_mode="justified",
            table_style="bare",
            footnote_marker="number",
            stream="mixed",
        ),
        annex_pages=1,
    ),
)

HELD_OUT: tuple[DocumentSpec, ...] = (
    DocumentSpec(
        "reserve-deux-colonnes-petit-corps",
        pages=10,
        seed=201,
        columns=(2, 2, 1),
        style=Style(
            size=9,
            leading=1.2,
            margin=50,
            gutter=15,
            text_mode="ragged",
            table_style="grid",
            stream="master",
        ),
        annex_pages=1,
    ),
    DocumentSpec(
        "reserve-trois-colonnes-justifiees",
        pages=10,
        seed=202,
        columns=(3,),
        style=Style(
            font="Times-Roman",
            size=9.5,
            leading=1.25,
            margin=42,
            gutter=13,
            text_mode="justified",
            table_style="stripes",
            stream="rows",
        ),
        table_share=0.45,
    ),
    DocumentSpec(
        "reserve-mise-en-page-mixte",
        pages=10,
        seed=203,
        columns=(1, 2, 3),
        style=Style(
            size=10.5,
            leading=1.3,
            margin=54,
            gutter=19,
            text_mode="words",
            table_style="bare",
            footnote_marker="number",
            stream="scrambled",
        ),
        annex_pages=2,
    ),
    DocumentSpec(
        "reserve-une-colonne-serree",
        pages=10,
        seed=204,
        columns=(1,),
        style=Style(
            size=9,
            leading=1.15,
            margin=45,
            text_mode="justified",
            hyphenate=False,
            table_style="grid",
            stream="mixed",
        ),
        annex_pages=2,
    ),
)
