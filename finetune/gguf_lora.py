"""A peft LoRA adapter as a GGUF LoRA file that llama.cpp applies over its base model at load time.

`Llama(model_path=base.gguf, lora_path=adapter.gguf)` (llama-cpp-python), or the knowledge base's
`LlamaCppGenerator(..., lora_path=...)`: the quantised base stays as it is, the adapter adds
`scale · B·A·x` to the seven projections it covers, so only the adapter is shipped (r 32 on the
seven projections of Gemma 3 270M: 7.6 M parameters, about 15 MB in float16).

The file, as llama.cpp's loader reads it (`src/llama-adapter.cpp`):
- metadata `general.type = "adapter"`, `general.architecture` equal to the base's (llama.cpp
  refuses another), `adapter.type = "lora"`, `adapter.lora.alpha`; llama.cpp scales by
  alpha / rank, rank being the inner dimension of the tensors, so alpha is written as peft's
  scale × rank;
- one pair of tensors per adapted weight, named after the base tensor: `blk.N.attn_q.weight.lora_a`
  (peft's `lora_A.weight`, rank × inputs) and `….lora_b` (`lora_B.weight`, outputs × rank).

Query and key rows: llama.cpp's converter permutes them for the `llama` architecture (Hugging
Face's rotate-half RoPE layout → interleaved pairs), so a LoRA on a Llama/Mistral base has the
rows of its B permuted the same way; it permutes nothing for Gemma (llama.cpp runs Gemma's RoPE in
the rotate-half layout), so Gemma's B is written as trained. Every tensor is checked against the
base GGUF's tensor list (name and shape) before anything is written.
"""

import mmap
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from finetune.errors import ExportError

# peft module path (below `layers.N.`) -> llama.cpp tensor name (below `blk.N.`)
TENSOR_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
# Architectures whose query/key rows the converter permutes, and those it leaves alone.
PERMUTED_ARCHITECTURES = frozenset({"llama"})
UNPERMUTED_ARCHITECTURES = frozenset({"gemma", "gemma2", "gemma3"})
_KEY = re.compile(
    r"(?:^|\.)layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)"
    r"\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$"
)


@dataclass(frozen=True)
class BaseModelInfo:
    """What the adapter must match in the base GGUF."""

    architecture: str
    shapes: dict[str, tuple[int, ...]]  # tensor name -> shape in numpy order (outputs, inputs)
    head_count: int
    head_count_kv: int


# GGUF value types (gguf's GGUFValueType): fixed sizes, 8 string, 9 array.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


def read_base(path: Path) -> BaseModelInfo:
    """The architecture, head counts and tensor shapes of a GGUF model, from its header only.

    (gguf's GGUFReader decodes every metadata field, the 262,144 tokens of Gemma's vocabulary
    included, which takes most of a minute; this reads the scalars and skips the arrays.)"""
    try:
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            header = _GgufHeader(data)
    except (OSError, ValueError, struct.error) as exc:
        raise ExportError(f"cannot read the base model {path}: {exc}") from exc
    architecture = str(header.values.get("general.architecture") or "")
    if not architecture:
        raise ExportError(f"{path} has no general.architecture")
    heads = int(header.values.get(f"{architecture}.attention.head_count") or 0)
    kv_heads = int(header.values.get(f"{architecture}.attention.head_count_kv") or heads)
    return BaseModelInfo(architecture, header.shapes, heads, kv_heads)


