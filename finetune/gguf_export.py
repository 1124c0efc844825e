"""Export a (merged) Mistral-architecture model and its tokenizer to GGUF for llama.cpp.

Written with the `gguf` package's writer, as llama.cpp's own converter does for Mistral: the
architecture is `llama`; the query and key projections are permuted from Hugging Face's
rotate-half layout to llama.cpp's interleaved RoPE layout; the vocabulary is SentencePiece-style
(`tokenizer.ggml.model = "llama"`) with one score per token (earlier BPE merges score higher)
and the token types llama.cpp expects (normal, unknown, control, byte).

The result loads through llama-cpp-python, i.e. the knowledge base's `LlamaCppGenerator`
(`KNOWLEDGE_LLM_MODEL=path/to/model.gguf KNOWLEDGE_LLM_PROMPT_FORMAT=mistral_instruct`).
"""

import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from finetune.errors import ExportError

TOKEN_NORMAL, TOKEN_UNKNOWN, TOKEN_CONTROL, TOKEN_BYTE = 1, 2, 3, 6
_BYTE = re.compile(r"^<0x[0-9A-F]{2}>$")


def _permute(weights: npt.NDArray[Any], heads: int) -> npt.NDArray[Any]:
    """Hugging Face's rotate-half Q/K rows → llama.cpp's interleaved pairs."""
    rows = weights.shape[0]
    return (
        weights.reshape(heads, 2, rows // heads // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def vocabulary(tokenizer: Any) -> tuple[list[str], list[float], list[int]]:
    """Tokens by id, their scores and llama.cpp token types, from a transformers fast tokenizer
    (or a `tokenizers.Tokenizer`)."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    vocab: dict[str, int] = backend.get_vocab(with_added_tokens=True)
    size = max(vocab.values()) + 1
    tokens = [""] * size
    for token, index in vocab.items():
        tokens[index] = token
    if any(not token for token in tokens):
        raise ExportError("the tokenizer's ids are not contiguous")
    specials = {"<unk>": TOKEN_UNKNOWN, "<s>": TOKEN_CONTROL, "</s>": TOKEN_CONTROL}
    types = [specials.get(t, TOKEN_BYTE if _BYTE.match(t) else TOKEN_NORMAL) for t in tokens]
    scores = [0.0 if types[i] != TOKEN_NORMAL else -float(i) for i in range(size)]
    return tokens, scores, types


def export_gguf(
    model: Any,
    tokenizer: Any,
    path: Path,
    *,
    name: str = "vergemont-mistral-lora",
    dtype: Literal["f32", "f16"] = "f32",
) -> Path:
    """Writes `model` (a transformers MistralForCausalLM or LlamaForCausalLM, merged) to `path`."""
    import gguf

    config = model.config
    if config.model_type not in ("mistral", "llama"):
        raise ExportError(f"only Mistral/Llama architectures are exported, not {config.model_type}")
    tokens, scores, types = vocabulary(tokenizer)
    if len(tokens) != config.vocab_size:
        raise ExportError(
            f"the tokenizer has {len(tokens)} tokens but the model {config.vocab_size} embeddings"
        )
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    float_type = np.float16 if dtype == "f16" else np.float32
    file_type = gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_head_count(int(heads))
    writer.add_head_count_kv(int(kv_heads))
    writer.add_rope_dimension_count(int(head_dim))
    writer.add_key_length(int(head_dim))
    writer.add_value_length(int(head_dim))
    writer.add_rope_freq_base(float(_rope_theta(config)))
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(int(file_type))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(tokens.index("<s>"))
    writer.add_eos_token_id(tokens.index("</s>"))
    writer.add_unk_token_id(tokens.index("<unk>"))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm.weight": "attn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
    }
    if "lm_head.weight" not in state:  # tied embeddings
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    written = 0
    for key, value in state.items():
        target = names.get(key)
        if target is None:
            match = re.match(r"model\.layers\.(\d+)\.(.+)$", key)
            if match is None or match.group(2) not in per_layer:
                if key.endswith("rotary_emb.inv_freq"):
                    continue
                raise ExportError(f"unexpected tensor {key} (merge the LoRA adapter first)")
            target = f"blk.{match.group(1)}.{per_layer[match.group(2)]}"
            if match.group(2) == "self_attn.q_proj.weight":
                value = _permute(value, heads)
            elif match.group(2) == "self_attn.k_proj.weight":
                value = _permute(value, kv_heads)
        # norms stay float32, as llama.cpp's converter keeps 1-D tensors
        array = value.astype(np.float32 if value.ndim == 1 else float_type)
        writer.add_tensor(target, np.ascontiguousarray(array))
        written += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    (path.with_suffix(".json")).write_text(
        json.dumps({"tensors": written, "vocab": len(tokens), "dtype": dtype}), encoding="utf-8"
    )
    return path


def _rope_theta(config: Any) -> float:
    theta = getattr(config, "rope_theta", None)
    if theta is None:
        parameters = getattr(config, "rope_parameters", None) or {}
        theta = parameters.get("rope_theta", 10000.0)
    return float(theta)
