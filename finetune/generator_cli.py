"""Command-line options of the generator's fine-tune (`python -m finetune lora --base-model …`) and
of its export (`python -m finetune export-generator`); see finetune/generator.py."""

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any

from finetune.generator import (
    ARTIFACT_DIR,
    DEFAULT_CORPUS,
    DEFAULT_RUN_DIR,
    GENERATOR_LORA,
    OFFLINE_BASE,
    SOURCES,
    DataSettings,
    command_line,
)
from finetune.grounded import MixSettings


def add_generator_options(parser: argparse.ArgumentParser) -> None:
    """Options of `lora` that select and feed a real base model (the tiny Mistral without them)."""
    parser.add_argument(
        "--base-model",
        help=f"{OFFLINE_BASE} (the bundled GGUF, dequantised), a .gguf file or a transformers "
        "directory (e.g. Mistral-7B-Instruct-v0.2 on a GPU); without it: the tiny random Mistral",
    )
    parser.add_argument(
        "--quantization",
        choices=("none", "nf4"),
        default="none",
        help="nf4: QLoRA, the base in 4-bit NF4 (bitsandbytes, CUDA GPU only)",
    )
    parser.add_argument(
        "--base-gguf", type=Path, help="the GGUF the adapter is for (a transformers base)"
    )
    parser.add_argument(
        "--run-dir", type=Path, help=f"default: {DEFAULT_RUN_DIR} for {OFFLINE_BASE}"
    )
    parser.add_argument(
        "--sources",
        default=",".join(SOURCES),
        help="comma-separated: piaf (train articles), own (team questions of train pages; needs "
        "the built corpus), triplets (the --triplets files)",
    )
    parser.add_argument(
        "--triplets",
        type=Path,
        action="append",
        default=[],
        help="generated triplets (JSONL), repeatable (default: finetune/data/generated*.jsonl "
        "once they exist); those not of training pages are left out",
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--init-adapter",
        type=Path,
        help="start a new run from this GGUF LoRA (e.g. the committed "
        "knowledge/artifacts/generator/adapter.gguf): its weights, a fresh optimizer",
    )
    parser.add_argument(
        "--prompt-format",
        choices=("completion", "mistral_instruct"),
        help="the knowledge base's prompt (default: completion for a GGUF base, "
        "mistral_instruct for a transformers directory)",
    )
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="float32")
    parser.add_argument("--eval-examples", type=int, default=32, help="the eval-loss slice (dev)")
    parser.add_argument(
        "--limit-examples", type=int, help="train on the first N composed examples only"
    )


def generator_lora_settings(args: argparse.Namespace) -> Any:
    """The generator run's defaults, with what the command line gave explicitly."""
    overrides = {
        "rank": args.rank,
        "alpha": args.alpha,
        "batch_size": args.lora_batch_size,
        "max_steps": args.max_steps,
        "warmup_steps": args.warmup_steps,
        "eval_every": args.eval_every,
        "save_every": args.save_every,
        "stop_at_loss": args.stop_at_loss,
        "learning_rate": args.learning_rate,
        "max_length": args.max_length,
        "seed": args.seed,
    }
    values = {k: v for k, v in overrides.items() if v is not None}
    if args.lora_epochs is not None and args.max_steps is None:
        values.update(epochs=args.lora_epochs, max_steps=None)
    values.update(quantization=args.quantization, precision=args.precision)
    return dataclasses.replace(GENERATOR_LORA, **values)


def run_generator_training(args: argparse.Namespace) -> dict[str, Any]:
    from finetune.generator import train_generator

    base = args.base_model
    is_gguf = base == OFFLINE_BASE or base.endswith(".gguf")
    run_dir = args.run_dir or (
        DEFAULT_RUN_DIR
        if base == OFFLINE_BASE
        else DEFAULT_RUN_DIR.parent / f"{Path(base).stem}-lora"
    )
    data = DataSettings(
        sources=tuple(s.strip() for s in args.sources.split(",") if s.strip()),
        triplets=tuple(args.triplets),
        corpus=args.corpus,
        mix=MixSettings(passage_chars=320),
        eval_examples=args.eval_examples,
        train_limit=args.limit_examples,
    )
    _log_to_stderr()
    return train_generator(
        base,
        run_dir,
        lora=generator_lora_settings(args),
        data=data,
        prompt_format=args.prompt_format or ("completion" if is_gguf else "mistral_instruct"),
        base_gguf=args.base_gguf,
        resume=not args.no_resume,
        command=command_line(args.argv),
        init_adapter=args.init_adapter,
    )


def add_export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    parser.add_argument(
        "--checkpoint", type=Path, help="a checkpoint directory (default: the newest)"
    )
    parser.add_argument("--out", type=Path, default=ARTIFACT_DIR)
    parser.add_argument(
        "--base-gguf", type=Path, help="the quantised base (default: the run's own GGUF)"
    )
    parser.add_argument(
        "--eval-limit",
        type=int,
        default=40,
        help="dev examples answered by llama.cpp with and without the adapter (0: none)",
    )


def run_export(args: argparse.Namespace) -> dict[str, Any]:
    from finetune.generator import export_generator

    _log_to_stderr()
    provenance = export_generator(
        args.run_dir,
        args.out,
        checkpoint=args.checkpoint,
        base_gguf=args.base_gguf,
        eval_limit=args.eval_limit,
        command=command_line(args.argv),
    )
    return {
        "adapter": str(args.out / provenance["adapter"]["file"]),
        "bytes": provenance["adapter"]["bytes"],
        "steps": provenance["training"]["steps"],
        "metrics": {k: v for k, v in provenance["metrics"].items() if k != "dev_generation"}
        | _generation_summary(provenance["metrics"].get("dev_generation")),
    }


def _generation_summary(generation: dict[str, Any] | None) -> dict[str, Any]:
    if not generation:
        return {}
    keep = ("rouge_l", "cites_the_right_passage", "refuses_unanswerable", "false_refusal")
    return {
        f"dev_{variant}": {k: generation[variant][k] for k in keep}
        for variant in ("base", "base_plus_adapter")
    }


def _log_to_stderr() -> None:
    """Progress lines (one per step) on stderr, whatever -v says."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    for name in ("finetune.generator", "finetune.lora"):
        log = logging.getLogger(name)
        log.setLevel(logging.INFO)
        log.propagate = False  # once, whatever the root logger does
        if not log.handlers:
            log.addHandler(handler)
