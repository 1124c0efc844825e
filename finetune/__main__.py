"""`python -m finetune STEP …`: the data team's fine-tuning workflow (see docs/finetune.md).

Steps (each reads the previous steps' files in --work-dir):
  contexts        documents → overlapping passages (~450 characters, ~60 overlap)
  generate        passages → (question, answer) pairs by templates or an LLM, resumable
  clean           grounded, French, deduplicated triplets
  export-review   triplets → JSONL for Prodigy / Label Studio
  import-review   reviewed labels → dataset/reviewed.jsonl (used by `split` when present)
  split           train / dev / test by the page-level manifest (--export: finetune/data/)
  retriever       bi-encoder + cross-encoder fine-tuning, before/after, adoption decision
  lora            tiny Mistral + tokenizer, LoRA training, loss PNG, merge, GGUF, llama.cpp load;
                  with --base-model: the generator's LoRA on grounded answers (resumable)
  export-generator  the generator's newest checkpoint → GGUF LoRA + provenance (+ dev check)
  export-embedder   the adopted bi-encoder → knowledge/artifacts/embedder (int8 deltas)
  evaluate        configurations (retriever × LLM × prompt) → report (markdown + HTML + PNG)
  demo            all of the above with small, bounded sizes
  report          evaluation runs (retriever, generators, robustness, calibration) →
                  docs/finetune-report.md, every figure traced to its run directory

Exit status: 0 success; 1 a step failed; 2 bad arguments or missing inputs.
"""

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError, FinetuneError
from finetune.pipeline import (
    DEFAULT_CONFIGURATIONS,
    DEFAULT_CORPUS,
    DEFAULT_WORK_DIR,
    Workspace,
    step_clean,
    step_contexts,
    step_evaluate,
    step_generate,
    step_lora,
    step_retriever,
    step_splits,
)

