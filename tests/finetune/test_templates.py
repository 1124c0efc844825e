"""Question templates: section types recognised on sentences written for these tests (not
taken from the corpus), headings and product names read, and pairs whose answers are text of
their passage."""

import unicodedata

import pytest

from finetune.templates import (
    Heading,
    TemplateWriter,
    detect_kinds,
    looks_like_table,
    parse_heading,
    product_name,
    section_starts,
    standalone,
    statement_subject,
    units,
)
from knowledge.interfaces import Chunk

pytestmark = pytest.mark.unit

GLOSSARY = Heading(None, "Lexique", "Chapitre 1 — Définitions")
NO_HEADING = Heading(None, None)


def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", " ".join(text.lower().split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(" .")


class TestKinds:
    @pytest.mark.parametrize(
        ("sentence", "heading", "kind"),
        [
            (
                "Sinistre : tout événement susceptible d'engager une garantie.",
                GLOSSARY,
                "definition",
            ),
            ("Usure : la perte de valeur d'un objet due au temps.", NO_HEADING, "definition"),
            (
                "On entend par bénéficiaire la personne qui reçoit le capital.",
                NO_HEADING,
                "definition",
            ),
            ("Les dégâts causés par les rongeurs ne sont pas garantis.", NO_HEADING, "exclusion"),
            ("Les séjours de plus de six mois sont exclus.", NO_HEADING, "exclusion"),
            (
                "Un délai de carence de 60 jours s'applique aux maladies.",
                NO_HEADING,
                "waiting_period",
            ),
            ("Vous devez signaler le vol dans les 48 heures.", NO_HEADING, "deadline"),
            ("La demande est traitée sous 10 jours ouvrés.", NO_HEADING, "deadline"),
            ("Le plafond est fixé à 2 000 € par an et par animal.", NO_HEADING, "amount"),
            ("Les lunettes sont remboursées à 150 % de la base.", NO_HEADING, "percentage"),
            ("L'aide à domicile est accordée pendant 6 mois au plus.", NO_HEADING, "duration"),
            (
                "Le contrat est réservé aux personnes âgées de 20 à 65 ans.",
                NO_HEADING,
                "eligibility",
            ),
            ("La résiliation se fait par lettre recommandée au siège.", NO_HEADING, "procedure"),
            ("Nous prenons en charge le remorquage du véhicule.", NO_HEADING, "coverage"),
            ("En cas de grêle, le véhicule est expertisé sur place.", NO_HEADING, "condition"),
            ("Vous pouvez modifier la formule chaque année.", NO_HEADING, "possibility"),
            ("Le bonus accumulé reste acquis au conducteur.", NO_HEADING, "statement"),
        ],
    )
    def test_a_sentence_gets_its_most_specific_kind_first(
        self, sentence: str, heading: Heading, kind: str
    ) -> None:
        assert detect_kinds(sentence, heading)[0] == kind

    def test_an_exclusion_heading_makes_a_bare_list_item_an_exclusion(self) -> None:
        heading = Heading(None, "Ce que le contrat ne garantit pas")
        assert "exclusion" in detect_kinds("Les objets oubliés dans un taxi.", heading)

    def test_a_figure_after_a_label_is_not_a_definition(self) -> None:
        assert detect_kinds("Franchise vol : 250 € par sinistre.", NO_HEADING)[0] == "amount"

    @pytest.mark.parametrize(
        "sentence",
        [
            "Le contrat est solidaire : aucune question de santé ne vous est posée.",
            "Par exemple : la chute d'une tuile sur un passant.",
            "Assurez votre vélo ailleurs : le contrat ne le couvre pas.",
        ],
    )
    def test_a_clause_before_a_colon_is_not_a_term(self, sentence: str) -> None:
        assert "definition" not in detect_kinds(sentence, GLOSSARY)

    def test_an_ordinary_sentence_has_no_kind(self) -> None:
        assert detect_kinds("Merci de votre confiance.", NO_HEADING) == []


class TestText:
    def test_bullets_are_items(self) -> None:
        assert units("Sont exclus : • les amendes ; • les dégâts des eaux.") == [
            "Sont exclus :",
            "les amendes ;",
            "les dégâts des eaux.",
        ]

    @pytest.mark.parametrize(
        "row",
        [
            "Formule A 20 € 30 € Formule B 40 € 50 €",
            "Vol Oui Oui Non",
            "Bureau 1,00 Itinérant 1,20 Chantier 1,80",
            "Âge Formule A : oui Formule B : non Formule C : oui",
        ],
    )
    def test_a_table_row_is_not_a_sentence(self, row: str) -> None:
        assert looks_like_table(row)

    def test_a_sentence_with_a_figure_is_not_a_table(self) -> None:
        assert not looks_like_table("La franchise est de 90 € par sinistre (article L. 121-1).")

    @pytest.mark.parametrize(
        "sentence",
        [
            "Elle est versée chaque mois.",
            "Celle-ci peut être refusée.",
            "Pour cela, fournissez :",
            "Je soussigné(e) [nom] renonce au contrat.",
        ],
    )
    def test_a_sentence_that_needs_another_cannot_answer_alone(self, sentence: str) -> None:
        assert not standalone(sentence)

    def test_the_subject_of_a_statement(self) -> None:
        assert statement_subject("Le forfait hospitalier journalier est remboursé.") == (
            "Le forfait hospitalier journalier"
        )
        assert statement_subject("Nous remboursons le forfait.") is None


