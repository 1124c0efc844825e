"""An embedder wrapper that keeps vectors on disk, so repeated benchmark runs embed once.

Vectors are keyed by model, kind (query or passage) and the text's SHA-1, in one `.npz` file per
model under the cache directory. Only for benchmarks: the product never caches embeddings.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.interfaces import Embedder, Vector

DEFAULT_CACHE = Path(".run/benchmarks/embeddings")


class CachedEmbedder:
    def __init__(self, inner: Embedder, directory: Path = DEFAULT_CACHE) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.dimension = 0  # the inner model's, known after warm_up()
        self.directory = directory
        self._vectors: dict[str, Vector] | None = None
        self._dirty = False

    @property
    def _file(self) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.model_name)
        return self.directory / f"{safe}.npz"

    def warm_up(self) -> None:
        self.inner.warm_up()
        self.dimension = self.inner.dimension
        if self._vectors is None:
            self._vectors = {}
            if self._file.exists():
                with np.load(self._file) as saved:
                    keys, matrix = saved["keys"], saved["vectors"]
                self._vectors = {str(key): row for key, row in zip(keys, matrix, strict=True)}

    def save(self) -> None:
        if self._vectors is not None and self._dirty:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self._file.with_suffix(".tmp.npz")
            keys = list(self._vectors)
            np.savez(
                temporary,
                keys=np.array(keys),
                vectors=np.stack([self._vectors[key] for key in keys]),
            )
            temporary.replace(self._file)
            self._dirty = False

    def _embed(self, kind: str, texts: Sequence[str]) -> Vector:
        self.warm_up()
        if self._vectors is None:
            raise RuntimeError("warm_up() did not load the cache")
        keys = [
            f"{kind}-{hashlib.sha1(t.encode(), usedforsecurity=False).hexdigest()}" for t in texts
        ]
        missing = sorted({i for i, key in enumerate(keys) if key not in self._vectors})
        if missing:
            embed = self.inner.embed_queries if kind == "q" else self.inner.embed_passages
            fresh = embed([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                self._vectors[keys[i]] = np.asarray(vector, dtype=np.float32)
            self._dirty = True
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[key] for key in keys]).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._embed("q", texts)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._embed("p", texts)
