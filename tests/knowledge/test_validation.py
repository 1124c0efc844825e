import pytest

from knowledge.validation import AnswerValidator, Verdict

pytestmark = pytest.mark.unit

PASSAGES = [
    "La franchise dégâts des eaux est de 150 euros par sinistre. Le délai de déclaration est "
    "de cinq jours ouvrés à compter de la découverte du sinistre.",
]


class TestAnswerValidator:
    def test_faithful_answer_is_accepted(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise pour un dégât des eaux ?",
            "La franchise dégâts des eaux est de 150 euros par sinistre [1].",
            PASSAGES,
        )
        assert verdict.accepted, verdict

    def test_number_written_in_words_matches_digits(self):
        verdict = AnswerValidator().validate(
            "Délai de déclaration ?",
            "Vous avez 5 jours ouvrés pour déclarer le sinistre.",
            PASSAGES,
        )
        assert verdict.accepted, verdict

    def test_wrong_amount_is_rejected_with_the_figure(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise ?", "La franchise dégâts des eaux est de 300 euros.", PASSAGES
        )
        assert not verdict.accepted
        assert verdict.unsupported_numbers == ("300",)
        assert "300" in verdict.reason

    def test_facts_of_another_product_are_rejected(self):
        verdict = AnswerValidator().validate(
            "Quelle franchise ?",
            "Les frais vétérinaires de votre chien sont remboursés après une carence.",
            PASSAGES,
        )
        assert not verdict.accepted

    def test_empty_answer_is_rejected(self):
        assert not AnswerValidator().validate("Quelle franchise ?", "", PASSAGES).accepted


def test_figure_present_with_another_unit_is_rejected():
    verdict = AnswerValidator().validate(
        "Quel délai de déclaration ?", "Vous avez 150 jours pour déclarer le sinistre.", PASSAGES
    )
    assert not verdict.accepted
    assert verdict.unsupported_numbers == ("150 jour",)


def _verdict(answer: str, passage: str, question: str = "Est-ce couvert ?") -> "Verdict":
    return AnswerValidator().validate(question, answer, [passage])


class TestPolarity:
    """An answer that says the opposite of its passage is rejected; one that agrees, negation
    included, is accepted."""

    def test_affirming_what_the_passage_negates_is_rejected_with_both_sentences(self):
        passage = "Le bris de glace n'est pas couvert en formule Tiers."
        verdict = _verdict("Le bris de glace est couvert en formule Tiers.", passage)
        assert not verdict.accepted
        assert verdict.contradictions
        assert "contraire" in verdict.reason
        assert "formule Tiers" in verdict.reason

    def test_negating_what_the_passage_affirms_is_rejected(self):
        passage = "Les frais d'obsèques sont remboursés dans la limite du capital choisi."
        verdict = _verdict("Les frais d'obsèques ne sont jamais remboursés.", passage)
        assert verdict.contradictions

    def test_synonyms_of_coverage_are_one_claim(self):
        passage = "Les objets de valeur sont exclus de la garantie vol."
        assert _verdict(
            "Les objets de valeur sont pris en charge par la garantie vol.", passage
        ).contradictions
        assert _verdict(
            "Les objets de valeur ne sont pas garantis en cas de vol.", passage
        ).accepted

    def test_a_negation_the_passage_also_holds_is_accepted(self):
        passage = "Aucun remboursement n'est prévu pour les lentilles jetables."
        assert _verdict(
            "Les lentilles jetables ne donnent lieu à aucun remboursement.", passage
        ).accepted

    def test_a_negated_exclusion_is_a_coverage(self):
        passage = "Les dommages causés par la grêle ne sont pas exclus."
        assert _verdict("Les dommages causés par la grêle sont couverts.", passage).accepted
        assert _verdict("Les dommages causés par la grêle sont exclus.", passage).contradictions

    def test_an_exception_says_the_opposite_of_its_clause(self):
        passage = "Les frais de transport sont remboursés, sauf les trajets en taxi."
        assert _verdict("Les trajets en taxi sont remboursés.", passage).contradictions
        assert _verdict("Les frais de transport sont remboursés.", passage).accepted
        assert _verdict("Les trajets en taxi ne sont pas remboursés.", passage).accepted

    def test_list_items_take_the_polarity_of_their_heading(self):
        passage = "Ne sont pas couverts :\n- les bijoux ;\n- les espèces et les titres."
        assert _verdict("Les espèces sont couvertes.", passage).contradictions
        assert _verdict("Les bijoux ne sont pas couverts.", passage).accepted

    def test_list_items_whose_heading_is_elsewhere_are_not_read(self):
        passage = "• les bijoux et les montres ;\n• les espèces."
        assert not _verdict("Les bijoux et les montres sont couverts.", passage).contradictions

    def test_a_restriction_is_not_a_negation(self):
        passage = "Les séances ne sont remboursées que sur prescription médicale."
        assert _verdict("Les séances sont remboursées sur prescription médicale.", passage).accepted

    def test_a_negation_in_a_subordinate_clause_is_not_the_main_clause(self):
        passage = "Si la cotisation n'est pas payée, le contrat est suspendu après 30 jours."
        assert _verdict("Le contrat est suspendu après 30 jours.", passage).accepted

    def test_a_pronoun_stands_for_the_subject_before(self):
        passage = (
            "La téléconsultation est incluse dans la formule Confort. "
            "Elle n'est pas incluse dans la formule Initiale."
        )
        assert _verdict(
            "La téléconsultation est incluse dans la formule Initiale.", passage
        ).contradictions

    def test_a_bare_no_answers_the_yes_no_question(self):
        passage = "Les lunettes de soleil correctrices sont remboursées."
        question = "Les lunettes de soleil correctrices sont-elles remboursées ?"
        verdict = AnswerValidator().validate(question, "Non.", [passage])
        assert not verdict.accepted
        assert verdict.contradictions

    def test_a_faq_answer_gives_its_question_a_polarity(self):
        passage = "Le vol de vélo est-il couvert ? Non.\nLe vol de scooter est couvert."
        assert _verdict("Le vol de vélo est couvert.", passage).contradictions

    def test_a_table_row_flattened_into_text_is_not_read(self):
        passage = "Chirurgie réfractive, par œil Non couvert Non couvert 200 € 300 €"
        verdict = _verdict("La chirurgie réfractive est couverte à 200 € par œil.", passage)
        assert not verdict.contradictions

    def test_the_check_can_be_turned_off(self):
        passage = "Le bris de glace n'est pas couvert en formule Tiers."
        validator = AnswerValidator(check_polarity=False)
        verdict = validator.validate(
            "?", "Le bris de glace est couvert en formule Tiers.", [passage]
        )
        assert verdict.contradictions == ()


