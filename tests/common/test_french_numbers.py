from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.french_numbers import find_numbers, numbers_in, parse_amount, words_to_number

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


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("une cinquantaine d'euros", [50]),
        ("la quarantaine", [40]),
        ("une dizaine de milliers d'euros", [10_000]),
        ("deux centaines", [200]),
        ("35.000 ou 1.5", [35_000, Decimal("1.5")]),
        ("30 mille euros", [30_000]),
        ("10 000 sur mon livret et 5 000", [10_000, 5_000]),
        ("trois et cinq ans", [3, 5]),
        ("soixante et onze", [71]),
        ("un T2 et un F3", [1, 1]),
        ("45ans, 50e", [45, 50]),
    ],
)
def test_find_numbers_reads_digits_words_and_approximations(text, values):
    assert [number.value for number in find_numbers(text)] == values


def test_find_numbers_says_where_and_how_each_number_is_written():
    text = "un chien d'une vingtaine de kilos"
    first, second = find_numbers(text)
    assert (text[first.start : first.end], first.article, first.approximate) == ("un", True, False)
    assert (text[second.start : second.end], second.article) == ("une vingtaine", False)
    assert second.approximate
