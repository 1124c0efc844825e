"""A sentence-transformers model's transformer run by ONNX Runtime with int8 weights.

The embedder's `quantization="int8"` path. The transformer is exported to ONNX once, its matrix
multiplications and token embedding table quantised to int8 with one scale per output channel
(activations are quantised on the fly; the file is a quarter of the float one), and the result
cached under `ONNX_CACHE_DIR`, keyed by the model's files, so each machine pays the export
(about 30 s for multilingual-e5-small) once. Pooling and the other modules after the
transformer stay the model's own (torch), so any pooling the model declares applies unchanged.

Why per channel: the bundled model's weights are already 4-bit reconstructions, and one scale
per matrix (torch's dynamic quantisation) lost a third of the dense hit rate; one scale per
output channel keeps the vectors within a cosine of about 0.995 of the float32 ones
(docs/benchmarks.md, ingestion throughput).
"""

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.errors import EmbeddingModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

ONNX_CACHE_DIR = Path.home() / ".cache" / "insurance-assistant" / "onnx"
# Part of the cache key: a change of the export or quantisation recipe makes a new file.
_RECIPE = "transformer-last-hidden-state/opset17/int8-per-channel-matmul-gather/v2"


def model_digest(model_dir: Path) -> str:
    """A digest of a model directory's files (names, sizes, modification times) and the recipe."""
    digest = hashlib.sha256(_RECIPE.encode())
    digest.update(str(model_dir.resolve()).encode())
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(
                f"{path.relative_to(model_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
            )
    return digest.hexdigest()[:20]


def ensure_int8_model(
    model: "SentenceTransformer", model_dir: Path, cache_dir: Path = ONNX_CACHE_DIR
) -> Path:
    """The cached int8 ONNX file of `model`'s transformer (loaded from `model_dir`), made once."""
    target = cache_dir / model_digest(model_dir) / "transformer-int8.onnx"
    if target.is_file():
        return target
    try:
        import onnx  # noqa: F401  (the quantiser needs it)
        import onnxruntime.quantization  # noqa: F401
    except ImportError as exc:
        raise EmbeddingModelError(f"int8 embeddings need onnxruntime and onnx: {exc}") from exc
    logger.info("exporting %s to ONNX with int8 weights into %s (once)", model_dir, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _export(model, target)
    except (OSError, RuntimeError, ValueError) as exc:
        raise EmbeddingModelError(
            f"cannot export the embedding model {model_dir} to int8 ONNX in {target.parent}: {exc}"
        ) from exc
    return target


def _export(model: "SentenceTransformer", target: Path) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer: Any = model[0].auto_model

    class _LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            output = self.transformer(input_ids=input_ids, attention_mask=attention_mask)
            return output.last_hidden_state

    example = model.preprocess(["passage: exemple", "passage: un exemple un peu plus long"])
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        float_file = Path(scratch) / "transformer.onnx"
        int8_file = Path(scratch) / "transformer-int8.onnx"
        axes = {0: "batch", 1: "tokens"}
        with torch.no_grad():
            torch.onnx.export(
                _LastHiddenState().eval(),
                (example["input_ids"], example["attention_mask"]),
                str(float_file),
                input_names=["input_ids", "attention_mask"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                opset_version=17,
                dynamo=False,
            )
        quantize_dynamic(
            float_file,
            int8_file,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gather"],  # Gather: the token embeddings
        )
        os.replace(int8_file, target)  # whole or absent: a crash leaves no half file


class Int8Transformer:
    """Runs the cached int8 transformer, then the model's own pooling modules."""

    def __init__(self, model: "SentenceTransformer", onnx_file: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = onnxruntime.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own classes, not exported for typing
            raise EmbeddingModelError(
                f"cannot load the int8 embedding model {onnx_file} (delete it to export it "
                f"again): {exc}"
            ) from exc
        self._model = model
        self._after_transformer = list(model)[1:]  # pooling, and a dense layer where declared
        # The float weights are no longer used: only the tokenizer and the pooling are.
        first: Any = model[0]
        first.auto_model.to("meta")

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """One vector per text (in the given order), not normalised; batches by length."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors: list[np.ndarray] = [np.empty(0)] * len(texts)
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            features = self._model.preprocess([texts[i] for i in indices])
            inputs = {
                "input_ids": features["input_ids"].numpy().astype(np.int64),
                "attention_mask": features["attention_mask"].numpy().astype(np.int64),
            }
            (hidden,) = self._session.run(["last_hidden_state"], inputs)
            pooled: dict[str, Any] = {
                "token_embeddings": torch.from_numpy(hidden),
                "attention_mask": features["attention_mask"],
            }
            with torch.no_grad():
                for module in self._after_transformer:
                    pooled = module(pooled)
            for row, index in enumerate(indices):
                vectors[index] = pooled["sentence_embedding"][row].numpy()
        return np.stack(vectors).astype(np.float32, copy=False)