class TestCommitments:
    """What the insurer would not sign is rejected; what its documents state is not."""

    PASSAGE = (
        "La cotisation démarre à partir de 12 € par mois. Les frais d'avocat sont pris en "
        "charge jusqu'à 15 000 € par litige. Nous nous engageons à rappeler sous 24 heures."
    )

    def test_a_speaker_promise_is_rejected(self):
        verdict = _verdict(
            "Je vous garantis que les frais d'avocat sont pris en charge.", self.PASSAGE
        )
        assert verdict.commitments
        assert "engagement" in verdict.reason

    def test_a_certainty_the_passage_does_not_state_is_rejected(self):
        assert _verdict(
            "Les frais d'avocat sont forcément pris en charge.", self.PASSAGE
        ).commitments

    def test_an_acceptance_promised_to_the_person_is_rejected(self):
        for answer in ("Votre adhésion sera acceptée.", "On ne vous refusera pas l'adhésion."):
            assert _verdict(answer, self.PASSAGE).commitments, answer

    def test_an_acceptance_condition_is_not_a_promise(self):
        answer = "Les frais d'avocat sont pris en charge si votre dossier est accepté."
        assert not _verdict(answer, self.PASSAGE).commitments

    def test_a_price_promised_to_the_person_is_rejected_even_with_the_figure(self):
        assert _verdict("Vous paierez 12 € par mois.", self.PASSAGE).commitments
        assert _verdict("Votre cotisation sera de 12 € par mois.", self.PASSAGE).commitments

    def test_a_ceiling_quoted_as_a_ceiling_is_accepted(self):
        answer = "Vos frais d'avocat sont pris en charge jusqu'à 15 000 € par litige."
        assert _verdict(answer, self.PASSAGE).accepted
        assert (
            _verdict("Pour votre litige, vous recevrez jusqu'à 15 000 €.", self.PASSAGE).commitments
            == ()
        )

    def test_the_insurers_own_commitment_quoted_from_its_documents_is_accepted(self):
        assert _verdict("Nous nous engageons à rappeler sous 24 heures.", self.PASSAGE).accepted
        assert _verdict(
            "Nous nous engageons à rappeler sous 2 heures.", self.PASSAGE
        ).unsupported_numbers

    def test_a_price_from_an_example_is_not_this_persons_price(self):
        passage = "Exemple : un conducteur de 40 ans paie 45 € par mois en formule Tous Risques."
        assert _verdict("Vous paierez 45 € par mois en formule Tous Risques.", passage).commitments


def test_verdict_built_with_the_former_fields_still_works():
    verdict = Verdict(True, 0.9, 0.9, None, None, ())
    assert verdict.contradictions == ()
    assert verdict.commitments == ()
    assert verdict.reason == ""
