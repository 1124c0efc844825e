"""The fine-tuned generator's LoRA adapter in the knowledge base: which adapter the settings pick,
that the answer service's llama.cpp generator is built with it, and (real model) that llama.cpp
applies it."""

from pathlib import Path

import pytest

from knowledge.errors import GenerationError
from knowledge.generation import (
    GENERATOR_ADAPTER,
    OFFLINE_MODEL_ALIAS,
    LlamaCppGenerator,
    resolve_adapter,
)
from knowledge.settings import KnowledgeSettings

pytestmark = pytest.mark.unit


class TestResolveAdapter:
    def test_auto_is_the_committed_adapter_for_the_offline_model_when_it_exists(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        committed = tmp_path / "adapter.gguf"
        monkeypatch.setattr("knowledge.generation.GENERATOR_ADAPTER", committed)
        assert resolve_adapter("auto", OFFLINE_MODEL_ALIAS) is None  # not exported yet
        committed.write_bytes(b"GGUF")
        assert resolve_adapter("auto", OFFLINE_MODEL_ALIAS) == committed
        # Trained over Gemma 3 270M: never applied to another model.
        assert resolve_adapter("auto", "/models/mistral-7b-instruct.Q4_K_M.gguf") is None

    def test_empty_means_none_and_a_path_is_taken_as_given(self) -> None:
        assert resolve_adapter("", OFFLINE_MODEL_ALIAS) is None
        assert resolve_adapter("/adapters/x.gguf", "m.gguf") == Path("/adapters/x.gguf")

    def test_the_default_setting_is_auto_and_points_under_the_artifacts(self) -> None:
        settings = KnowledgeSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.llm_adapter == "auto"
        assert GENERATOR_ADAPTER.parts[-3:] == ("artifacts", "generator", "adapter.gguf")

    def test_the_setting_reads_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KNOWLEDGE_LLM_ADAPTER", "")
        assert KnowledgeSettings(_env_file=None).llm_adapter == ""  # type: ignore[call-arg]


class TestAnswerServiceGenerator:
    def test_the_llama_cpp_generator_gets_the_adapter(self, tmp_path: Path) -> None:
        from knowledge.pipelines import build_answer_service

        adapter = tmp_path / "adapter.gguf"
        settings = KnowledgeSettings(  # type: ignore[call-arg]
            _env_file=None, llm_model=OFFLINE_MODEL_ALIAS, llm_adapter=str(adapter)
        )
        service = build_answer_service(settings, retriever=None)  # type: ignore[arg-type]
        assert isinstance(service.generator, LlamaCppGenerator)
        assert service.generator.lora_path == str(adapter)

    def test_without_a_model_there_is_no_generator_and_no_adapter(self) -> None:
        from knowledge.pipelines import build_answer_service

        settings = KnowledgeSettings(_env_file=None, llm_model="")  # type: ignore[call-arg]
        assert build_answer_service(settings, retriever=None).generator is None  # type: ignore[arg-type]

    def test_a_missing_adapter_file_is_a_clear_error_at_load(self, tmp_path: Path) -> None:
        generator = LlamaCppGenerator(lora_path=str(tmp_path / "absent.gguf"))
        with pytest.raises(GenerationError, match="LoRA adapter not found"):
            generator.warm_up()


@pytest.mark.integration
@pytest.mark.slow
def test_llama_cpp_answers_differently_with_an_adapter(tmp_path: Path) -> None:
    """A LoRA with non-zero B on every projection of the real base changes the greedy answer."""
    import torch

    from finetune.gguf_lora import TENSOR_NAMES, export_lora_gguf, read_base
    from knowledge.generation import resolve_model_path

    base = resolve_model_path(OFFLINE_MODEL_ALIAS)
    info = read_base(base)
    generator_ = torch.Generator().manual_seed(0)
    state = {}
    for module, short in TENSOR_NAMES.items():
        for layer in range(18):
            outputs, inputs = info.shapes[f"blk.{layer}.{short}.weight"]
            prefix = f"base_model.model.model.layers.{layer}.{module}"
            state[f"{prefix}.lora_A.weight"] = torch.randn(8, inputs, generator=generator_) * 0.05
            state[f"{prefix}.lora_B.weight"] = torch.randn(outputs, 8, generator=generator_) * 0.05
    adapter = export_lora_gguf(state, base, tmp_path / "adapter.gguf", scale=2.0)
    prompt = "La capitale de la France est"
    plain = LlamaCppGenerator(max_tokens=8, n_ctx=256).generate(prompt, deadline_s=60)
    adapted = LlamaCppGenerator(max_tokens=8, n_ctx=256, lora_path=str(adapter)).generate(
        prompt, deadline_s=60
    )
    assert plain != adapted