class _GgufHeader:
    """The scalar metadata and the tensor shapes (numpy order) of a GGUF file's bytes."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.offset = 0
        if data[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        self.offset = 4
        version, tensors, fields = self._unpack("<IQQ")
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        self.values: dict[str, Any] = {}
        for _ in range(fields):
            key = self._string()
            (kind,) = self._unpack("<I")
            self.values[key] = self._value(kind)
        self.shapes: dict[str, tuple[int, ...]] = {}
        for _ in range(tensors):
            name = self._string()
            (dims,) = self._unpack("<I")
            shape = self._unpack(f"<{dims}Q")
            self._unpack("<IQ")  # type, offset
            self.shapes[name] = tuple(int(n) for n in reversed(shape))

    def _unpack(self, layout: str) -> tuple[Any, ...]:
        values = struct.unpack_from(layout, self.data, self.offset)
        self.offset += struct.calcsize(layout)
        return values

    def _string(self) -> str:
        (length,) = self._unpack("<Q")
        text = self.data[self.offset : self.offset + length].decode("utf-8", errors="replace")
        self.offset += length
        return text

    def _value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self._unpack(_SCALARS[kind])[0]
        if kind == _STRING:
            return self._string()
        if kind != _ARRAY:
            raise ValueError(f"unknown GGUF value type {kind}")
        element, count = self._unpack("<IQ")
        if element in _SCALARS:  # skipped
            self.offset += count * struct.calcsize(_SCALARS[element])
            return None
        for _ in range(count):
            self._value(element)
        return None


def _permute_rows(weights: npt.NDArray[Any], heads: int) -> npt.NDArray[Any]:
    """Rotate-half rows → interleaved pairs, per head (as llama.cpp's converter does for Llama)."""
    rows = weights.shape[0]
    return (
        weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def lora_pairs(
    state: Mapping[str, Any],
) -> dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]:
    """{llama.cpp tensor name: (A, B)} from a peft state dict (`get_peft_model_state_dict`, or an
    `adapter_model.safetensors`); A is rank × inputs, B outputs × rank."""
    halves: dict[str, dict[str, npt.NDArray[np.float32]]] = {}
    for key, tensor in state.items():
        match = _KEY.search(key)
        if match is None:
            raise ExportError(f"unexpected adapter tensor {key} (only LoRA A/B of projections)")
        layer, module, half = match.groups()
        name = f"blk.{layer}.{TENSOR_NAMES[module]}.weight"
        array = tensor.detach().float().cpu().numpy() if hasattr(tensor, "detach") else tensor
        halves.setdefault(name, {})[half] = np.asarray(array, dtype=np.float32)
    pairs = {}
    for name, found in sorted(halves.items()):
        if set(found) != {"A", "B"}:
            raise ExportError(f"{name}: LoRA A or B is missing")
        pairs[name] = (found["A"], found["B"])
    return pairs


def export_lora_gguf(
    state: Mapping[str, Any],
    base_gguf: Path,
    path: Path,
    *,
    scale: float,
    name: str = "vergemont-generator-lora",
    dtype: Literal["f16", "f32"] = "f16",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Writes the adapter `state` (peft's tensors, `scale` = its lora_alpha / r) for the base model
    `base_gguf` to `path`, after checking every tensor against the base."""
    import gguf

    base = read_base(base_gguf)
    if base.architecture in PERMUTED_ARCHITECTURES:
        permute = True
    elif base.architecture in UNPERMUTED_ARCHITECTURES:
        permute = False
    else:
        raise ExportError(
            f"no LoRA export for the {base.architecture} architecture (supported: "
            f"{', '.join(sorted(PERMUTED_ARCHITECTURES | UNPERMUTED_ARCHITECTURES))})"
        )
    pairs = lora_pairs(state)
    if not pairs:
        raise ExportError("the adapter has no LoRA tensors")
    ranks = {a.shape[0] for a, _ in pairs.values()}
    if len(ranks) != 1:
        raise ExportError(f"the adapter mixes ranks {sorted(ranks)}")
    rank = ranks.pop()
    float_type = np.float16 if dtype == "f16" else np.float32

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), base.architecture)
    writer.add_type("adapter")
    writer.add_name(name)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(scale * rank))
    writer.add_file_type(
        int(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32)
    )
    for key, text in (metadata or {}).items():
        writer.add_string(key, text)
    for tensor, (a, b) in pairs.items():
        shape = base.shapes.get(tensor)
        if shape is None:
            raise ExportError(f"the base model has no tensor {tensor}: another base model?")
        if a.shape[1] != shape[1] or b.shape[0] != shape[0] or a.shape[0] != b.shape[1]:
            raise ExportError(
                f"{tensor}: LoRA A {a.shape} and B {b.shape} do not fit the base's {shape}"
            )
        if permute and tensor.endswith((".attn_q.weight", ".attn_k.weight")):
            heads = base.head_count if ".attn_q." in tensor else base.head_count_kv
            b = _permute_rows(b, heads)
        writer.add_tensor(f"{tensor}.lora_a", np.ascontiguousarray(a.astype(float_type)))
        writer.add_tensor(f"{tensor}.lora_b", np.ascontiguousarray(b.astype(float_type)))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def adapter_parameters(path: Path) -> int:
    """The number of parameters of a GGUF LoRA file."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    return sum(int(tensor.n_elements) for tensor in reader.tensors)


def _unpermute_rows(weights: npt.NDArray[Any], heads: int) -> npt.NDArray[Any]:
    """The inverse of `_permute_rows`: interleaved pairs → rotate-half rows, per head."""
    rows = weights.shape[0]
    return (
        weights.reshape(heads, rows // heads // 2, 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


@dataclass(frozen=True)
class GgufAdapter:
    """A GGUF LoRA read back: its pairs in peft's layout and its scale."""

    pairs: dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]]  # tensor → (A, B)
    rank: int
    scale: float  # alpha / rank, as llama.cpp applies it


def read_lora_gguf(path: Path, base_gguf: Path) -> GgufAdapter:
    """The adapter of `export_lora_gguf` read back for `base_gguf`, in peft's layout (the query
    and key rows of a permuted architecture put back), to start a new run from it."""
    import gguf

    base = read_base(base_gguf)
    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read the adapter {path}: {exc}") from exc
    kind = reader.fields.get("general.type")
    alpha_field = reader.fields.get(gguf.Keys.Adapter.LORA_ALPHA)
    if kind is None or bytes(kind.parts[-1]).decode() != "adapter" or alpha_field is None:
        raise ExportError(f"{path} is not a GGUF LoRA adapter")
    alpha = float(alpha_field.parts[-1][0])
    halves: dict[str, dict[str, npt.NDArray[np.float32]]] = {}
    for tensor in reader.tensors:
        name, _, half = tensor.name.rpartition(".lora_")
        if half not in ("a", "b"):
            raise ExportError(f"{path}: unexpected tensor {tensor.name}")
        shape = tuple(int(n) for n in reversed(tensor.shape.tolist()))
        array = np.asarray(tensor.data, dtype=np.float32).reshape(shape)
        halves.setdefault(name, {})[half] = array
    pairs = {}
    for name, found in sorted(halves.items()):
        if set(found) != {"a", "b"} or name not in base.shapes:
            raise ExportError(f"{path}: {name} is incomplete or not in the base model")
        a, b = found["a"], found["b"]
        if base.architecture in PERMUTED_ARCHITECTURES and name.endswith(
            (".attn_q.weight", ".attn_k.weight")
        ):
            b = _unpermute_rows(b, base.head_count if ".attn_q." in name else base.head_count_kv)
        pairs[name] = (a, b)
    if not pairs:
        raise ExportError(f"{path} holds no LoRA tensor")
    rank = next(iter(pairs.values()))[0].shape[0]
    return GgufAdapter(pairs, rank, alpha / rank)


def peft_state_from_gguf(adapter: GgufAdapter, model_keys: Any) -> dict[str, Any]:
    """peft's state dict for a model whose LoRA keys are `model_keys`
    (`get_peft_model_state_dict(model)`'s), filled from `adapter`; every key must be found."""
    import torch

    state: dict[str, Any] = {}
    for key in model_keys:
        match = _KEY.search(key)
        if match is None:
            raise ExportError(f"unexpected adapter tensor {key} (only LoRA A/B of projections)")
        layer, module, half = match.groups()
        name = f"blk.{layer}.{TENSOR_NAMES[module]}.weight"
        if name not in adapter.pairs:
            raise ExportError(f"the adapter has no {name}: another model or other modules?")
        a, b = adapter.pairs[name]
        state[key] = torch.from_numpy(np.ascontiguousarray(a if half == "A" else b))
    return state
