"""The normalisation charsmap that the rebuilt tokenizer reads (the tokenizer itself is checked
on the converted model, in test_model_dir.py)."""

import pytest
from tokenizers import normalizers

from knowledge.conversion.tokenizer import build_charsmap


@pytest.mark.unit
class TestCharsmap:
    def test_precompiled_normaliser_applies_the_table_and_leaves_other_characters(self) -> None:
        table = {ord("ﬁ"): "fi", 0x01: "", 0xA0: " ", ord("→"): "->", ord("Ａ"): "A"}
        normaliser = normalizers.Precompiled(build_charsmap(table))
        assert normaliser.normalize_str("ﬁn\x01\u00a0→Ａé") == "fin ->Aé"
        assert (
            normaliser.normalize_str("texte ordinaire, accentué.") == "texte ordinaire, accentué."
        )
