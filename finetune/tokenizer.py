"""A tiny SentencePiece-style BPE tokenizer trained offline on the corpus text.

The tiny Mistral-architecture model of the tests and the demo needs a tokenizer that nothing has
to download and that llama.cpp can run after the GGUF export: BPE over "▁"-marked words (the
SentencePiece convention of Llama and Mistral), byte fallback tokens `<0x00>`…`<0xFF>` so no
character is ever unknown, and `<unk>`, `<s>`, `<s/>` at ids 0, 1, 2 like Mistral's.
Depends on the `tokenizers` library only.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
SPECIAL_TOKENS = (UNK, BOS, EOS)
BYTE_TOKENS = tuple(f"<0x{value:02X}>" for value in range(256))


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1200) -> Any:
    """A `tokenizers.Tokenizer` trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    minimum = len(SPECIAL_TOKENS) + len(BYTE_TOKENS) + 64
    if vocab_size < minimum:
        raise ValueError(f"vocab_size must be at least {minimum}")
    tokenizer = Tokenizer(models.BPE(unk_token=UNK, byte_fallback=True, fuse_unk=True))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tokenizer.decoder = decoders.Sequence(
        [
            decoders.Replace("▁", " "),
            decoders.ByteFallback(),
            decoders.Fuse(),
            decoders.Strip(" ", 1, 0),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[*SPECIAL_TOKENS, *BYTE_TOKENS],
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def as_transformers(tokenizer: Any) -> Any:
    """The same tokenizer as a transformers `PreTrainedTokenizerFast`."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=UNK,
    )


def save_tokenizer(tokenizer: Any, directory: Path) -> Any:
    """Saves it in transformers' format (tokenizer.json and its config); returns the fast one."""
    fast = as_transformers(tokenizer)
    directory.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(directory))
    return fast


def load_tokenizer(directory: Path) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(directory))


def corpus_texts(sources: Path) -> list[str]:
    """The paragraphs of the corpus' Markdown sources (readable without the PDF tool chain)."""
    paragraphs: list[str] = []
    for path in sorted(sources.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = path.read_text(encoding="utf-8")
        paragraphs.extend(p.strip() for p in text.split("\n\n") if p.strip())
    return paragraphs
