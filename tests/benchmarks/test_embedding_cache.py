"""The benchmarks' embedding cache: a text is embedded once, whatever the run."""

from collections.abc import Sequence

import numpy as np
import pytest

from benchmarks.embedding_cache import CachedEmbedder
from knowledge.interfaces import Vector

pytestmark = pytest.mark.unit


class _CountingEmbedder:
    """A vector per text from its length and first letter; counts the texts it embeds."""

    model_name = "counting/model v1"
    dimension = 3

    def __init__(self) -> None:
        self.embedded: list[tuple[str, str]] = []

    def warm_up(self) -> None:
        pass

    def _embed(self, kind: str, texts: Sequence[str]) -> Vector:
        self.embedded += [(kind, text) for text in texts]
        rows = [[len(text), ord(text[0]), 1.0 if kind == "q" else 2.0] for text in texts]
        return np.asarray(rows, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed("q", texts)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._embed("p", texts)


class TestCachedEmbedder:
    def test_a_second_run_reads_the_vectors_from_disk(self, tmp_path):
        first_model = _CountingEmbedder()
        first = CachedEmbedder(first_model, tmp_path)
        expected = first.embed_passages(["un passage", "un autre"])
        first.save()

        second_model = _CountingEmbedder()
        second = CachedEmbedder(second_model, tmp_path)
        assert np.array_equal(second.embed_passages(["un passage", "un autre"]), expected)
        assert second_model.embedded == []

    def test_only_the_missing_texts_are_embedded_and_queries_are_kept_apart(self, tmp_path):
        model = _CountingEmbedder()
        cache = CachedEmbedder(model, tmp_path)
        cache.embed_passages(["alpha"])
        vectors = cache.embed_passages(["alpha", "beta", "alpha"])
        query = cache.embed_queries(["alpha"])
        assert model.embedded == [("p", "alpha"), ("p", "beta"), ("q", "alpha")]
        assert vectors.shape == (3, 3)
        assert np.array_equal(vectors[0], vectors[2])
        assert not np.array_equal(query[0], vectors[0])  # the model's query prefix differs

    def test_no_text_gives_an_empty_matrix_of_the_model_dimension(self, tmp_path):
        assert CachedEmbedder(_CountingEmbedder(), tmp_path).embed_queries([]).shape == (0, 3)
