"""Test doubles of the knowledge base: a small deterministic embedder.

`HashingEmbedder` hashes the character trigrams of the accent-folded words into a fixed number of
dimensions: texts that share words get close vectors, no model is loaded, and the same text
always gives the same vector. It stands in for the real model where speed matters; the
evaluation and the slow tests use the real one.
"""

import zlib
from collections.abc import Sequence

import numpy as np

from knowledge.interfaces import Vector
from knowledge.lexical import FrenchAnalyzer


class HashingEmbedder:
    model_name = "test/hashing-trigrams"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.calls = 0
        self.passages_embedded = 0
        self._analyzer = FrenchAnalyzer(stem=False)

    def warm_up(self) -> None:
        pass

    def _embed(self, texts: Sequence[str]) -> Vector:
        self.calls += 1
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in self._analyzer.terms(text):
                padded = f"<{word}>"
                for start in range(len(padded) - 2):
                    bucket = zlib.crc32(padded[start : start + 3].encode()) % self.dimension
                    matrix[row, bucket] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: Vector = (matrix / norms).astype(np.float32)
        return normalised

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        self.passages_embedded += len(texts)
        return self._embed(texts)
