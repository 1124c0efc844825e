"""Intent classification by cross-validation, written as docs/nlu-report.md.

Runs `rasa test nlu --cross-validation` on `bot/nlu` with the pipeline of `config.yml` (the
Rasa environment, `.venv-rasa`), then turns Rasa's `intent_report.json` (every example predicted
once, by the fold that did not train on it) into the markdown report: per-intent precision,
recall and F1, the macro average against the bar, the most frequent confusions.

The FallbackClassifier is part of the pipeline, so an example predicted below its threshold
counts as `nlu_fallback`, i.e. as an error.

    python -m benchmarks.bench_nlu [--folds 5] [--results results/nlu-cv] [--reuse]
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from stack.settings import PROJECT_ROOT
from stack.training import rasa_executable

BAR = 0.92
REPORT = PROJECT_ROOT / "docs" / "nlu-report.md"
SUMMARY_KEYS = ("accuracy", "macro avg", "weighted avg", "micro avg")


def cross_validate(folds: int, results: Path) -> float:
    """Run Rasa's cross-validation; return its wall time in seconds."""
    command = [
        str(rasa_executable()), "test", "nlu", "--nlu", "bot/nlu", "--config", "config.yml",
        "--cross-validation", "--folds", str(folds), "--out", str(results),
    ]  # fmt: skip
    started = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, env=env)  # noqa: S603
    return time.perf_counter() - started


def confusions(report: dict[str, Any], limit: int = 8) -> list[tuple[str, str, int]]:
    """The most frequent (true intent, predicted intent, count) pairs."""
    pairs = [
        (intent, predicted, count)
        for intent, row in report.items()
        if intent not in SUMMARY_KEYS and isinstance(row, dict)
        for predicted, count in row.get("confused_with", {}).items()
    ]
    return sorted(pairs, key=lambda pair: -pair[2])[:limit]


def render(report: dict[str, Any], folds: int, wall_s: float | None) -> str:
    intents = sorted(
        name for name, row in report.items() if name not in SUMMARY_KEYS and isinstance(row, dict)
    )
    macro = report["macro avg"]
    examples = sum(int(report[name]["support"]) for name in intents if name != "nlu_fallback")
    verdict = "Met" if macro["f1-score"] >= BAR else "Not met"
    lines = [
        "# NLU report — intent classification, cross-validation",
        "",
        f"- Command: `.venv/bin/python -m benchmarks.bench_nlu --folds {folds}` (runs `rasa test "
        f"nlu --cross-validation --folds {folds}` on `bot/nlu` with `config.yml`, then writes "
        "this page from `results/nlu-cv/intent_report.json`).",
        f"- Data: `bot/nlu/*.yml`, {examples} intent examples over "
        f"{len([name for name in intents if name != 'nlu_fallback'])} intents; every example is "
        f"predicted once, by the model of the fold that did not train on it. The pipeline includes "
        "the FallbackClassifier, so a prediction below its threshold counts as `nlu_fallback`, "
        "an error.",
        f"- Machine: 2-core shared dev VM, measured {datetime.date.today().isoformat()}"
        + (f" ({wall_s / 60:.0f} min wall for the {folds} folds)." if wall_s else "."),
        f"- Bar: intent macro-F1 ≥ {BAR}. **{verdict}: macro-F1 {macro['f1-score']:.3f}** "
        f"(weighted F1 {report['weighted avg']['f1-score']:.3f}, accuracy "
        f"{report.get('accuracy', report.get('micro avg', {}).get('f1-score', 0.0)):.3f}).",
        "",
        "| intent | examples | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for name in intents:
        row = report[name]
        lines.append(
            f"| `{name}` | {int(row['support'])} | {row['precision']:.2f} | {row['recall']:.2f} "
            f"| {row['f1-score']:.2f} |"
        )
    lines.append(
        f"| **macro average** | {int(macro['support'])} | {macro['precision']:.2f} "
        f"| {macro['recall']:.2f} | **{macro['f1-score']:.3f}** |"
    )
    lines += ["", "Most frequent confusions (true → predicted, examples):", ""]
    lines += [
        f"- `{true}` → `{predicted}`: {count}" for true, predicted, count in confusions(report)
    ]
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_nlu", description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--results", type=Path, default=PROJECT_ROOT / "results" / "nlu-cv")
    parser.add_argument(
        "--reuse", action="store_true", help="write the report from existing results, no new run"
    )
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    wall_s = None if args.reuse else cross_validate(args.folds, args.results)
    report = json.loads((args.results / "intent_report.json").read_text(encoding="utf-8"))
    args.report.write_text(render(report, args.folds, wall_s), encoding="utf-8")
    macro = report["macro avg"]["f1-score"]
    print(f"intent macro-F1 {macro:.3f} (bar {BAR}); report written to {args.report}")
    return 0 if macro >= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