class TestHeadingsAndNames:
    @pytest.mark.parametrize(
        ("title", "name"),
        [
            ("Conditions générales Alizé Habitation", "Alizé Habitation"),
            ("Document d'information sur le produit d'assurance Alizé Vie Plus", "Alizé Vie Plus"),
            ("Notice d'information Alizé Accidents de la Vie", "Alizé Accidents de la Vie"),
        ],
    )
    def test_the_product_is_the_last_run_of_capitalised_words(self, title: str, name: str) -> None:
        assert product_name(title) == name

    def test_numbering_is_dropped_and_the_last_title_is_the_topic(self) -> None:
        heading = parse_heading("Chapitre 4 — Les garanties — Article 4.2 — Vol et vandalisme")
        assert heading == Heading(None, "Vol et vandalisme", heading.section)

    def test_a_title_wrapped_over_two_lines_is_joined(self) -> None:
        heading = parse_heading("Quand la garantie cesse-t-elle et — comment la prolonger ?")
        assert heading.question == "Quand la garantie cesse-t-elle et comment la prolonger ?"

    def test_a_table_header_and_a_figure_are_not_topics(self) -> None:
        assert parse_heading("Poste — Bronze — Argent — Or").topic is None
        assert parse_heading("Article 3 — 1 500 € par an").topic is None


def chunk(text: str, section: str, index: int = 0, page: int = 2) -> Chunk:
    return Chunk(
        chunk_id=f"alize.pdf#p{page}-{index}",
        document="alize.pdf",
        page=page,
        text=text,
        section=section,
        product_code="AL-HAB",
        metadata={"title": "Conditions générales Alizé Habitation"},
    )


class TestWriter:
    TEXT = (
        "Nous prenons en charge le remplacement des vitres brisées. "
        "La franchise est de 120 € par sinistre. "
        "Les rayures ne sont pas garanties."
    )

    def test_each_recognised_sentence_gives_a_question_naming_the_product(self) -> None:
        passage = chunk(self.TEXT, "Article 3.2 — Bris de glace")
        proposals = TemplateWriter().propose(passage)
        assert [p.kind for p in proposals] == ["coverage", "amount", "exclusion"]
        for proposal in proposals:
            assert "Alizé Habitation" in proposal.question
            assert proposal.question.endswith("?")
            assert folded(proposal.answer) in folded(passage.text)

    def test_an_amount_question_asks_for_the_clause_and_not_its_figure(self) -> None:
        passage = chunk(self.TEXT, "Article 3.2 — Bris de glace")
        amount = next(p for p in TemplateWriter().propose(passage) if p.kind == "amount")
        assert "120" not in amount.question
        assert "120 €" in amount.answer

    def test_the_first_passage_of_a_question_heading_answers_it(self) -> None:
        passage = chunk(
            "Non. Le contrat couvre la résidence principale seulement, pas les locations.",
            "Puis-je assurer un logement que je loue à des vacanciers ?",
        )
        faq = TemplateWriter().propose(passage, section_start=True)[0]
        assert faq.kind == "faq"
        assert "logement que je loue à des vacanciers" in faq.question
        assert faq.answer.startswith("Non. Le contrat couvre")

    def test_proposals_are_deterministic_and_capped(self) -> None:
        passage = chunk(self.TEXT, "Article 3.2 — Bris de glace")
        writer = TemplateWriter(max_per_context=2)
        assert writer.propose(passage) == writer.propose(passage)
        assert len(writer.propose(passage)) == 2

    def test_no_product_no_question(self) -> None:
        passage = Chunk("x#p1-0", "x.pdf", 1, self.TEXT, "Article 1 — Bris de glace")
        assert TemplateWriter().propose(passage) == []

    def test_section_starts_are_the_first_passage_of_each_run(self) -> None:
        chunks = [
            chunk("a", "Article 1", 0),
            chunk("b", "Article 1", 1),
            chunk("c", "Article 2", 2),
            chunk("d", "Article 1", 3),
        ]
        assert section_starts(chunks) == {c.chunk_id for c in (chunks[0], chunks[2], chunks[3])}
