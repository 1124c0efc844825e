"""The generator's fine-tune end to end on tiny random models (Gemma 3 and Mistral layouts): the
command line trains on PIAF's training articles, resumes, exports a GGUF LoRA with its provenance,
and llama.cpp answers with it; QLoRA is refused on a CPU before anything is loaded."""

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from finetune.__main__ import main
from finetune.gguf_export import export_gemma3_gguf, export_gguf
from finetune.lora import build_tiny_gemma3, build_tiny_mistral
from finetune.tokenizer import save_tokenizer, train_tokenizer
from knowledge.eval.splits import PIAF_FILE

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF not available"),
]


def piaf_texts(limit: int = 300) -> list[str]:
    data = json.loads(PIAF_FILE.read_text(encoding="utf-8"))
    texts = [p["context"] for a in data["data"] for p in a["paragraphs"]][:limit]
    return [*texts, "Tu es l'assistant de Vergemont Assurances. Extraits : Question : Réponse :"]


@pytest.fixture(scope="module", params=["gemma3", "mistral"])
def tiny_base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A transformers directory (model + tokenizer) and the GGUF of the same weights."""
    directory = tmp_path_factory.mktemp(request.param)
    tokenizer = save_tokenizer(train_tokenizer(piaf_texts(), vocab_size=2000), directory / "hf")
    if request.param == "gemma3":
        model = build_tiny_gemma3(len(tokenizer), hidden_size=32, head_dim=8, layers=2)
        gguf = export_gemma3_gguf(model, tokenizer, directory / "base.gguf")
    else:
        model = build_tiny_mistral(len(tokenizer), hidden_size=32, layers=2, intermediate_size=64)
        gguf = export_gguf(model, tokenizer, directory / "base.gguf")
    model.save_pretrained(str(directory / "hf"))
    return directory / "hf", gguf, request.param


def train_command(base: Path, gguf: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        "lora",
        "--base-model",
        str(base),
        "--base-gguf",
        str(gguf),
        "--run-dir",
        str(run_dir),
        "--sources",
        "piaf",
        "--prompt-format",
        "completion",
        "--limit-examples",
        "24",
        "--eval-examples",
        "4",
        "--rank",
        "4",
        "--alpha",
        "8",
        "--max-length",
        "384",
        "--save-every",
        "2",
        "--eval-every",
        "2",
        "--learning-rate",
        "1e-2",
        *extra,
    ]


@pytest.mark.slow
def test_train_resume_export_and_answer_with_the_adapter(
    tiny_base: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, gguf, _ = tiny_base
    run_dir = tmp_path / "run"
    assert main(train_command(base, gguf, run_dir, "--max-steps", "2")) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["steps"] == 2
    data = json.loads((run_dir / "data" / "report.json").read_text())
    assert data["counts"]["train_examples"] == 24
    assert data["counts"]["train_piaf_questions"] > 1000  # PIAF's training articles
    assert data["counts"]["dev_piaf_questions"] > 100
    assert set(data["files"]) >= {"../shared/benchmarks/piaf/piaf-v1.0.json"}

    assert main(train_command(base, gguf, run_dir, "--max-steps", "4")) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["resumed_from"] == 2
    assert second["steps"] == 4
    steps = [json.loads(line) for line in (run_dir / "steps.jsonl").read_text().splitlines()]
    assert [row["step"] for row in steps if "loss" in row] == [1, 2, 3, 4]
    assert steps[0] == {"step": 0, "eval_loss": steps[0]["eval_loss"]}  # the base's eval loss

    out = tmp_path / "artifact"
    assert (
        main(
            ["export-generator", "--run-dir", str(run_dir), "--out", str(out), "--eval-limit", "2"]
        )
        == 0
    )
    exported = json.loads(capsys.readouterr().out)
    assert exported["steps"] == 4
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["training"]["checkpoint"] == "step-4"
    assert provenance["adapter"]["rank"] == 4
    assert len(provenance["loss_curve"]["train"]) == 4
    assert provenance["data"]["train_sha256"] == data["train_sha256"]
    assert "lora --base-model" in provenance["training"]["command"]
    generation = provenance["metrics"]["dev_generation"]
    assert generation["examples"] == 2
    assert (out / "adapter.gguf").stat().st_size == provenance["adapter"]["bytes"]
    assert (out / "loss.png").exists()

    # A new run on another machine starts from the exported adapter: before its first step it
    # scores what the adapter scored (float16 aside; the Mistral's query/key rows put back).
    trained = next(row["eval_loss"] for row in steps if row["step"] == 4 and "eval_loss" in row)
    warm = tmp_path / "warm"
    command = train_command(base, gguf, warm, "--max-steps", "1", "--seed", "7")
    assert main([*command, "--init-adapter", str(out / "adapter.gguf")]) == 0
    capsys.readouterr()
    start = json.loads((warm / "steps.jsonl").read_text().splitlines()[0])
    assert start["step"] == 0
    assert start["eval_loss"] == pytest.approx(trained, abs=0.02)
    # much nearer the adapter's score than the base's
    assert abs(start["eval_loss"] - steps[0]["eval_loss"]) > 3 * abs(start["eval_loss"] - trained)
    warm_run = json.loads((warm / "run.json").read_text())
    assert warm_run["init_adapter"]["sha256"] == provenance["adapter"]["sha256"]
    assert warm_run["lora"]["seed"] == 7  # another order of the examples than the first run's

    wrong_rank = train_command(base, gguf, tmp_path / "other", "--max-steps", "1", "--rank", "8")
    assert main([*wrong_rank, "--init-adapter", str(out / "adapter.gguf")]) != 0
    assert "rank 4" in capsys.readouterr().err
    not_an_adapter = train_command(base, gguf, tmp_path / "other", "--max-steps", "1")
    assert main([*not_an_adapter, "--init-adapter", str(gguf)]) != 0
    assert "not a GGUF LoRA adapter" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CPU-only check")
def test_qlora_on_a_cpu_is_refused_before_loading_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["lora", "--base-model", "gemma3-270m", "--quantization", "nf4", "--run-dir", str(tmp_path)]
    )
    assert code == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
