"""A short QLoRA run on a GPU machine: `python -m finetune.gpu_check --out DIR [--dry-run]`.

Checks that the QLoRA path works where a CUDA GPU and bitsandbytes exist: a Mistral-architecture
model built from a config at a realistic-ish size (hidden 1024, 8 layers, grouped-query
attention) with random weights, loaded in 4-bit NF4, LoRA on every projection, a few dozen steps
on instruction examples made from the corpus sources with the tiny tokenizer. Writes `loss.png`
and `summary.json` (steps, losses, peak GPU memory, tokens/s, versions) into --out.

Imports only torch, transformers, peft, tokenizers (and bitsandbytes through transformers): the
GPU machine has no project environment. `--dry-run` runs the same code on the CPU, in full
precision, at a tiny size.
"""

import argparse
import json
import platform
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
SOURCES = REPOSITORY / "knowledge" / "corpus" / "sources"


def examples_from_sources(limit: int) -> list[Any]:
    """Instruction examples in the Mistral format: a passage of the sources, its first sentence."""
    from finetune.lora import Example
    from finetune.tokenizer import corpus_texts

    paragraphs = [p for p in corpus_texts(SOURCES) if len(p) > 200 and not p.startswith(("#", "|"))]
    examples = []
    for paragraph in paragraphs[:limit]:
        text = " ".join(paragraph.split())
        first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        examples.append(
            Example(
                f"<s>[INST] Quelle est l'idée principale de cet extrait ?\n{text[:900]} [/INST]",
                first,
            )
        )
    return examples


def _version(module: str) -> str | None:
    try:
        return str(__import__(module).__version__)
    except Exception:
        return None


def run(
    out: Path, *, dry_run: bool, steps: int, hidden: int, layers: int, max_length: int
) -> dict[str, Any]:
    import torch

    from finetune.lora import LoraSettings, LoraTrainer, build_tiny_mistral
    from finetune.plotting import line_chart
    from finetune.tokenizer import as_transformers, corpus_texts, train_tokenizer

    started = time.perf_counter()
    device = "cpu" if dry_run else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device (use --dry-run on a CPU)")
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = as_transformers(
        train_tokenizer(corpus_texts(SOURCES), vocab_size=4000 if not dry_run else 600)
    )
    heads = max(4, hidden // 64)
    model = build_tiny_mistral(
        len(tokenizer),
        hidden_size=hidden,
        layers=layers,
        heads=heads,
        kv_heads=max(1, heads // 2),
        intermediate_size=int(hidden * 3.5),
        max_positions=4096,
    )
    parameters = sum(p.numel() for p in model.parameters())
    settings = LoraSettings(
        max_steps=steps,
        warmup_steps=max(1, steps // 10),
        eval_every=max(1, steps // 4),
        save_every=max(1, steps // 2),
        max_length=max_length,
        learning_rate=3e-4,
        quantization="none" if dry_run else "nf4",
    )
    examples = examples_from_sources(limit=4 * steps + 16)
    train, evaluation = examples[16:], examples[:16]
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as directory:
        base = Path(directory) / "base"
        model.save_pretrained(str(base))
        del model
        trainer = LoraTrainer(base, tokenizer, Path(directory) / "run", settings, device=device)
        built = time.perf_counter()
        result = trainer.train(train, evaluation, resume=False)
        quantized = sum(1 for m in trainer.model.modules() if type(m).__name__ == "Linear4bit")
    line_chart(
        {
            "train loss": [(float(s), v) for s, v in result.train_losses],
            "eval loss": [(float(s), v) for s, v in result.eval_losses],
        },
        out / "loss.png",
        title=f"QLoRA check ({'CPU dry run' if dry_run else 'GPU, NF4'})",
        xlabel="step",
        ylabel="loss",
    )
    summary = {
        "mode": "dry-run (CPU, full precision)" if dry_run else "QLoRA (CUDA, 4-bit NF4)",
        "device": torch.cuda.get_device_name(0)
        if device == "cuda"
        else platform.processor() or "cpu",
        "model": {
            "hidden": hidden,
            "layers": layers,
            "heads": heads,
            "parameters": parameters,
            "vocab": len(tokenizer),
            "linear4bit_modules": quantized,
        },
        "settings": {
            "rank": settings.rank,
            "alpha": settings.alpha,
            "batch": settings.batch_size,
            "max_length": max_length,
            "steps": steps,
        },
        "steps": result.steps,
        "train_losses": result.train_losses,
        "eval_losses": result.eval_losses,
        "tokens_per_second": round(result.tokens_per_second, 1),
        "training_seconds": round(result.seconds, 1),
        "setup_seconds": round(built - started, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "peak_gpu_memory_mib": round(result.peak_memory_bytes / 2**20, 1)
        if result.peak_memory_bytes
        else None,
        "versions": {
            m: _version(m) for m in ("torch", "transformers", "peft", "bitsandbytes", "tokenizers")
        },
        "python": sys.version.split()[0],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finetune.gpu_check", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true", help="CPU, full precision, tiny model")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--layers", type=int)
    parser.add_argument("--max-length", type=int)
    args = parser.parse_args(argv)
    dry = args.dry_run
    summary = run(
        args.out,
        dry_run=dry,
        steps=args.steps or (4 if dry else 40),
        hidden=args.hidden or (64 if dry else 1024),
        layers=args.layers or (2 if dry else 8),
        max_length=args.max_length or (128 if dry else 512),
    )
    losses = summary["train_losses"]
    print(
        f"{summary['mode']}: {summary['steps']} steps, "
        f"loss {losses[0][1]:.3f} → {losses[-1][1]:.3f}, {summary['tokens_per_second']} tokens/s, "
        f"peak GPU memory {summary['peak_gpu_memory_mib']} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
