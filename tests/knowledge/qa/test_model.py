"""The reader's network with its linear layers trained whole (rank 0): the change from the
encoder is what is stored, in int8, and the loaded artifact computes what the trained network
did."""

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from knowledge.qa.model import (
    WEIGHTS_FILE,
    AdapterConfig,
    DeltaLinear,
    SpanModel,
    add_adapters,
    load_artifact,
    save_artifact,
)


def _tiny(config: AdapterConfig) -> SpanModel:
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    settings = BertConfig(
        vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=40,
    )  # fmt: skip
    encoder = BertModel(settings, add_pooling_layer=False)
    add_adapters(encoder, config.rank, config.alpha, config.layers)
    return SpanModel(encoder, 32)


def _outputs(model: nn.Module) -> torch.Tensor:
    ids = torch.tensor([[1, 5, 9, 12, 3, 7, 2, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 0]])
    with torch.no_grad():
        start, end = model(ids, mask)
    return torch.cat([start, end])


def test_whole_layer_changes_are_stored_in_int8_and_reloaded(tmp_path: Path) -> None:
    config = AdapterConfig(rank=0, layers=1)
    model = _tiny(config)
    deltas = [m for m in model.modules() if isinstance(m, DeltaLinear)]
    assert len(deltas) == 6  # the top layer's six linear layers; the lower one is frozen
    before = _outputs(model.eval())
    with torch.no_grad():
        for module in deltas:
            module.delta.normal_(std=0.05)
            module.delta_bias.normal_(std=0.05)
    trained = _outputs(model)
    assert not torch.allclose(before, trained, atol=1e-3)  # the change does change the network

    save_artifact(model, config, tmp_path)
    stored = load_file(str(tmp_path / WEIGHTS_FILE))
    int8 = [name for name, tensor in stored.items() if tensor.dtype == torch.int8]
    assert len(int8) == 6
    assert all(name.endswith(".delta") for name in int8)

    loaded, loaded_config = load_artifact(tmp_path, tmp_path, build=lambda _dir, c: _tiny(c))
    assert loaded_config.rank == 0
    assert not any(isinstance(m, DeltaLinear) for m in loaded.modules())  # merged
    assert torch.allclose(_outputs(loaded), trained, atol=2e-2)
    assert not torch.allclose(_outputs(loaded), before, atol=1e-3)


def test_only_the_changes_train_in_whole_layer_mode() -> None:
    model = _tiny(AdapterConfig(rank=0, layers=None))
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert all(
        name.endswith((".delta", ".delta_bias")) or "LayerNorm" in name or name.startswith("head")
        for name in trainable
    )
    assert not any("embeddings.word_embeddings" in name for name in trainable)
