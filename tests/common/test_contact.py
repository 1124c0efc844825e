import pytest

from common.contact import (
    EMAIL_MASK,
    PHONE_MASK,
    find_email,
    find_phone,
    mask_contact_details,
    mask_email,
    mask_phone,
    normalise_email,
    normalise_phone,
)

pytestmark = pytest.mark.unit


class TestFinding:
    def test_email_and_phone(self):
        assert find_email("écrivez à Jo.Doe+x@exemple.fr merci") == "jo.doe+x@exemple.fr"
        assert find_phone("+33 6 12 34 56 78") == "06 12 34 56 78"
        assert find_phone("0033612345678") == "06 12 34 56 78"
        assert find_phone("12 34") is None

    def test_both_in_one_message(self):
        text = "camille@exemple.fr ou le 06.12.34.56.78"
        assert (find_email(text), find_phone(text)) == ("camille@exemple.fr", "06 12 34 56 78")

    def test_an_address_without_a_domain_is_not_one(self):
        assert find_email("camille@exemple") is None


class TestNormalising:
    @pytest.mark.parametrize(
        "typed",
        [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "0612345678",
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "0033612345678",
        ],
    )
    def test_french_numbers_are_stored_in_e164(self, typed):
        assert normalise_phone(typed) == "+33612345678"

    @pytest.mark.parametrize("typed", ["12 34", "+44 20 7946 0958", "06 12 34 56 7", "bonjour"])
    def test_other_numbers_are_refused_with_a_french_reason(self, typed):
        with pytest.raises(ValueError, match="numéro de téléphone invalide"):
            normalise_phone(typed)

    def test_the_email_domain_is_lowered(self):
        assert normalise_email(" Jeanne@Exemple.FR ") == "Jeanne@exemple.fr"

    @pytest.mark.parametrize("typed", ["jeanne", "jeanne@", "jeanne..m@exemple.fr", "a@b"])
    def test_invalid_addresses_are_refused(self, typed):
        with pytest.raises(ValueError, match="adresse e-mail invalide"):
            normalise_email(typed)


class TestMasksForLogs:
    def test_one_format_for_an_email(self):
        assert mask_email("camille@exemple.fr") == "c***@e***.fr"
        assert mask_email("jeanne.martin@mail.exemple.fr") == "j***@m***.fr"

    @pytest.mark.parametrize("stored", ["06 12 34 56 78", "+33612345678", "06.12.34.56.78"])
    def test_one_format_for_a_phone_however_it_is_stored(self, stored):
        assert mask_phone(stored) == "+33 6 ** ** ** 78"

    def test_nothing_to_mask(self):
        assert (mask_email(None), mask_phone(None), mask_email(""), mask_phone("")) == ("-",) * 4

    def test_a_foreign_number_keeps_only_its_last_two_digits(self):
        assert mask_phone("+44 20 7946 0958") == "** 58"


class TestRedaction:
    def test_addresses_and_numbers_of_a_text_become_markers(self):
        text = "Rappelez-moi au 06 12 34 56 78 ou à jean.dupont@example.fr svp"
        assert mask_contact_details(text) == (f"Rappelez-moi au {PHONE_MASK} ou à {EMAIL_MASK} svp")

    def test_figures_that_are_not_phone_numbers_are_kept(self):
        text = "J'ai 42 ans, 2 enfants et un budget de 1 500 € par mois"
        assert mask_contact_details(text) == text