# The demo's report (docs/finetune-report.md is `report`'s, computed from its run directories).
DEFAULT_REPORT = DEFAULT_WORK_DIR / "demo-report"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m finetune",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR, help=f"default: {DEFAULT_WORK_DIR}"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    contexts = commands.add_parser("contexts", help="cut the documents into passages")
    contexts.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    contexts.add_argument("--chunk-size", type=int, default=450)
    contexts.add_argument("--chunk-overlap", type=int, default=60)
    contexts.add_argument("--categories", help="comma-separated product categories to keep")

    generate = commands.add_parser("generate", help="question/answer pairs of the passages")
    generate.add_argument(
        "--method",
        choices=("llm", "templates"),
        default="llm",
        help="llm: a model writes the pairs (--model, --endpoint); templates: question "
        "templates by section type, no model (finetune/templates.py)",
    )
    generate.add_argument(
        "--reader",
        action="store_true",
        help="templates: read each question with the extractive reader, keep its verdict",
    )
    generate.add_argument("--max-per-context", type=int, default=5, help="templates: pairs")
    generate.add_argument(
        "--refusal-share",
        type=float,
        default=0.25,
        help="templates: share of questions also paired with a passage that does not answer",
    )
    generate.add_argument(
        "--model",
        default="gemma3-270m",
        help="GGUF path, the offline alias, or the endpoint's model",
    )
    generate.add_argument(
        "--endpoint", help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1"
    )
    generate.add_argument("--api-key", help="for the endpoint (or leave unset)")
    generate.add_argument(
        "--limit", type=int, help="number of passages (spread over the documents)"
    )
    generate.add_argument("--max-tokens", type=int, default=200)
    generate.add_argument("--timeout", type=float, default=60.0, help="seconds per passage")

    commands.add_parser("clean", help="keep grounded, French, unique triplets")

    export = commands.add_parser("export-review", help="JSONL for Prodigy / Label Studio")
    export.add_argument("--out", type=Path, help="default: WORK_DIR/review/tasks.jsonl")
    review = commands.add_parser("import-review", help="apply reviewed labels")
    review.add_argument("labels", type=Path, help="Prodigy JSONL or Label Studio JSON/JSONL export")

    split = commands.add_parser("split", help="train / dev / test by the page of each triplet")
    split.add_argument(
        "--held-out", type=float, default=0.3, help="ignored: the page-level manifest decides"
    )
    split.add_argument("--no-handwritten", action="store_true", help="generated triplets only")
    split.add_argument(
        "--export",
        action="store_true",
        help="write the generated set, calibration and robustness sets to finetune/data/ and "
        "rebuild knowledge/eval/splits.json",
    )

    retriever = commands.add_parser("retriever", help="fine-tune the retriever and decide")
    retriever.add_argument("--epochs", type=int, default=1)
    retriever.add_argument("--batch-size", type=int, default=16)
    retriever.add_argument("--train-limit", type=int)
    retriever.add_argument("--no-cross-encoder", action="store_true")

    from finetune.generator_cli import add_export_options, add_generator_options

    lora = commands.add_parser(
        "lora", help="LoRA: the generator with --base-model, else the tiny Mistral model"
    )
    _lora_options(lora)
    add_generator_options(lora)
    export_generator = commands.add_parser(
        "export-generator", help="the generator's checkpoint → GGUF LoRA adapter + provenance"
    )
    add_export_options(export_generator)
    from finetune.embedder_export import add_embedder_export_options

    export_embedder = commands.add_parser(
        "export-embedder", help="the adopted bi-encoder → int8 weight deltas + provenance"
    )
    add_embedder_export_options(export_embedder)

    evaluate = commands.add_parser("evaluate", help="evaluate configurations, write the report")
    _evaluate_options(evaluate)

    from finetune.report_cli import add_report_options

    report = commands.add_parser(
        "report", help="run or collect the evaluation runs, write docs/finetune-report.md"
    )
    add_report_options(report)

    demo = commands.add_parser("demo", help="every step, small sizes (make finetune-demo)")
    demo.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    demo.add_argument(
        "--categories",
        default="auto,sante,animaux,deux_roues",
        help="product categories of the demo's corpus (embedding time grows with it)",
    )
    demo.add_argument("--limit", type=int, default=8, help="passages sent to the LLM")
    demo.add_argument("--max-tokens", type=int, default=160)
    demo.add_argument("--train-limit", type=int, default=320)
    _lora_options(demo, steps=60)
    _evaluate_options(demo, demo=True)
    return parser


# The tiny model's defaults; `lora --base-model` has its own (finetune.generator.GENERATOR_LORA),
# so the `lora` subcommand's options default to None ("the path's default").
TINY_LORA_DEFAULTS = {
    "rank": 32,
    "alpha": 64,
    "lora_batch_size": 4,
    "lora_epochs": 3.0,
    "warmup_steps": 100,
    "eval_every": 100,
    "save_every": 100,
    "stop_at_loss": 0.0,
    "learning_rate": 2e-4,
    "max_length": 512,
    "seed": 0,
}


def _lora_options(parser: argparse.ArgumentParser, steps: int | None = None) -> None:
    demo = steps is not None

    def defaults(tiny: Any, generator: Any) -> str | None:
        return None if demo else f"default: {tiny} (tiny model), {generator} (--base-model)"

    parser.add_argument("--rank", type=int, default=32 if demo else None)
    parser.add_argument("--alpha", type=int, default=64 if demo else None)
    parser.add_argument("--lora-batch-size", type=int, default=4 if demo else None)
    parser.add_argument("--lora-epochs", type=float, default=3.0 if demo else None)
    parser.add_argument("--max-steps", type=int, default=steps, help=defaults("epochs", 400))
    parser.add_argument(
        "--warmup-steps", type=int, default=10 if demo else None, help=defaults(100, 10)
    )
    parser.add_argument(
        "--eval-every", type=int, default=20 if demo else None, help=defaults(100, 25)
    )
    parser.add_argument(
        "--save-every", type=int, default=20 if demo else None, help=defaults(100, 10)
    )
    parser.add_argument("--stop-at-loss", type=float, default=0.0 if demo else None)
    parser.add_argument("--learning-rate", type=float, default=2e-3 if demo else None)
    parser.add_argument(
        "--max-length", type=int, default=512 if demo else None, help=defaults(512, 352)
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="order of the training examples (default 0); a run started from an adapter "
        "(--init-adapter) takes another seed to read other examples first",
    )
    parser.add_argument("--no-resume", action="store_true")


