import re

import pytest

from actions.text import MAX_PARSED_CHARS, normalize, vocabulary

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

    def test_patterns_are_written_for_normalised_text(self):
        # Upper case or accents could never match: the parsers search normalised text.
        stripped = [re.sub(r"\\.", "", p) for p in _patterns(vocabulary())]  # escapes: \\b, \\S
        assert [p for p in stripped if p != p.lower() or not p.isascii()] == []

    def test_statements_name_known_vocabularies(self):
        terms = vocabulary()["terms"]
        named = [s["terms"] for s in vocabulary()["statements"] if "terms" in s]
        assert named
        assert set(named) <= set(terms)
