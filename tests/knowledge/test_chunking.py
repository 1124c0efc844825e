"""Chunking: size and overlap bounds, sentence boundaries, pages and section titles."""

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.chunking import SectionChunker, searchable_text, split_sentences
from knowledge.interfaces import Chunk, Page
from knowledge.text import split_sentences as text_sentences

pytestmark = pytest.mark.unit

SENTENCES = [
    "La garantie couvre les dommages causés aux tiers.",
    "Le vol est couvert en cas d'effraction constatée.",
    "La franchise est de 150 euros par sinistre.",
    "Les dommages intentionnels sont exclus.",
    "Le contrat se renouvelle chaque année par tacite reconduction.",
    "Vous pouvez résilier à tout moment après un an.",
]


class TestSplitSentences:
    def test_splits_at_sentence_ends_but_not_after_abbreviations(self) -> None:
        assert split_sentences("Voir art. 5 du contrat. Le montant est de 5 000 €. Fin !") == [
            "Voir art. 5 du contrat.",
            "Le montant est de 5 000 €.",
            "Fin !",
        ]


class TestSectionChunker:
    def test_chunks_carry_page_and_the_section_that_runs_across_pages(self) -> None:
        pages = [
            Page("cg.pdf", 1, "## Garanties\n" + " ".join(SENTENCES[:2])),
            Page(
                "cg.pdf", 2, " ".join(SENTENCES[2:4]) + "\nArticle 5 — Résiliation\n" + SENTENCES[5]
            ),
        ]

        chunks = SectionChunker(chunk_size=200, chunk_overlap=0).split(pages)

        assert [(c.page, c.section) for c in chunks] == [
            (1, "Garanties"),
            (2, "Garanties"),
            (2, "Article 5 — Résiliation"),
        ]
        assert chunks[2].text == SENTENCES[5]

    def test_headings_in_a_row_make_one_section_title(self) -> None:
        pages = [
            Page("ipid.pdf", 1, "## Qu'est-ce qui est assuré ?\n## Garanties prévues :\nLe vol.")
        ]

        chunks = SectionChunker().split(pages)

        assert chunks[0].section == "Qu'est-ce qui est assuré ? — Garanties prévues :"

    def test_table_rows_and_list_items_keep_their_own_lines(self) -> None:
        page = Page(
            "dic.pdf",
            1,
            "## Frais\nNature des frais | Montant\nFrais sur versements | Aucun\n"
            "Frais d'arbitrage | 0,50 % au-delà de quatre par an\n"
            "• Franchise vol : 10 % de la valeur. • Franchise incendie : 150 €.\n"
            "Le contrat est annuel. Il se renouvelle chaque année.",
        )

        [chunk] = SectionChunker(chunk_size=500, chunk_overlap=60).split([page])

        assert chunk.text.split("\n") == [
            "Nature des frais | Montant",
            "Frais sur versements | Aucun",
            "Frais d'arbitrage | 0,50 % au-delà de quatre par an",
            "• Franchise vol : 10 % de la valeur. • Franchise incendie : 150 €.",
            "Le contrat est annuel. Il se renouvelle chaque année.",
        ]
        # what the answers read: one row, one item, one sentence at a time
        assert text_sentences(chunk.text)[1:3] == [
            "Frais sur versements | Aucun",
            "Frais d'arbitrage | 0,50 % au-delà de quatre par an",
        ]

    def test_a_chunk_opening_on_the_overlap_keeps_the_line_breaks(self) -> None:
        rows = [f"Option {n} | {n * 10} € par mois, sans franchise" for n in range(1, 9)]
        page = Page("tarifs.pdf", 1, "\n".join(rows))

        chunks = SectionChunker(chunk_size=120, chunk_overlap=50).split([page])

        assert len(chunks) > 1
        for chunk in chunks:
            assert all(line in rows for line in chunk.text.split("\n"))

    def test_a_chunk_continuing_a_table_opens_on_its_header_row(self) -> None:
        header = "Formule | Plafond | Franchise"
        rows = [f"Option {n} | {n * 1000} € | {n * 10} €" for n in range(1, 13)]
        page = Page("tarifs.pdf", 1, "\n".join(["Tableau des garanties :", header, *rows]))

        chunks = SectionChunker(chunk_size=120, chunk_overlap=30).split([page])

        assert len(chunks) > 2
        assert chunks[0].text.split("\n")[:2] == ["Tableau des garanties :", header]
        for chunk in chunks[1:]:
            lines = chunk.text.split("\n")
            assert lines[0] == header
            assert lines.count(header) == 1
            assert all(line in rows for line in lines[1:])
        # every row is still in a chunk
        assert {line for chunk in chunks for line in chunk.text.split("\n")} >= set(rows)

    def test_a_table_continuing_on_the_next_page_keeps_its_header(self) -> None:
        header = "Âge | Capital | Formalités"
        first = Page(
            "sante.pdf",
            3,
            f"Formalités médicales :\n{header}\nJusqu'à 45 ans | 200 000 € | Questionnaire",
        )
        same = Page("sante.pdf", 4, "De 46 à 60 ans | 100 000 € | Examen\nLe contrat prend effet.")
        repeated = Page("sante.pdf", 4, f"{header}\nDe 46 à 60 ans | 100 000 € | Examen")
        other = Page("sante.pdf", 4, "Garantie | Montant\nDécès | 100 %")
        chunker = SectionChunker(chunk_size=500, chunk_overlap=60)

        assert chunker.split([first, same])[1].text.split("\n") == [
            header,
            "De 46 à 60 ans | 100 000 € | Examen",
            "Le contrat prend effet.",
        ]
        assert chunker.split([first, repeated])[1].text.split("\n").count(header) == 1
        # another number of cells: another table, whose first row is its header
        assert chunker.split([first, other])[1].text == other.text

    def test_a_line_of_text_after_a_table_ends_it(self) -> None:
        page = Page(
            "cg.pdf",
            1,
            "Poste | Initial\nVerres | 60 €\nLe renouvellement est annuel.",
        )
        following = Page("cg.pdf", 2, "Lentilles | 50 €")
        chunks = SectionChunker(chunk_size=500, chunk_overlap=60).split([page, following])

        assert chunks[1].text == "Lentilles | 50 €"

    def test_cuts_at_sentence_boundaries_within_the_size(self) -> None:
        chunks = SectionChunker(chunk_size=110, chunk_overlap=0).split(
            [Page("d.pdf", 1, " ".join(SENTENCES))]
        )

        for chunk in chunks:
            assert len(chunk.text) <= 110
            assert chunk.text.endswith(".")
        assert " ".join(chunk.text for chunk in chunks) == " ".join(SENTENCES)

    def test_next_chunk_opens_with_the_end_of_the_previous_one(self) -> None:
        chunks = SectionChunker(chunk_size=120, chunk_overlap=55).split(
            [Page("d.pdf", 1, " ".join(SENTENCES))]
        )

        assert len(chunks) >= 3
        for previous, following in itertools.pairwise(chunks):
            last_sentence = split_sentences(previous.text)[-1]
            if len(last_sentence) <= 55:
                assert following.text.startswith(last_sentence)

    def test_cuts_a_sentence_longer_than_a_chunk_at_word_boundaries(self) -> None:
        words = ["indemnisation"] * 40
        chunks = SectionChunker(chunk_size=100, chunk_overlap=10).split(
            [Page("d.pdf", 1, " ".join(words) + ".")]
        )

        assert all(len(chunk.text) <= 100 for chunk in chunks)
        assert sum(chunk.text.count("indemnisation") for chunk in chunks) == 40

    def test_pages_without_text_give_no_chunk(self) -> None:
        chunks = SectionChunker().split([Page("d.pdf", 1, ""), Page("d.pdf", 2, "## Titre\n")])

        assert chunks == []

    def test_chunk_ids_are_unique_and_stable(self) -> None:
        pages = [Page("d.pdf", 1, " ".join(SENTENCES)), Page("d.pdf", 2, " ".join(SENTENCES))]
        chunker = SectionChunker(chunk_size=100, chunk_overlap=20)

        first, second = chunker.split(pages), chunker.split(pages)

        assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
        assert len({c.chunk_id for c in first}) == len(first)

    def test_measures_in_tokens_when_given_a_counting_function(self) -> None:
        def words(text: str) -> int:
            return len(text.split())

        chunks = SectionChunker(chunk_size=20, chunk_overlap=5, length=words).split(
            [Page("d.pdf", 1, " ".join(SENTENCES))]
        )

        assert all(words(chunk.text) <= 20 for chunk in chunks)
        assert len(chunks) > 1

    @pytest.mark.parametrize(("size", "overlap"), [(10, 0), (100, 50), (100, -1)])
    def test_refuses_inconsistent_sizes(self, size: int, overlap: int) -> None:
        with pytest.raises(ValueError, match="chunk_"):
            SectionChunker(chunk_size=size, chunk_overlap=overlap)