def _evaluate_options(parser: argparse.ArgumentParser, *, demo: bool = False) -> None:
    parser.add_argument(
        "--configuration",
        action="append",
        dest="configurations",
        help=f"RETRIEVER:LLM:PROMPT, repeatable (default: {', '.join(DEFAULT_CONFIGURATIONS)})",
    )
    parser.add_argument("--answerable", type=int, default=8 if demo else 40)
    parser.add_argument("--unanswerable", type=int, default=4 if demo else 24)
    parser.add_argument(
        "--robustness", type=int, default=1 if demo else 10, help="questions given 4 variants"
    )
    parser.add_argument("--llm-max-tokens", type=int, default=48 if demo else 80)
    parser.add_argument("--no-bertscore", action="store_true")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="path without suffix")


def _lora_settings(args: argparse.Namespace) -> Any:
    """The tiny model's settings: what the command line gave, else TINY_LORA_DEFAULTS."""
    from finetune.lora import LoraSettings

    def given(name: str) -> Any:
        value = getattr(args, name)
        return TINY_LORA_DEFAULTS[name] if value is None else value

    return LoraSettings(
        rank=given("rank"),
        alpha=given("alpha"),
        batch_size=given("lora_batch_size"),
        epochs=given("lora_epochs"),
        max_steps=args.max_steps,
        warmup_steps=given("warmup_steps"),
        eval_every=given("eval_every"),
        save_every=given("save_every"),
        stop_at_loss=given("stop_at_loss"),
        learning_rate=given("learning_rate"),
        max_length=given("max_length"),
        seed=given("seed"),
        quantization=getattr(args, "quantization", "none"),
    )


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def run(args: argparse.Namespace) -> int:
    ws = Workspace(args.work_dir)
    command = args.command
    if command == "contexts":
        categories = args.categories.split(",") if args.categories else None
        _print(step_contexts(ws, args.corpus, args.chunk_size, args.chunk_overlap, categories))
    elif command == "generate" and args.method == "templates":
        from finetune.data_steps import step_generate_templates

        _print(
            step_generate_templates(
                ws,
                limit=args.limit,
                reader=args.reader,
                max_per_context=args.max_per_context,
                refusal_share=args.refusal_share,
            )
        )
    elif command == "generate":
        _print(
            step_generate(
                ws,
                model=args.model,
                endpoint=args.endpoint,
                api_key=args.api_key,
                limit=args.limit,
                max_tokens=args.max_tokens,
                timeout_s=args.timeout,
            )
        )
    elif command == "clean":
        _print(step_clean(ws))
    elif command == "export-review":
        from finetune.records import read_triplets
        from finetune.review import export_for_review

        triplets, _ = read_triplets(ws.root / "dataset" / "clean.jsonl")
        out = args.out or ws.path("review", "tasks.jsonl")
        _print({"tasks": export_for_review(triplets, out), "file": str(out)})
    elif command == "import-review":
        from finetune.records import read_triplets, write_triplets
        from finetune.review import apply_review

        triplets, _ = read_triplets(ws.root / "dataset" / "clean.jsonl")
        kept, report = apply_review(triplets, args.labels)
        write_triplets(ws.path("dataset", "reviewed.jsonl"), kept)
        _print(report.as_dict())
    elif command == "split":
        from finetune.data_steps import step_split

        _print(step_split(ws, use_handwritten=not args.no_handwritten, export=args.export))
    elif command == "retriever":
        _print(
            step_retriever(
                ws,
                epochs=args.epochs,
                batch_size=args.batch_size,
                train_limit=args.train_limit,
                cross_encoder=not args.no_cross_encoder,
            )
        )
    elif command == "lora" and args.base_model:
        from finetune.generator_cli import run_generator_training

        summary = run_generator_training(args)
        _print({k: v for k, v in summary.items() if k not in ("train_losses", "eval_losses")})
    elif command == "export-generator":
        from finetune.generator_cli import run_export

        _print(run_export(args))
    elif command == "export-embedder":
        from finetune.embedder_export import run_embedder_export

        _print(run_embedder_export(args))
    elif command == "lora":
        summary = step_lora(ws, settings=_lora_settings(args), resume=not args.no_resume)
        _print({k: v for k, v in summary.items() if k not in ("train_losses", "eval_losses")})
    elif command == "evaluate":
        _print(_evaluate(ws, args)["timings_s"])
    elif command == "report":
        from finetune.report_cli import run_report

        return run_report(args)
    elif command == "demo":
        return demo(ws, args)
    return 0


