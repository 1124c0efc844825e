"""LoRA end to end on CPU: a tiny Mistral built from a config, a tokenizer trained here, training
with checkpoints, resume and stop-at-loss, GGUF export, and llama.cpp running the export."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from finetune.errors import TrainingError
from finetune.gguf_export import export_gguf
from finetune.lora import (
    Example,
    LoraSettings,
    LoraTrainer,
    build_tiny_gemma3,
    build_tiny_mistral,
    encode,
    supervised_loss,
)
from finetune.tokenizer import BOS, EOS, UNK, load_tokenizer, save_tokenizer, train_tokenizer

pytestmark = pytest.mark.unit

TEXTS = [
    "Le délai de renonciation est de quatorze jours à compter de la signature du contrat.",
    "La franchise du bris de glace est de 90 € en cas de remplacement du pare-brise.",
    "Les frais vétérinaires sont remboursés à 80 % dans la limite de 1 500 € par an.",
    "Quel est le délai de carence ? Il est de trois mois pour les soins dentaires.",
] * 5
EXAMPLES = [
    Example("<s>[INST] Quel est le délai de renonciation ? [/INST]", "Quatorze jours [1]"),
    Example(
        "<s>[INST] Quelle franchise pour le pare-brise ? [/INST]", "90 € en cas de remplacement [1]"
    ),
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("tokenizer")
    save_tokenizer(train_tokenizer(TEXTS, vocab_size=400), directory)
    return load_tokenizer(directory)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer: Any) -> Path:
    directory = tmp_path_factory.mktemp("base")
    build_tiny_mistral(
        len(tokenizer), hidden_size=32, layers=2, heads=4, kv_heads=2, intermediate_size=64
    ).save_pretrained(str(directory))
    return directory


def settings(**overrides: Any) -> LoraSettings:
    values: dict[str, Any] = {
        "rank": 4,
        "alpha": 8,
        "batch_size": 2,
        "max_steps": 8,
        "warmup_steps": 1,
        "eval_every": 4,
        "save_every": 2,
        "learning_rate": 1e-2,
        "max_length": 64,
    }
    values.update(overrides)
    return LoraSettings(**values)


class TestTokenizer:
    def test_special_tokens_have_mistral_ids_and_text_round_trips(self, tokenizer: Any) -> None:
        assert [tokenizer.convert_tokens_to_ids(t) for t in (UNK, BOS, EOS)] == [0, 1, 2]
        ids = tokenizer("Délai : 14 jours ✓", add_special_tokens=False)["input_ids"]
        assert 0 not in ids  # byte fallback: nothing is unknown
        assert tokenizer.decode(ids) == "Délai : 14 jours ✓"


class TestEncoding:
    def test_only_the_answer_is_supervised(self, tokenizer: Any) -> None:
        [item] = encode(tokenizer, EXAMPLES[:1], max_length=64)
        supervised = [
            t for t, label in zip(item["input_ids"], item["labels"], strict=True) if label != -100
        ]
        assert tokenizer.decode(supervised).strip() == "Quatorze jours [1]</s>"

    def test_a_long_prompt_loses_its_start_but_keeps_bos_and_answer(self, tokenizer: Any) -> None:
        long = Example("<s>[INST] " + "mot " * 200 + "[/INST]", "Oui [1]")
        [item] = encode(tokenizer, [long], max_length=48)
        assert len(item["input_ids"]) == 48
        assert item["input_ids"][0] == 1
        assert item["labels"][-1] == 2


class TestTraining:
    def test_training_lowers_the_loss_and_writes_adapter_and_checkpoints(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        trainer = LoraTrainer(base_dir, tokenizer, tmp_path, settings(), device="cpu")
        result = trainer.train(EXAMPLES * 2, EXAMPLES)
        assert result.steps == 8
        assert result.stopped == "max_steps"
        assert result.train_losses[-1][1] < result.train_losses[0][1]
        assert [step for step, _ in result.eval_losses] == [4, 8]
        assert result.eval_losses[-1][1] < result.eval_losses[0][1]
        assert (tmp_path / "adapter" / "adapter_config.json").exists()
        kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
        assert kept == ["step-6", "step-8"]  # the two newest
        assert result.tokens_per_second > 0

    def test_an_interrupted_run_resumes_from_its_last_checkpoint(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        steps: list[int] = []

        def interrupt(step: int, loss: float) -> None:
            steps.append(step)
            if step == 5:
                raise KeyboardInterrupt

        first = LoraTrainer(
            base_dir, tokenizer, tmp_path, settings(), device="cpu", on_step=interrupt
        )
        with pytest.raises(KeyboardInterrupt):
            first.train(EXAMPLES * 2)
        resumed: list[int] = []
        second = LoraTrainer(
            base_dir,
            tokenizer,
            tmp_path,
            settings(),
            device="cpu",
            on_step=lambda step, loss: resumed.append(step),
        )
        result = second.train(EXAMPLES * 2)
        assert result.resumed_from == 4
        assert resumed == [5, 6, 7, 8]
        assert [s for s, _ in result.train_losses] == list(range(1, 9))

    def test_training_stops_when_the_loss_reaches_the_target(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        trainer = LoraTrainer(
            base_dir,
            tokenizer,
            tmp_path,
            settings(max_steps=200, stop_at_loss=5.5, loss_window=2),
            device="cpu",
        )
        result = trainer.train(EXAMPLES)
        assert result.stopped == "stop_at_loss"
        assert result.steps < 200
        assert sum(loss for _, loss in result.train_losses[-2:]) / 2 <= 5.5

    def test_no_examples_is_a_clear_error(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        with pytest.raises(TrainingError, match="no training examples"):
            LoraTrainer(base_dir, tokenizer, tmp_path, settings(), device="cpu").train([])

    def test_qlora_without_a_gpu_is_refused_with_the_reason(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        trainer = LoraTrainer(
            base_dir, tokenizer, tmp_path, settings(quantization="nf4"), device="cpu"
        )
        with pytest.raises(TrainingError, match="CUDA GPU"):
            trainer.train(EXAMPLES)

    def test_brief_defaults(self) -> None:
        defaults = LoraSettings()
        assert (defaults.rank, defaults.alpha, defaults.batch_size, defaults.epochs) == (
            32,
            64,
            4,
            3.0,
        )
        assert (defaults.warmup_steps, defaults.eval_every) == (100, 100)


def separable(fillers: list[str]) -> list[Example]:
    """The answer depends on one word of the prompt only (animal → its family)."""
    return [
        Example(f"Extrait : {filler} le {animal} dort. Question : quelle famille ?", family)
        for filler in fillers
        for animal, family in (("chat", "félin [1]"), ("chien", "canin [1]"))
    ]


class TestSeparableSet:
    """A training run whose loss does not fall is a failed run: the loop must learn a rule that
    a tiny model can learn, and the held-out variants must show it (not memorisation)."""

    def test_the_loss_falls_on_a_separable_set_and_on_its_held_out_variants(
        self, tokenizer: Any, tmp_path: Path
    ) -> None:
        base = tmp_path / "gemma"
        build_tiny_gemma3(len(tokenizer), hidden_size=32, head_dim=8, init_std=0.2).save_pretrained(
            str(base)
        )
        train = separable(["Hier", "Le soir", "Au jardin", "Souvent", "Parfois", "En hiver"])
        held_out = separable(["Le matin", "Chez nous"])
        trainer = LoraTrainer(
            base,
            tokenizer,
            tmp_path / "run",
            settings(max_steps=60, batch_size=4, eval_every=20, eval_at_start=True),
            device="cpu",
        )
        result = trainer.train(train, held_out)
        first, last = result.train_losses[0][1], result.train_losses[-1][1]
        assert last < 0.3 * first
        assert result.eval_losses[0][0] == 0  # the base model, before any step
        assert result.eval_losses[-1][1] < 0.3 * result.eval_losses[0][1]


class TestSupervisedLoss:
    def test_it_equals_the_models_own_loss_on_the_answer_tokens(
        self, tokenizer: Any, base_dir: Path
    ) -> None:
        from transformers import AutoModelForCausalLM

        from finetune.lora import collate

        model = AutoModelForCausalLM.from_pretrained(str(base_dir)).eval()
        batch = collate(encode(tokenizer, EXAMPLES, max_length=64), tokenizer.pad_token_id)
        with torch.no_grad():
            summed, count = supervised_loss(model, batch)
            reference = model(**batch).loss
        assert count == sum(1 for row in batch["labels"][:, 1:].flatten() if row != -100)
        assert float(summed / count) == pytest.approx(float(reference), rel=1e-5)


class TestGgufExport:
    def test_llama_cpp_computes_the_same_logits_as_the_merged_model(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        from llama_cpp import Llama

        trainer = LoraTrainer(base_dir, tokenizer, tmp_path, settings(max_steps=3), device="cpu")
        trainer.train(EXAMPLES)
        merged = trainer.merged()
        path = export_gguf(merged, tokenizer, tmp_path / "model.gguf")
        ids = tokenizer("<s>[INST] Quel est le délai ? [/INST]", add_special_tokens=False)[
            "input_ids"
        ]
        llm = Llama(model_path=str(path), n_ctx=128, logits_all=True, verbose=False)
        llm.eval(ids)
        ours = np.asarray(llm.scores[: len(ids)])
        with torch.no_grad():
            reference = merged(torch.tensor([ids])).logits[0].numpy()
        assert np.abs(ours - reference).max() < 1e-3
        assert (
            llm.tokenize("Quel délai".encode(), add_bos=False)
            == tokenizer("Quel délai", add_special_tokens=False)["input_ids"]
        )

    def test_the_export_loads_through_the_knowledge_base_generator(
        self, tokenizer: Any, base_dir: Path, tmp_path: Path
    ) -> None:
        from transformers import AutoModelForCausalLM

        from knowledge.generation import LlamaCppGenerator

        model = AutoModelForCausalLM.from_pretrained(str(base_dir))
        path = export_gguf(model, tokenizer, tmp_path / "base.gguf", dtype="f16")
        generator = LlamaCppGenerator(model=str(path), n_ctx=128, max_tokens=5)
        text = generator.generate("<s>[INST] Quel est le délai ? [/INST]", deadline_s=30)
        assert isinstance(text, str)
        assert generator.count_tokens("Quel délai") > 0
