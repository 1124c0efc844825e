"""The GGUF LoRA export: llama.cpp applies the adapter over its base exactly as peft does.

Small Gemma 3 and Mistral bases (random weights) are written to GGUF, a LoRA with non-zero B on
the seven projections is exported, and llama.cpp's logits with base + adapter are compared with
transformers + peft's. The real Gemma 3 270M base is used for the checks that need no transformers
model (names and shapes against its tensor list, size of a rank-32 adapter, llama.cpp loading it);
the full comparison on it is `slow`.
"""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from finetune.errors import ExportError
from finetune.gguf_export import export_gemma3_gguf, export_gguf
from finetune.gguf_lora import TENSOR_NAMES, adapter_parameters, export_lora_gguf, read_base
from finetune.lora import MISTRAL_TARGET_MODULES, build_tiny_gemma3, build_tiny_mistral
from finetune.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer

pytestmark = pytest.mark.unit

TEXTS = [
    "Le délai de renonciation est de quatorze jours à compter de la signature du contrat.",
    "La franchise du bris de glace est de 90 € en cas de remplacement du pare-brise.",
    "Les frais vétérinaires sont remboursés à 80 % dans la limite de 1 500 € par an.",
] * 5
PROMPT = "Quel est le délai de renonciation du contrat ?"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("tokenizer")
    save_tokenizer(train_tokenizer(TEXTS, vocab_size=400), directory)
    return load_tokenizer(directory)


