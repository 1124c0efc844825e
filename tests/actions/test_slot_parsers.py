import pytest

from actions.slot_parsers import ParseError, clean_name, parse_answer, volunteered_facts

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

    def test_a_very_long_message_is_cut(self):
        assert volunteered_facts("a" * 10_000 + " j'ai 42 ans") == {}


class TestCleanName:
    @pytest.mark.parametrize("text", ["", "1234", "x" * 300, "<script>", "a@b.fr"])
    def test_names_must_look_like_names(self, text):
        with pytest.raises(ParseError):
            clean_name(text)

    def test_names_keep_accents_and_hyphens(self):
        assert clean_name("Je m'appelle Anne-Sophie Lefèvre") == "Anne-Sophie Lefèvre"
