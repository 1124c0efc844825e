"""Export a (merged) Mistral-architecture or Gemma 3 model and its tokenizer to GGUF for llama.cpp.

Written with the `gguf` package's writer, as llama.cpp's own converter does for Mistral: the
architecture is `llama`; the query and key projections are permuted from Hugging Face's
rotate-half layout to llama.cpp's interleaved RoPE layout; the vocabulary is SentencePiece-style
(`tokenizer.ggml.model = "llama"`) with one score per token (earlier BPE merges score higher)
and the token types llama.cpp expects (normal, unknown, control, byte).

Gemma 3 (`export_gemma3_gguf`, architecture `gemma3`) as llama.cpp's converter writes it: no
query/key permutation (llama.cpp runs Gemma's RoPE in Hugging Face's rotate-half layout), RMS norm
weights + 1 (Hugging Face's Gemma norm multiplies by 1 + weight, llama.cpp's by the weight), the
output layer tied to the embeddings. The tests use it to build small Gemma bases for llama.cpp.

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


GEMMA3_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
}
LLAMA_CPP_SWA_PERIOD = 6  # llama.cpp's default Gemma 3 pattern: every 6th layer is global


def export_gemma3_gguf(
    model: Any,
    tokenizer: Any,
    path: Path,
    *,
    name: str = "vergemont-gemma3",
    dtype: Literal["f32", "f16"] = "f32",
) -> Path:
    """Writes a transformers Gemma3ForCausalLM (merged) and its SentencePiece-style tokenizer."""
    import gguf

    config = model.config
    if config.model_type not in ("gemma3_text", "gemma3"):
        raise ExportError(f"not a Gemma 3 text model: {config.model_type}")
    head_dim = int(config.head_dim)
    if float(config.query_pre_attn_scalar) != head_dim:
        raise ExportError("llama.cpp scales Gemma 3 attention by 1/sqrt(head_dim)")
    layer_types = list(config.layer_types)
    full = ["full_attention"] * len(layer_types)
    periodic = [
        "full_attention" if (i + 1) % LLAMA_CPP_SWA_PERIOD == 0 else "sliding_attention"
        for i in range(len(layer_types))
    ]
    if layer_types not in (full, periodic):
        raise ExportError("only all-global or llama.cpp's 1-in-6 global layer patterns export")
    tokens, scores, types = vocabulary(tokenizer)
    if len(tokens) != config.vocab_size:
        raise ExportError(
            f"the tokenizer has {len(tokens)} tokens but the model {config.vocab_size} embeddings"
        )
    rope = getattr(config, "rope_parameters", None) or {}
    float_type = np.float16 if dtype == "f16" else np.float32
    file_type = gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "gemma3")
    writer.add_name(name)
    writer.add_context_length(int(config.max_position_embeddings))
    writer.add_embedding_length(int(config.hidden_size))
    writer.add_block_count(int(config.num_hidden_layers))
    writer.add_feed_forward_length(int(config.intermediate_size))
    writer.add_head_count(int(config.num_attention_heads))
    writer.add_head_count_kv(int(config.num_key_value_heads))
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(float(config.rms_norm_eps))
    writer.add_rope_freq_base(float(rope.get("full_attention", rope).get("rope_theta", 1e6)))
    if layer_types != full:
        writer.add_sliding_window(int(config.sliding_window))
        writer.add_rope_freq_base_swa(
            float(rope.get("sliding_attention", {}).get("rope_theta", 10000.0))
        )
    if getattr(config, "final_logit_softcapping", None):
        writer.add_final_logit_softcapping(float(config.final_logit_softcapping))
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(int(file_type))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    for token_id, setter in (
        (tokenizer.bos_token_id, writer.add_bos_token_id),
        (tokenizer.eos_token_id, writer.add_eos_token_id),
        (tokenizer.unk_token_id, writer.add_unk_token_id),
        (tokenizer.pad_token_id, writer.add_pad_token_id),
    ):
        if token_id is not None:
            setter(int(token_id))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(False)

    written = 0
    for key, tensor in model.state_dict().items():
        value = tensor.detach().float().cpu().numpy()
        if key == "model.embed_tokens.weight":
            target = "token_embd.weight"
        elif key == "model.norm.weight":
            target, value = "output_norm.weight", value + 1.0
        elif key == "lm_head.weight":
            continue  # tied to the embeddings
        else:
            match = re.match(r"model\.layers\.(\d+)\.(.+)$", key)
            if match is None or match.group(2) not in GEMMA3_NAMES:
                raise ExportError(f"unexpected tensor {key} (merge the LoRA adapter first)")
            target = f"blk.{match.group(1)}.{GEMMA3_NAMES[match.group(2)]}"
            if match.group(2).endswith("norm.weight"):
                value = value + 1.0
        array = value.astype(np.float32 if value.ndim == 1 else float_type)
        writer.add_tensor(target, np.ascontiguousarray(array))
        written += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