def with_lora(model: Any, rank: int = 4, alpha: int = 8, seed: int = 1, b_std: float = 0.3) -> Any:
    """`model` with a LoRA whose B is not zero (a fresh LoRA changes nothing)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank, lora_alpha=alpha, target_modules=list(MISTRAL_TARGET_MODULES), lora_dropout=0.0
    )
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * b_std)
    return peft_model.eval()


def adapter_state(peft_model: Any) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    return dict(get_peft_model_state_dict(peft_model))


def llama_cpp_logits(base: Path, ids: list[int], adapter: Path | None = None) -> Any:
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(base),
        lora_path=str(adapter) if adapter else None,
        n_ctx=128,
        logits_all=True,
        verbose=False,
    )
    llm.eval(ids)
    return np.asarray(llm.scores[: len(ids)])


def torch_logits(model: Any, ids: list[int]) -> Any:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].float().numpy()


def ids_of(tokenizer: Any) -> list[int]:
    return [tokenizer.bos_token_id, *tokenizer(PROMPT, add_special_tokens=False)["input_ids"]]


# ggml's GELU reads a float16 table: logits of a few units agree to a few thousandths.
TOLERANCE = 1e-2


@pytest.fixture(scope="module")
def base(tokenizer: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    model = build_tiny_gemma3(len(tokenizer), init_std=0.2).eval()
    path = export_gemma3_gguf(model, tokenizer, tmp_path_factory.mktemp("g") / "base.gguf")
    return model, path


class TestGemma3Adapter:
    def test_llama_cpp_runs_the_exported_gemma_base_like_transformers(
        self, tokenizer: Any, base: tuple[Any, Path]
    ) -> None:
        model, path = base
        ids = ids_of(tokenizer)
        assert np.abs(llama_cpp_logits(path, ids) - torch_logits(model, ids)).max() < TOLERANCE

    def test_llama_cpp_applies_the_adapter_as_peft_does(
        self, tokenizer: Any, base: tuple[Any, Path], tmp_path: Path
    ) -> None:
        model, path = base
        ids = ids_of(tokenizer)
        base_logits = llama_cpp_logits(path, ids)
        peft_model = with_lora(model)
        reference = torch_logits(peft_model, ids)
        adapter = export_lora_gguf(
            adapter_state(peft_model), path, tmp_path / "adapter.gguf", scale=8 / 4, dtype="f32"
        )
        ours = llama_cpp_logits(path, ids, adapter)
        peft_model.unload()  # the module-scoped base model gets its plain layers back
        assert np.abs(base_logits - reference).max() > 100 * TOLERANCE  # the adapter matters
        assert np.abs(ours - reference).max() < TOLERANCE

    def test_a_float16_adapter_agrees_to_float16_precision(
        self, tokenizer: Any, base: tuple[Any, Path], tmp_path: Path
    ) -> None:
        model, path = base
        ids = ids_of(tokenizer)
        peft_model = with_lora(model, seed=2)
        reference = torch_logits(peft_model, ids)
        adapter = export_lora_gguf(
            adapter_state(peft_model), path, tmp_path / "adapter.gguf", scale=2.0
        )
        ours = llama_cpp_logits(path, ids, adapter)
        without = llama_cpp_logits(path, ids)
        peft_model.unload()
        assert np.abs(ours - reference).max() < max(
            TOLERANCE, 0.02 * np.abs(without - reference).max()
        )

    def test_the_adapter_file_says_what_llama_cpp_checks(
        self, tokenizer: Any, base: tuple[Any, Path], tmp_path: Path
    ) -> None:
        import gguf

        model, path = base
        peft_model = with_lora(model, rank=4, alpha=16)
        adapter = export_lora_gguf(
            adapter_state(peft_model), path, tmp_path / "adapter.gguf", scale=16 / 4
        )
        peft_model.unload()
        reader = gguf.GGUFReader(str(adapter))
        fields = {key: reader.fields[key].contents() for key in reader.fields}
        assert fields["general.type"] == "adapter"
        assert fields["general.architecture"] == "gemma3"
        assert fields["adapter.type"] == "lora"
        assert fields["adapter.lora.alpha"] == pytest.approx(16.0)
        names = {tensor.name for tensor in reader.tensors}
        assert "blk.1.ffn_down.weight.lora_a" in names
        assert "blk.0.attn_q.weight.lora_b" in names
        assert len(names) == 2 * 7 * 2  # A and B, seven projections, two layers
        assert {t.tensor_type.name for t in reader.tensors} == {"F16"}

    def test_the_header_reader_agrees_with_the_gguf_package(self, base: tuple[Any, Path]) -> None:
        import gguf

        _, path = base
        info = read_base(path)
        reader = gguf.GGUFReader(str(path))
        assert info.shapes == {
            t.name: tuple(int(n) for n in reversed(t.shape)) for t in reader.tensors
        }
        assert (info.architecture, info.head_count, info.head_count_kv) == ("gemma3", 4, 1)

    def test_an_adapter_for_another_base_is_refused(
        self, tokenizer: Any, base: tuple[Any, Path], tmp_path: Path
    ) -> None:
        _, path = base
        bigger = build_tiny_gemma3(len(tokenizer), hidden_size=96)
        peft_model = with_lora(bigger)
        with pytest.raises(ExportError, match="do not fit"):
            export_lora_gguf(adapter_state(peft_model), path, tmp_path / "a.gguf", scale=2.0)
        assert not (tmp_path / "a.gguf").exists()

    def test_a_state_that_is_not_a_lora_is_refused(
        self, base: tuple[Any, Path], tmp_path: Path
    ) -> None:
        _, path = base
        with pytest.raises(ExportError, match="unexpected adapter tensor"):
            export_lora_gguf(
                {"model.embed_tokens.weight": torch.zeros(2, 2)}, path, tmp_path / "a.gguf", scale=1
            )


class TestMistralAdapter:
    def test_query_and_key_rows_are_permuted_like_the_llama_base(
        self, tokenizer: Any, tmp_path: Path
    ) -> None:
        model = build_tiny_mistral(
            len(tokenizer), hidden_size=64, layers=2, heads=4, kv_heads=2, intermediate_size=96
        ).eval()
        path = export_gguf(model, tokenizer, tmp_path / "base.gguf")
        ids = ids_of(tokenizer)
        peft_model = with_lora(model)
        reference = torch_logits(peft_model, ids)
        adapter = export_lora_gguf(
            adapter_state(peft_model), path, tmp_path / "adapter.gguf", scale=2.0, dtype="f32"
        )
        assert np.abs(llama_cpp_logits(path, ids, adapter) - reference).max() < 1e-3


def real_base() -> Path:
    from knowledge.generation import resolve_model_path

    return resolve_model_path("gemma3-270m")


def random_adapter_for(base: Path, rank: int) -> dict[str, torch.Tensor]:
    """peft-named tensors A (rank × inputs) and B (outputs × rank) for every projection of a GGUF
    base, from its tensor list: no transformers model needed."""
    info = read_base(base)
    generator = torch.Generator().manual_seed(0)
    state = {}
    for module, short in TENSOR_NAMES.items():
        for name, shape in info.shapes.items():
            if not name.endswith(f".{short}.weight"):
                continue
            outputs, inputs = shape
            layer = name.split(".")[1]
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            state[f"{prefix}.lora_A.weight"] = torch.randn(rank, inputs, generator=generator) * 0.02
            state[f"{prefix}.lora_B.weight"] = (
                torch.randn(outputs, rank, generator=generator) * 0.02
            )
    return state


class TestRealGemmaBase:
    def test_a_rank_32_adapter_on_the_seven_projections_fits_and_loads(
        self, tmp_path: Path
    ) -> None:
        base = real_base()
        state = random_adapter_for(base, 32)
        assert len(state) == 2 * 7 * 18
        adapter = export_lora_gguf(state, base, tmp_path / "adapter.gguf", scale=2.0)
        assert adapter_parameters(adapter) == 7_593_984
        assert adapter.stat().st_size <= 30 * 2**20
        from llama_cpp import Llama

        plain = Llama(model_path=str(base), n_ctx=64, logits_all=True, verbose=False)
        ids = plain.tokenize(PROMPT.encode())
        plain.eval(ids)
        adapted = Llama(
            model_path=str(base), lora_path=str(adapter), n_ctx=64, logits_all=True, verbose=False
        )
        adapted.eval(ids)
        difference = np.abs(np.asarray(adapted.scores[: len(ids)]) - plain.scores[: len(ids)])
        assert difference.max() > 0.1


@pytest.mark.slow
def test_on_the_real_base_llama_cpp_with_the_adapter_follows_peft(tmp_path: Path) -> None:
    """Gemma 3 270M dequantised into transformers, a LoRA with non-zero B that moves the logits
    by a few units. llama.cpp runs the quantised base with its own kernels (8-bit activations:
    not bit-exact), so the test is relative: with the adapter, llama.cpp is as close to
    transformers + peft as the two bases are to each other, and far closer than without it.
    (Measured: 0.240 mean absolute logit difference with the adapter, 0.240 between the bases,
    2.34 without the adapter.)"""
    from llama_cpp import Llama

    from finetune.generator import load_gguf_base

    base = real_base()
    model, _ = load_gguf_base(base, tokenizer=False)
    ids = Llama(model_path=str(base), vocab_only=True, verbose=False).tokenize(PROMPT.encode())
    assert ids[0] == model.config.bos_token_id
    gap = np.abs(llama_cpp_logits(base, ids) - torch_logits(model, ids)).mean()
    peft_model = with_lora(model, rank=8, alpha=16, b_std=0.03)
    reference = torch_logits(peft_model, ids)
    adapter = export_lora_gguf(adapter_state(peft_model), base, tmp_path / "a.gguf", scale=2.0)
    with_adapter = np.abs(llama_cpp_logits(base, ids, adapter) - reference).mean()
    without = np.abs(llama_cpp_logits(base, ids) - reference).mean()
    assert without > 4 * gap  # the adapter matters
    assert with_adapter < 1.5 * gap
