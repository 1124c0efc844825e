"""Extractive answers: which sentences of a passage are shown, and the quantity preference."""

import pytest

from knowledge.extractive import (
    asks_for_quantity,
    best_sentences,
    extractive_answer,
    labelled_row,
)
from knowledge.interfaces import Chunk, ScoredChunk

pytestmark = pytest.mark.unit


def scored(text: str, document: str = "doc.pdf", page: int = 1, score: float = 1.0) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{document}#{page}", document, page, text), score)


@pytest.mark.parametrize(
    "question",
    [
        "Combien de temps faut-il attendre avant d'être remboursé ?",
        "Au bout de combien de jours suis-je indemnisé ?",
        "jusqu'à quel âge on peut adhérer",
        "Quelle est la franchise pour un vol de scooter ?",
        "Quel serait le montant maximum pris en charge ?",
        "quand est-ce que ma couverture commence",
        "Le plafond du remboursement des frais vétérinaires ?",
    ],
)
def test_questions_that_ask_for_an_amount_a_duration_or_a_date(question: str) -> None:
    assert asks_for_quantity(question)


@pytest.mark.parametrize(
    "question",
    [
        "Est-ce que le vol est couvert ?",
        "Quelles sont les exclusions du contrat ?",
        "Qui peut être assuré ?",
        "Comment déclarer un sinistre ?",
        "Que faire en cas de panne ?",
    ],
)
def test_questions_that_do_not(question: str) -> None:
    assert not asks_for_quantity(question)


class TestBestSentences:
    def test_a_question_asking_for_a_duration_prefers_the_sentence_that_states_one(self) -> None:
        passage = (
            "Le remboursement est effectué par virement. Le remboursement intervient sous 15 jours."
        )
        asked = best_sentences("Quel est le délai de remboursement ?", scored(passage), limit=1)
        assert asked.sentences == ("Le remboursement intervient sous 15 jours.",)
        how = best_sentences("Comment se passe le remboursement ?", scored(passage), limit=1)
        assert how.sentences == ("Le remboursement est effectué par virement.",)

    def test_a_bare_number_is_not_a_quantity(self) -> None:
        passage = (
            "Le contrat prend effet à 0 h le lendemain de la signature, article 4.2. "
            "La garantie prend effet le lendemain de la signature."
        )
        extract = best_sentences("Quand la garantie prend-elle effet ?", scored(passage), limit=1)
        assert extract.sentences == ("La garantie prend effet le lendemain de la signature.",)

    def test_other_questions_are_scored_on_shared_words_alone(self) -> None:
        passage = (
            "Le vol est couvert dans la formule Confort, avec une franchise de 150 €. "
            "Le vol est couvert."
        )
        extract = best_sentences("Le vol est-il couvert ?", scored(passage), limit=1)
        assert extract.sentences == ("Le vol est couvert.",)

    def test_the_chosen_sentences_keep_their_document_order(self) -> None:
        passage = "La franchise est de 150 €. Elle ne s'applique pas au bris de glace. Fin."
        extract = best_sentences("Quelle est la franchise du bris de glace ?", scored(passage))
        assert extract.sentences == (
            "La franchise est de 150 €.",
            "Elle ne s'applique pas au bris de glace.",
        )


def test_the_answer_is_one_sentence_of_the_best_passage() -> None:
    chunks = [
        scored("Aucune franchise n'est appliquée en cas de vol.", "a.pdf", 2, 0.9),
        scored(
            "La franchise vol est de 300 € par sinistre. Elle est doublée en cas de vol sans "
            "effraction de la franchise prévue.",
            "b.pdf",
            5,
            0.8,
        ),
    ]
    text, extract = extractive_answer("Quel est le montant de la franchise vol ?", chunks)
    assert extract is not None
    # The document's own sentence; its document and page are the extract's (the chat cites them).
    assert text == "La franchise vol est de 300 € par sinistre."
    assert (extract.chunk.chunk.document, extract.chunk.chunk.page) == ("b.pdf", 5)
    assert extractive_answer("Quelle franchise ?", []) == ("", None)


class TestTableRows:
    TABLE = (
        "Les remboursements de l'audition sont les suivants.\n"
        "Poste | Initial | Confort\n"
        "Aides auditives classe I | Sans reste à charge | Sans reste à charge\n"
        "Aides auditives classe II (délai d'attente de 180 jours) | 400 € | 1 000 €\n"
        "Le renouvellement est possible tous les quatre ans."
    )

    def test_a_row_quoted_alone_names_its_columns(self) -> None:
        text, _ = extractive_answer(
            "combien pour des aides auditives classe II en formule confort ?", [scored(self.TABLE)]
        )
        assert text == (
            "Aides auditives classe II (délai d'attente de 180 jours) — Initial : 400 € ; "
            "Confort : 1 000 €"
        )

    def test_the_header_row_and_plain_sentences_are_quoted_as_written(self) -> None:
        plain = "Le renouvellement est possible tous les quatre ans."
        for line in ("Poste | Initial | Confort", plain):
            assert labelled_row(self.TABLE, line) == line

    def test_a_passage_opening_on_rows_opens_on_the_header_the_chunker_repeats(self) -> None:
        cut = "Poste | Initial | Confort\nLentilles | 50 € | 80 €"
        assert labelled_row(cut, "Lentilles | 50 € | 80 €") == (
            "Lentilles — Initial : 50 € ; Confort : 80 €"
        )
        assert labelled_row(cut, "Poste | Initial | Confort") == "Poste | Initial | Confort"

    def test_a_row_with_another_number_of_cells_than_the_header_is_left_alone(self) -> None:
        passage = "Tarifs.\nPoste | Initial | Confort\nDivers | 10 €"
        assert labelled_row(passage, "Divers | 10 €") == "Divers | 10 €"

    def test_empty_cells_are_left_out_and_unnamed_columns_keep_their_value(self) -> None:
        passage = "Tarifs.\nPoste |  | Confort\nVerres | 60 € | \nMonture | 30 € | 90 €"
        assert labelled_row(passage, "Verres | 60 € | ") == "Verres — 60 €"
        assert labelled_row(passage, "Monture | 30 € | 90 €") == "Monture — 30 € ; Confort : 90 €"
