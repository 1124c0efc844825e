"""The knowledge base's generator, fine-tuned: a LoRA over a base model on grounded answers, then
exported as a GGUF LoRA that llama.cpp applies over the quantised base at load time.

    python -m finetune lora --base-model gemma3-270m   # train, resumable: .run/finetune/gemma-lora
    python -m finetune export-generator                 # newest checkpoint → GGUF + provenance

Base models:
- `gemma3-270m` (the offline alias) or a `.gguf` file: dequantised into transformers once
  (`base/` in the run directory, float32 safetensors), so the adapter is trained over the very
  weights llama.cpp runs, and exported against that GGUF;
- a transformers directory (Mistral-7B-Instruct on a GPU with `--quantization nf4`, a tiny model
  in the tests): trained as it is; `--base-gguf` names the GGUF the adapter is for (the export
  needs it).

The run directory holds `run.json` (command, base, settings), `base.json`, `data/` (the examples
trained on and the dev examples, with their sources' hashes), the trainer's `checkpoints/`,
`steps.jsonl` (one line per step) and `training.json`. A run over an existing directory resumes
from its newest checkpoint with the data it started with.
"""

import json
import logging
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from common.hashing import file_sha256
from finetune.errors import ExportError, FinetuneError, TrainingError
from finetune.grounded import (
    DataReport,
    Item,
    MixSettings,
    Passage,
    compose,
    corpus_pool,
    examples,
    own_items,
    piaf_items,
    read_examples,
    triplet_items,
    write_examples,
)
from finetune.lora import Example, LoraSettings
from knowledge.eval.splits import data_file_name

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parent.parent
OFFLINE_BASE = "gemma3-270m"
DEFAULT_RUN_DIR = REPOSITORY / ".run" / "finetune" / "gemma-lora"
DEFAULT_CORPUS = REPOSITORY / "build" / "corpus"
ARTIFACT_DIR = REPOSITORY / "knowledge" / "artifacts" / "generator"
ADAPTER_FILE = "adapter.gguf"
PROVENANCE_FILE = "provenance.json"
SOURCES = ("piaf", "own", "triplets")

# The generator run's defaults: short inputs on a 2-core CPU (see docs/finetune.md).
GENERATOR_LORA = LoraSettings(
    rank=32,
    alpha=64,
    batch_size=4,
    max_steps=400,
    learning_rate=2e-4,
    warmup_steps=10,
    eval_every=25,
    save_every=10,
    max_length=352,
    eval_at_start=True,
)


@dataclass(frozen=True)
class DataSettings:
    sources: tuple[str, ...] = SOURCES
    triplets: tuple[Path, ...] = ()
    corpus: Path = DEFAULT_CORPUS
    mix: MixSettings = field(default_factory=lambda: MixSettings(passage_chars=320))
    eval_examples: int = 32  # the eval-loss slice: the first dev examples
    train_limit: int | None = None  # the first N composed examples (tests, smoke runs)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["triplets"] = [str(p) for p in self.triplets]
        data["corpus"] = str(self.corpus)
        return data


# ---------------------------------------------------------------- base models


@dataclass(frozen=True)
class BaseModel:
    name: str  # as given on the command line
    model_dir: Path | None  # a transformers directory (None: dequantise `gguf`)
    gguf: Path | None  # the GGUF the adapter is applied to


def resolve_base(base_model: str, base_gguf: Path | None = None) -> BaseModel:
    from knowledge.errors import GenerationError
    from knowledge.generation import resolve_model_path

    if base_model == OFFLINE_BASE or base_model.endswith(".gguf"):
        try:
            gguf = resolve_model_path(base_model)
        except GenerationError as exc:
            raise TrainingError(str(exc)) from exc
        return BaseModel(base_model, None, gguf)
    directory = Path(base_model).expanduser()
    if not (directory / "config.json").is_file():
        raise TrainingError(
            f"--base-model {base_model}: neither {OFFLINE_BASE}, a .gguf file nor a transformers "
            "directory with a config.json (download the model first; nothing is fetched here)"
        )
    return BaseModel(base_model, directory, base_gguf)


