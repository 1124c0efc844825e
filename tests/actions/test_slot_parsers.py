from datetime import UTC, datetime

import pytest

from actions.slot_parsers import (
    SKIPPED,
    ParseError,
    clean_name,
    is_dont_know,
    parse_answer,
    volunteered_facts,
    yes_no,
)

pytestmark = pytest.mark.unit


class TestParseAnswer:
    @pytest.mark.parametrize(
        ("slot", "text", "value"),
        [
            ("age", "42", 42),
            ("age", "j'ai quarante-deux ans", 42),
            ("age", "soixante et onze", 71),
            ("monthly_budget_eur", "1 500 €", 1500.0),
            ("monthly_budget_eur", "1,5 k€", 1500.0),
            ("monthly_budget_eur", "cent euros par mois", 100.0),
            ("annual_income_eur", "45\u202f000 €", 45000.0),
            ("financial_assets_eur", "20k", 20000.0),
            ("financial_assets_eur", "rien", 0.0),
            ("loan_duration_years", "sur vingt-cinq ans", 25),
            ("investment_horizon_years", "18 mois", 2),
            ("vehicles", "une voiture et un scooter", ["car", "scooter"]),
            ("vehicles", "non, aucun", []),
            ("pets", "un chaton", ["cat"]),
            ("housing_status", "je suis proprio", "owner_occupier"),
            ("housing_status", "logé gratuitement chez mes parents", "hosted"),
            ("employment_status", "auto-entrepreneur", "self_employed"),
            ("family_situation", "pacsée", "civil_partnership"),
            ("number_of_dependants", "trois", 3),
            ("projects", "acheter un appartement avec un prêt", ["home_loan"]),
            ("risk_tolerance", "très faible", "very_low"),
            ("loss_capacity", "une perte limitée", "limited"),
            ("investment_objectives", "préserver mon capital", ["capital_preservation"]),
            ("current_coverage", "auto et mutuelle", ["auto", "sante"]),
            ("resides_in_france", "oui bien sûr", True),
            ("rented_out_properties", "deux", 2),
        ],
    )
    def test_french_answers(self, slot, text, value):
        assert parse_answer(slot, text) == value

    @pytest.mark.parametrize(
        ("slot", "text"),
        [("age", "bof"), ("age", "250"), ("housing_status", "bleu"), ("number_of_dependants", "45"),
         ("loan_duration_years", "80 ans"), ("age", ""), ("age", "🙂")],
    )  # fmt: skip
    def test_unreadable_answers_give_a_french_hint(self, slot, text):
        with pytest.raises(ParseError) as error:
            parse_answer(slot, text)
        assert str(error.value)

    def test_intent_decides_yes_or_no(self):
        assert parse_answer("employer_health_plan", "tout à fait", "affirm") is True
        assert parse_answer("employer_health_plan", "hmm", "deny") is False