WORD = st.text(alphabet="abcdéèàçxyz", min_size=1, max_size=25)
LINE = st.lists(WORD, min_size=1, max_size=60).map(" ".join).map(lambda s: s + ".")
ROW = st.lists(WORD, min_size=2, max_size=4).map(" | ".join)
PAGE_TEXT = st.lists(
    st.one_of(LINE, ROW, WORD.map(lambda w: f"## {w}")), min_size=0, max_size=12
).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(PAGE_TEXT, min_size=1, max_size=4),
    size=st.integers(min_value=20, max_value=400),
    overlap_share=st.floats(min_value=0.0, max_value=0.49),
)
def test_chunks_respect_the_size_are_never_empty_and_keep_every_word(
    texts: list[str], size: int, overlap_share: float
) -> None:
    overlap = min(int(size * overlap_share), size // 2 - 1)
    pages = [Page("d.pdf", number, text) for number, text in enumerate(texts, start=1)]

    chunks = SectionChunker(chunk_size=size, chunk_overlap=overlap).split(pages)

    for chunk in chunks:
        assert 0 < len(chunk.text) <= size
        assert chunk.text.strip() == chunk.text
    body = Counter(
        char
        for page in pages
        for line in page.text.split("\n")
        if not line.startswith("#")
        for char in line
        if not char.isspace()
    )
    chunked = Counter(char for chunk in chunks for char in chunk.text if not char.isspace())
    assert chunked >= body  # nothing lost; the overlap may repeat text, never drop it


def test_searchable_text_puts_title_and_section_before_the_passage() -> None:
    chunk = Chunk(
        "id", "cg.pdf", 1, "Sont exclus…", section="Exclusions", metadata={"title": "CG Auto"}
    )

    assert searchable_text(chunk) == "CG Auto — Exclusions\nSont exclus…"