def load_gguf_base(path: Path, *, tokenizer: bool = True) -> tuple[Any, Any]:
    """The model of a GGUF file dequantised into transformers (float32), and its tokenizer
    (None with `tokenizer=False`: building it from the GGUF's vocabulary takes half a minute)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model: Any = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    # The weights are plain float32 now: forget the GGUF origin so that they can be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if not tokenizer:
        return model.eval(), None
    return model.eval(), AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def prepare_base(base: BaseModel, run_dir: Path) -> Path:
    """The transformers directory to train over; a GGUF base is dequantised into `run_dir/base`
    once (its completion marker written last)."""
    if base.model_dir is not None:
        return base.model_dir
    if base.gguf is None:
        raise TrainingError(f"{base.name}: no model directory and no GGUF")
    target = run_dir / "base"
    marker = target / "dequantized-from.json"
    if marker.exists() and json.loads(marker.read_text())["sha256"] == file_sha256(base.gguf):
        return target
    logger.info("dequantising %s into %s", base.gguf, target)
    model, tokenizer = load_gguf_base(base.gguf)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    tokenizer.save_pretrained(str(target))
    marker.write_text(
        json.dumps({"gguf": str(base.gguf), "sha256": file_sha256(base.gguf)}), encoding="utf-8"
    )
    return target


def check_quantization(quantization: str, device: str) -> None:
    if quantization == "nf4" and device != "cuda":
        raise TrainingError(
            "--quantization nf4 (QLoRA) needs a CUDA GPU and bitsandbytes; on this machine use "
            "--quantization none"
        )


# ---------------------------------------------------------------- data


def build_data(
    settings: DataSettings,
    count_tokens: Callable[[str], int],
    prompt_format: str,
    max_length: int,
) -> tuple[list[Example], list[Example], DataReport]:
    """Training examples (train side of the manifest) and dev examples (dev side), composed."""
    from knowledge.eval.splits import (
        GENERATED_FILES,
        MANIFEST,
        PIAF_FILE,
        QUESTION_FILES,
        Manifest,
    )

    unknown = set(settings.sources) - set(SOURCES)
    if unknown:
        raise FinetuneError(f"unknown data sources {sorted(unknown)} (known: {', '.join(SOURCES)})")
    manifest = Manifest.load(MANIFEST)
    report = DataReport()
    report.files[data_file_name(MANIFEST)] = file_sha256(MANIFEST)
    train: list[Item] = []
    dev: list[Item] = []
    train_pool: list[Passage] = []  # passages a training question may be shown
    dev_pool: list[Passage] = []
    passage_chars = settings.mix.passage_chars
    if "piaf" in settings.sources:
        report.files[data_file_name(PIAF_FILE)] = file_sha256(PIAF_FILE)
        train += piaf_items(PIAF_FILE, manifest, "train", passage_chars)
        dev += piaf_items(PIAF_FILE, manifest, "dev", passage_chars)
    if "own" in settings.sources:
        from knowledge.qa.data import page_chunks

        if not settings.corpus.is_dir():
            raise FinetuneError(
                f"{settings.corpus} is missing: build the corpus (`python -m knowledge.corpus "
                "build`) or leave the team's questions out (--sources piaf,triplets)"
            )
        chunks = page_chunks(settings.corpus)
        for path in QUESTION_FILES:
            report.files[data_file_name(path)] = file_sha256(path)
        train += own_items(manifest, "train", chunks, QUESTION_FILES, report)
        dev += own_items(manifest, "dev", chunks, QUESTION_FILES, report)
        train_pool += corpus_pool(chunks, "train")
        dev_pool += corpus_pool(chunks, "dev")
    if "triplets" in settings.sources:
        # Without --triplets: the data team's generated sets (finetune/data/), once they exist.
        for path in settings.triplets or tuple(p for p in GENERATED_FILES if p.is_file()):
            report.files[data_file_name(path)] = file_sha256(path)
            train += triplet_items(path, report, "train")
    for name, items in (("train", train), ("dev", dev)):
        for source, count in sorted(_count(items).items()):
            report.counts[f"{name}_{source}_questions"] = count
    if not train:
        raise FinetuneError("no training data: check --sources and the data files")
    train_pool += [item.passage for item in train]
    dev_pool += [item.passage for item in dev]
    mix = settings.mix
    composed_train = compose(
        train, train_pool, mix, repeats=lambda item: mix.own_repeats if item.source == "own" else 1
    )
    composed_dev = compose(dev, dev_pool, replace(mix, seed=mix.seed + 1))
    if settings.train_limit is not None:
        composed_train = composed_train[: settings.train_limit]
    train_examples = examples(
        composed_train, prompt_format, count_tokens, max_length, report, "train"
    )
    dev_examples = examples(composed_dev, prompt_format, count_tokens, max_length, report, "dev")
    return train_examples, dev_examples, report


def _count(items: Sequence[Item]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.source] = counts.get(item.source, 0) + 1
    return counts


def stored_data(run_dir: Path) -> tuple[list[Example], list[Example]] | None:
    data = run_dir / "data"
    if not (data / "report.json").exists():
        return None
    return read_examples(data / "train.jsonl"), read_examples(data / "dev.jsonl")


def store_data(
    run_dir: Path,
    train: Sequence[Example],
    dev: Sequence[Example],
    report: DataReport,
    extra: dict[str, Any],
) -> dict[str, Any]:
    data = run_dir / "data"
    summary = {
        **report.as_dict(),
        **extra,
        "train_sha256": write_examples(data / "train.jsonl", train),
        "dev_sha256": write_examples(data / "dev.jsonl", dev),
    }
    (data / "report.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


# ---------------------------------------------------------------- training


def train_generator(
    base_model: str,
    run_dir: Path,
    *,
    lora: LoraSettings = GENERATOR_LORA,
    data: DataSettings | None = None,
    prompt_format: str = "completion",
    base_gguf: Path | None = None,
    resume: bool = True,
    device: str | None = None,
    command: str | None = None,
    init_adapter: Path | None = None,
) -> dict[str, Any]:
    """Trains (or resumes) the generator's LoRA in `run_dir`; returns the training summary.
    `init_adapter`: a GGUF LoRA of an earlier run (the committed adapter) a new run starts from,
    so training goes on where the machine that ran it left off."""
    import torch
    from transformers import AutoTokenizer

    from finetune.lora import LoraTrainer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_quantization(lora.quantization, device)
    data = data or DataSettings()
    base = resolve_base(base_model, base_gguf)
    starting = None
    if init_adapter is not None:
        from finetune.gguf_lora import read_lora_gguf

        if base.gguf is None:
            raise TrainingError("--init-adapter needs the base's GGUF (--base-gguf)")
        try:
            starting = read_lora_gguf(init_adapter, base.gguf)
        except ExportError as exc:
            raise TrainingError(str(exc)) from exc
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model_dir = prepare_base(base, run_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    stored = stored_data(run_dir) if resume else None
    if stored is None:
        train, dev, report = build_data(data, count, prompt_format, lora.max_length)
        data_summary = store_data(
            run_dir,
            train,
            dev,
            report,
            {"settings": data.as_dict(), "prompt_format": prompt_format},
        )
    else:
        train, dev = stored
        data_summary = json.loads((run_dir / "data" / "report.json").read_text())
        logger.info("resuming with the stored data (%d training examples)", len(train))
    (run_dir / "base.json").write_text(
        json.dumps(
            {
                "base_model": base.name,
                "model_dir": str(model_dir),
                "gguf": str(base.gguf) if base.gguf else None,
                "gguf_sha256": file_sha256(base.gguf) if base.gguf else None,
            },
            indent=2,
        )
    )
    (run_dir / "run.json").write_text(
        json.dumps(
            {
                "command": command or "",
                "base_model": base.name,
                "prompt_format": prompt_format,
                "lora": asdict(lora),
                "data": data_summary.get("settings", {}),
                "device": device,
                "init_adapter": (
                    {"file": data_file_name(init_adapter), "sha256": file_sha256(init_adapter)}
                    if init_adapter is not None
                    else None
                ),
            },
            indent=2,
            default=str,
        )
    )
    prepared = time.perf_counter() - started

    def log(step: int, loss: float) -> None:
        logger.info("step %d loss %.4f", step, loss)

    trainer = LoraTrainer(
        model_dir, tokenizer, run_dir, lora, device=device, on_step=log, init_adapter=starting
    )
    result = trainer.train(train, dev[: data.eval_examples], resume=resume)
    return {
        **result.as_dict(),
        "train_examples": len(train),
        "eval_examples": len(dev[: data.eval_examples]),
        "preparation_seconds": round(prepared, 1),
        "run_dir": str(run_dir),
    }


# ---------------------------------------------------------------- export


def newest_checkpoint(run_dir: Path) -> Path:
    from finetune.lora import DONE_MARKER

    directory = run_dir / "checkpoints"
    complete = [
        p
        for p in directory.glob("step-*")
        if (p / DONE_MARKER).exists() and p.name.removeprefix("step-").isdigit()
    ]
    if not complete:
        raise ExportError(f"no complete checkpoint in {directory}: train first")
    return max(complete, key=lambda p: int(p.name.removeprefix("step-")))


def export_generator(
    run_dir: Path,
    out_dir: Path = ARTIFACT_DIR,
    *,
    checkpoint: Path | None = None,
    base_gguf: Path | None = None,
    eval_limit: int = 40,
    command: str | None = None,
) -> dict[str, Any]:
    """Writes `out_dir/adapter.gguf` (float16) from a checkpoint (the newest by default) and
    `out_dir/provenance.json`; measures base and base + adapter on `eval_limit` dev examples."""
    import torch

    from finetune.gguf_lora import adapter_parameters, export_lora_gguf
    from finetune.lora import STATE_FILE

    checkpoint = checkpoint or newest_checkpoint(run_dir)
    state = torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=False)
    settings = state["settings"]
    base_info = json.loads((run_dir / "base.json").read_text())
    gguf = base_gguf or (Path(base_info["gguf"]) if base_info.get("gguf") else None)
    if gguf is None:
        raise ExportError("the run's base has no GGUF: pass --base-gguf (the quantised base)")
    if (
        base_info.get("gguf_sha256")
        and base_gguf is None
        and file_sha256(gguf) != base_info["gguf_sha256"]
    ):
        raise ExportError(f"{gguf} is not the GGUF the run was trained over (hash differs)")
    run = json.loads((run_dir / "run.json").read_text())
    step = int(state["step"])
    adapter = export_lora_gguf(
        state["adapter"],
        gguf,
        out_dir / ADAPTER_FILE,
        scale=settings["alpha"] / settings["rank"],
        name=f"vergemont-generator-lora-step-{step}",
        metadata={
            "general.base_model.name": base_info["base_model"],
            "vergemont.prompt_format": run.get("prompt_format", "completion"),
        },
    )
    data_report = json.loads((run_dir / "data" / "report.json").read_text())
    train_losses = [(int(s), float(v)) for s, v in state["train_losses"]]
    eval_losses = [(int(s), float(v)) for s, v in state["eval_losses"]]
    provenance: dict[str, Any] = {
        "adapter": {
            "file": ADAPTER_FILE,
            "sha256": file_sha256(adapter),
            "bytes": adapter.stat().st_size,
            "parameters": adapter_parameters(adapter),
            "dtype": "f16",
            "rank": settings["rank"],
            "alpha": settings["alpha"],
            "target_modules": list(settings["target_modules"]),
        },
        "base": {
            "name": base_info["base_model"],
            "gguf": gguf.name,
            "gguf_sha256": file_sha256(gguf),
        },
        "prompt_format": run.get("prompt_format", "completion"),
        "training": {
            "command": run.get("command", ""),
            "started_from": run.get("init_adapter"),
            "device": run.get("device", ""),
            "checkpoint": checkpoint.name,
            "steps": step,
            "planned_steps": settings.get("max_steps"),
            "examples_seen": step * settings["batch_size"] * settings["gradient_accumulation"],
            "seconds": round(float(state["seconds"]), 1),
            "tokens": int(state["tokens"]),
            "settings": settings,
        },
        "data": {
            "split": "knowledge/eval/splits.json: train side for training, dev side for the eval "
            "loss and the checks below; the test side is never read here",
            "files_sha256": data_report.get("files", {}),
            "train_sha256": data_report.get("train_sha256"),
            "dev_sha256": data_report.get("dev_sha256"),
            "counts": data_report.get("counts", {}),
            "skipped": data_report.get("skipped", {}),
            "settings": data_report.get("settings", {}),
        },
        "loss_curve": {"train": train_losses, "eval": eval_losses},
        "metrics": {
            "train_loss_first_10": _mean([v for _, v in train_losses[:10]]),
            "train_loss_last_10": _mean([v for _, v in train_losses[-10:]]),
            "eval_loss_start": eval_losses[0][1] if eval_losses else None,
            "eval_loss_last": eval_losses[-1][1] if eval_losses else None,
        },
        "export_command": command or "",
    }
    if eval_limit > 0:
        dev = read_examples(run_dir / "data" / "dev.jsonl")[:eval_limit]
        provenance["metrics"]["dev_generation"] = {
            "examples": len(dev),
            "base": evaluate_generation(gguf, None, dev),
            "base_plus_adapter": evaluate_generation(gguf, adapter, dev),
        }
    _loss_chart(train_losses, eval_losses, out_dir / "loss.png", step)
    (out_dir / PROVENANCE_FILE).write_text(
        json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return provenance


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _loss_chart(
    train: Sequence[tuple[int, float]],
    evaluation: Sequence[tuple[int, float]],
    path: Path,
    step: int,
) -> None:
    from finetune.plotting import line_chart

    line_chart(
        {
            "train loss": [(float(s), v) for s, v in train],
            "eval loss (dev slice)": [(float(s), v) for s, v in evaluation],
        },
        path,
        title=f"Generator LoRA, step {step}",
        xlabel="step",
        ylabel="loss per answer token",
    )


_CITATION = re.compile(r"\[(\d+)\]")


def evaluate_generation(
    base_gguf: Path,
    adapter: Path | None,
    dev: Sequence[Example],
    *,
    max_tokens: int = 64,
    deadline_s: float = 180.0,
) -> dict[str, Any]:
    """Greedy answers of llama.cpp (the knowledge base's generator) on dev examples: ROUGE-L of
    the answerable ones (citations left out), their citation of the right passage, refusals of
    the unanswerable ones, false refusals, seconds per answer. An example that fails (a time-out
    on a busy machine) is counted and left out of the scores."""
    from knowledge.errors import GenerationError
    from knowledge.eval.answers import rouge_l
    from knowledge.generation import LlamaCppGenerator
    from knowledge.prompts import DONT_KNOW

    generator = LlamaCppGenerator(
        model=str(base_gguf),
        lora_path=str(adapter) if adapter else None,
        n_ctx=1024,
        max_tokens=max_tokens,
    )
    generator.warm_up()
    rouge: list[float] = []
    cited: list[float] = []
    refused: list[float] = []
    false_refusals: list[float] = []
    seconds: list[float] = []
    samples: list[dict[str, str]] = []
    failed = 0
    for example in dev:
        started = time.perf_counter()
        try:
            text = generator.generate(example.prompt, deadline_s=deadline_s)
        except GenerationError as exc:  # a time-out on a busy machine: counted, left out
            logger.warning("dev example not answered: %s", exc)
            failed += 1
            continue
        seconds.append(time.perf_counter() - started)
        refusal = text.lower().startswith(DONT_KNOW.lower())
        if example.completion.startswith(DONT_KNOW):
            refused.append(float(refusal))
        else:
            false_refusals.append(float(refusal))
            reference = _CITATION.sub("", example.completion)
            rouge.append(0.0 if refusal else rouge_l(_CITATION.sub("", text), reference))
            want = _CITATION.findall(example.completion)
            cited.append(float(bool(want) and _CITATION.findall(text)[:1] == want[-1:]))
        if len(samples) < 5:
            samples.append({"target": example.completion, "answer": text})
    ordered = sorted(seconds)
    return {
        "failed": failed,
        "answerable": len(rouge),
        "unanswerable": len(refused),
        "rouge_l": _mean(rouge),
        "cites_the_right_passage": _mean(cited),
        "refuses_unanswerable": _mean(refused),
        "false_refusal": _mean(false_refusals),
        "seconds_p50": round(ordered[len(ordered) // 2], 2) if ordered else None,
        "samples": samples,
    }


def command_line(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(arg) for arg in ["python", "-m", "finetune", *argv])