class TestNegationsAndCompoundAnswers:
    """The general mechanisms; slot_parser_cases.yml has the table of real answers."""

    @pytest.mark.parametrize(
        ("slot", "text", "value"),
        [
            ("vehicles", "non, aucun véhicule", []),
            ("pets", "ni chien ni chat", []),
            ("vehicles", "pas de voiture mais un scooter 125", ["scooter"]),
            ("pets", "un chien, pas de chat", ["dog"]),
            ("pets", "chat oui, chien non", ["cat"]),
            ("current_coverage", "pas de prévoyance ni d'assurance vie", []),
            ("employment_status", "ancien salarié, maintenant à mon compte", "self_employed"),
            ("housing_status", "pas propriétaire, locataire", "tenant"),
            ("rented_out_properties", "je ne loue rien", 0),
            ("monthly_commitments_eur", "aucun crédit", 0.0),
            ("employer_health_plan", "pas de mutuelle", False),
        ],
    )
    def test_a_negation_excludes_what_it_covers(self, slot, text, value):
        assert parse_answer(slot, text) == value

    @pytest.mark.parametrize(
        ("slot", "text", "value"),
        [
            ("monthly_budget_eur", "une cinquantaine d'euros", 50.0),
            ("age", "la quarantaine", 40),
            ("monthly_budget_eur", "pas plus de 100 €", 100.0),
            ("monthly_budget_eur", "entre 50 et 100", 75.0),
            ("annual_income_eur", "entre 40 et 50 000", 45_000.0),
            ("annual_income_eur", "2 500 € par mois", 30_000.0),
            ("monthly_commitments_eur", "800 de loyer et 300 de crédit", 1100.0),
            ("investment_horizon_years", "entre 5 et 10 ans", 8),
            ("pet_age_years", "un an et demi", 2),
            ("age", "42 ans, ah non pardon 43", 43),
            ("number_of_dependants", "ma femme et mes deux enfants", 3),
            ("children_at_school", "un au collège et un au lycée", 2),
        ],
    )
    def test_hedges_ranges_sums_and_corrections(self, slot, text, value):
        assert parse_answer(slot, text) == value

    def test_a_year_of_birth_gives_the_age(self):
        assert parse_answer("age", "je suis né en 1980") == datetime.now(UTC).year - 1980

    def test_an_answer_that_decides_nothing_leaves_the_fact_unknown(self):
        assert parse_answer("monthly_budget_eur", "pas de budget précis") == SKIPPED
        assert parse_answer("investment_objectives", "aucun objectif") == SKIPPED

    def test_a_dont_know_followed_by_an_answer_is_an_answer(self):
        assert is_dont_know("je ne sais pas")
        assert not is_dont_know("je ne sais pas, disons 60")
        assert parse_answer("monthly_budget_eur", "je ne sais pas, disons 60") == 60.0

    @pytest.mark.parametrize(
        ("text", "value"),
        [("oui pas de souci", True), ("non merci", False), ("je crois que oui", True),
         ("pas que je sache", False), ("oui, enfin non", False), ("non... enfin si", True),
         ("bof", None)],
    )  # fmt: skip
    def test_yes_no_reads_polite_and_corrected_answers(self, text, value):
        assert yes_no(text) is value


class TestVolunteeredFacts:
    @pytest.mark.parametrize(
        ("text", "facts"),
        [
            ("en fait j'ai 42 ans", {"age": 42}),
            (
                "je suis locataire et j'ai une voiture",
                {"housing_status": "tenant", "vehicles": ["car"]},
            ),
            ("je suis sous tutelle", {"legal_protection": "guardianship"}),
            ("j'habite en Espagne", {"resides_in_france": False}),
            ("nous voulons souscrire à deux", {"co_subscription": True}),
            ("Quel est le délai de carence ?", {}),
        ],
    )
    def test_only_clear_statements_are_read(self, text, facts):
        assert volunteered_facts(text) == facts

    @pytest.mark.parametrize(
        ("text", "facts"),
        [
            ("je ne suis pas sous curatelle", {}),
            ("je n'ai ni chien ni chat", {"pets": []}),
            ("j'ai plus de voiture, juste un scooter", {"vehicles": ["scooter"]}),
            ("je ne suis pas propriétaire, je suis locataire", {"housing_status": "tenant"}),
            ("j'habite en Bretagne", {}),
            ("je veux préparer ma retraite", {"projects": ["retirement"]}),
            ("j'ai 2 enfants et 38 ans", {"number_of_dependants": 2, "age": 38}),
        ],
    )
    def test_negations_are_not_inverted(self, text, facts):
        assert volunteered_facts(text) == facts

    def test_a_very_long_message_is_cut(self):
        assert volunteered_facts("a" * 10_000 + " j'ai 42 ans") == {}


class TestCleanName:
    @pytest.mark.parametrize("text", ["", "1234", "x" * 300, "<script>", "a@b.fr"])
    def test_names_must_look_like_names(self, text):
        with pytest.raises(ParseError):
            clean_name(text)

    def test_names_keep_accents_and_hyphens(self):
        assert clean_name("Je m'appelle Anne-Sophie Lefèvre") == "Anne-Sophie Lefèvre"
