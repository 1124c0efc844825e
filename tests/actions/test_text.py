import re

import pytest

from actions.text import (
    MAX_PARSED_CHARS,
    correction,
    expand,
    expand_shorthand,
    negated_spans,
    normalize,
    prepare,
    respell,
    vocabulary,
)

pytestmark = pytest.mark.unit


class TestNormalize:
    def test_case_accents_apostrophes_and_ligatures_are_folded(self):
        assert normalize("  Je SUIS l’Œuvre   d'un Élève ") == "je suis l'oeuvre d'un eleve"

    def test_control_characters_and_ansi_escapes_become_spaces(self):
        assert normalize("\x00oui\x1b[31m\x07 bien\u00a0sûr\x7f") == "oui bien sur"

    def test_a_long_message_is_cut(self):
        assert len(normalize("a" * 10_000)) == MAX_PARSED_CHARS


def _patterns(data):
    """Every pattern of the vocabulary file."""
    for name in ("affirmative", "negative", "dont_know", "none_said"):
        yield from data[name]
    for name in ("still_answers", "undecided", "fillers", "hedges", "available_anytime"):
        yield from data[name]
    for name in ("others", "self"):
        yield from data[name]
    yield from data["shorthand"]
    for name in ("negation", "corrections", "outside", "counted"):
        for patterns in data[name].values():
            yield from patterns
    for words in data["booleans"].values():
        for patterns in words.values():
            yield from patterns
    for terms in data["terms"].values():
        for patterns in terms.values():
            yield from patterns
    for statement in data["statements"]:
        yield from [statement["number"]] if "number" in statement else []
        yield from statement.get("patterns", []) + statement.get("cues", [])
    yield from data["categories"].values()


class TestVocabulary:
    def test_every_pattern_is_a_regular_expression(self):
        for pattern in _patterns(vocabulary()):
            re.compile(pattern)
            re.compile(expand(pattern))

    def test_patterns_are_written_for_normalised_text(self):
        # Upper case or accents could never match: the parsers search normalised text.
        stripped = [re.sub(r"\\.", "", p) for p in _patterns(vocabulary())]  # escapes: \\b, \\S
        assert [p for p in stripped if p != p.lower() or not p.isascii()] == []

    def test_statements_name_known_vocabularies(self):
        terms = vocabulary()["terms"]
        named = [s["terms"] for s in vocabulary()["statements"] if "terms" in s]
        assert named
        assert set(named) <= set(terms)


class TestShorthandAndSpelling:
    @pytest.mark.parametrize(
        ("typed", "read"),
        [("jai pa de voiture", "j'ai pas de voiture"), ("j ai 2 enfants", "j'ai 2 enfants"),
         ("chuis etudiant", "je suis etudiant"), ("jsp", "je sais pas"),
         ("g 1 chat", "j'ai 1 chat")],
    )  # fmt: skip
    def test_sms_spellings_are_written_out(self, typed, read):
        assert expand_shorthand(typed) == read

    @pytest.mark.parametrize(
        ("typed", "read"),
        [("locatere", "locataire"), ("celibatere", "celibataire"), ("propietaire", "proprietaire"),
         ("quarente", "quarante"), ("independente", "independant")],
    )  # fmt: skip
    def test_misspelt_vocabulary_words_are_corrected(self, typed, read):
        assert respell(typed) == read

    @pytest.mark.parametrize(
        "word", ["carence", "salaire", "emploi", "employee", "accident", "garantie", "utiliser"]
    )
    def test_real_words_are_left_alone(self, word):
        assert respell(word) == word


def _covered(text):
    prepared = prepare(text)
    return [prepared[start:end].strip(" ,") for start, end in negated_spans(prepared, past=True)]


class TestNegationScope:
    @pytest.mark.parametrize(
        ("text", "covered"),
        [
            ("pas de voiture mais un scooter", ["de voiture"]),
            ("ni chien ni chat", ["chien", "chat"]),
            ("un chien, pas de chat", ["de chat"]),
            ("pas de chien et un chat", ["de chien"]),
            ("pas de voiture, de moto ou de scooter", ["de voiture, de moto ou de scooter"]),
            ("pas salarié, indépendant", ["salarie"]),
            ("voiture oui, moto non", ["moto"]),
            ("non je suis allergique", []),
            ("je ne travaille pas", []),
            ("ancien fonctionnaire, maintenant retraité", ["fonctionnaire"]),
            ("la mutuelle je l'ai arrêtée", ["la mutuelle"]),
        ],
    )
    def test_a_negation_covers_up_to_a_contrast_or_a_new_phrase(self, text, covered):
        assert _covered(text) == covered


class TestCorrection:
    @pytest.mark.parametrize(
        ("text", "numeric", "after"),
        [("42 ans, ah non pardon 43", False, "43"), ("32 ans, non 33", True, "33"),
         ("une voiture, enfin une moto", False, "une moto"), ("ah non", False, None),
         ("32 ans, non 33", False, None)],
    )  # fmt: skip
    def test_what_follows_the_last_correction_is_the_answer(self, text, numeric, after):
        assert correction(prepare(text), numeric) == after