def _evaluate(
    ws: Workspace, args: argparse.Namespace, embedder: Any | None = None
) -> dict[str, Any]:
    return step_evaluate(
        ws,
        configurations=args.configurations or DEFAULT_CONFIGURATIONS,
        answerable=args.answerable,
        unanswerable=args.unanswerable,
        robustness=args.robustness,
        report=args.report,
        bert_score=not args.no_bertscore,
        llm_max_tokens=args.llm_max_tokens,
        embedder=embedder,
    )


def demo(ws: Workspace, args: argparse.Namespace) -> int:
    from finetune.pipeline import build_embedder

    timings: dict[str, float] = {}
    started = time.perf_counter()

    def timed(name: str, function: Any, *a: Any, **k: Any) -> Any:
        clock = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        result = function(*a, **k)
        timings[name] = round(time.perf_counter() - clock, 1)
        print(f"   {name}: {timings[name]} s", file=sys.stderr, flush=True)
        return result

    if not args.corpus.exists() or not any(args.corpus.rglob("*.pdf")):
        from knowledge.corpus.__main__ import main as corpus_main

        timed("corpus", corpus_main, ["build", "--out", str(args.corpus)])
    summary: dict[str, Any] = {}
    summary["contexts"] = timed(
        "contexts", step_contexts, ws, args.corpus, 450, 60, args.categories.split(",")
    )
    summary["generation"] = timed(
        "generate",
        step_generate,
        ws,
        model="gemma3-270m",
        endpoint=None,
        api_key=None,
        limit=args.limit,
        max_tokens=args.max_tokens,
        timeout_s=60.0,
    )
    embedder = timed("load embedder", build_embedder)
    summary["cleaning"] = timed("clean", step_clean, ws, embedder=embedder)
    summary["splits"] = timed("split", step_splits, ws, 0.3, True)
    summary["retriever"] = timed(
        "retriever", step_retriever, ws, embedder=embedder, train_limit=args.train_limit
    )
    lora = timed("lora", step_lora, ws, settings=_lora_settings(args), resume=not args.no_resume)
    summary["lora"] = {k: v for k, v in lora.items() if k not in ("train_losses", "eval_losses")}
    evaluation = timed("evaluate", _evaluate, ws, args, embedder)
    summary["evaluation_timings_s"] = evaluation["timings_s"]
    summary["timings_s"] = timings
    summary["total_s"] = round(time.perf_counter() - started, 1)
    ws.write_json(summary, "demo.json")
    _print(
        {"timings_s": timings, "total_s": summary["total_s"], "report": str(args.report) + ".html"}
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in provenance files
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s %(message)s",
    )
    try:
        return run(args)
    except (FinetuneError, DataFileError) as exc:
        print(f"finetune: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
