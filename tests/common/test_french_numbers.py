from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.french_numbers import numbers_in, parse_amount, words_to_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("quatorze", 14),
        ("vingt et un", 21),
        ("soixante et onze", 71),
        ("quatre-vingts", 80),
        ("quatre-vingt-dix-neuf", 99),
        ("cent quatre-vingts", 180),
        ("deux mille cinq cents", 2500),
        ("trois cent mille", 300_000),
        ("mille", 1000),
    ],
)
def test_words_to_number(words, value):
    assert words_to_number(words) == value


def test_words_that_are_not_numbers():
    assert words_to_number("quatorze chats") is None
    assert words_to_number("") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1 500 €", Decimal(1500)),
        ("1\u202f500\u00a0€", Decimal(1500)),
        ("1,5 k€", Decimal(1500)),
        ("2k", Decimal(2000)),
        ("cent euros", Decimal(100)),
        ("1.2 M€", Decimal(1_200_000)),
        ("12,50", Decimal("12.50")),
    ],
)
def test_parse_amount(text, value):
    assert parse_amount(text) == value


def test_parse_amount_rejects_text():
    assert parse_amount("beaucoup") is None


def test_numbers_in_text_are_canonical_and_skip_articles():
    text = "Délai de quatorze jours, franchise de 1 500 € ou 12,5 % sur 2 ans pour un contrat."
    assert numbers_in(text) == {"14", "1500", "12.5", "2"}


@given(st.integers(min_value=0, max_value=10**9))
def test_digit_spellings_agree(value):
    grouped = f"{value:,}".replace(",", " ")
    assert numbers_in(f"soit {grouped} euros") == numbers_in(f"soit {value} euros") == {str(value)}


def test_quantities_keep_their_unit():
    from common.french_numbers import quantities_in

    text = "quatorze jours, 1 500 €, 12,5 %, 2 ans, 25 km, 48 heures et 3 mois"
    assert quantities_in(text) == {
        ("14", "jour"), ("1500", "eur"), ("12.5", "pct"), ("2", "an"),
        ("25", "km"), ("48", "heure"), ("3", "mois"),
    }  # fmt: skip
