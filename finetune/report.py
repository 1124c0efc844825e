"""The evaluation reports.

- `evaluation_report`: `docs/finetune-report.md`, from the run directories of
  `python -m finetune report` only — the retriever before and after fine-tuning (each model
  separately, the differences paired, the adoption decision), the generators on the held-out
  split, robustness, calibration, and the runs themselves (command, input hashes, machine).
  Every interval is a paired bootstrap over questions (`finetune.bootstrap`); every figure
  names its run directory.
- `write_report`: the demo's side-by-side report (`python -m finetune evaluate` / `demo`),
  markdown and HTML with charts: the retriever table (each model and its difference with the
  base), one row per RAG configuration, robustness, calibration and efficiency.
"""

import html
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from finetune.plotting import bar_chart, line_chart


def _pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * float(value):.1f} %"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.{digits}f}"


def retriever_table(retriever: Mapping[str, Any]) -> list[list[str]]:
    """Rows: hit@4, MRR@4; columns: each model, and each model's difference with the base
    (never the better of two models)."""
    before, after = retriever["before"], retriever["after"]
    header = [
        "Metric",
        f"{retriever['base_name']} (not fine-tuned)",
        "fine-tuned",
        "fine-tuned − base",
    ]
    rerank = retriever.get("reranked")
    if rerank:
        header += ["fine-tuned + cross-encoder reranker", "reranked − base"]
    rows = [header]
    for label, key in (("Hit rate (hit@4)", "hit@4"), ("Mean reciprocal rank (MRR@4)", "mrr@4")):
        row = [label, _pct(before[key]), _pct(after[key]), _pts(after[key] - before[key])]
        if rerank:
            row += [_pct(rerank[key]), _pts(rerank[key] - before[key])]
        rows.append(row)
    return rows


def _pts(value: float) -> str:
    return f"{100 * value:+.1f} pts"


def _markdown_table(rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _html_table(rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def configuration_rows(results: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = [
        [
            "Configuration",
            "ROUGE-L",
            "BERTScore F1",
            "hit@4",
            "MRR@4",
            "grounded",
            "refusal (unanswerable)",
            "false refusal",
            "ECE",
            "latency p50 / p95 (s)",
            "LLM tokens/s",
        ]
    ]
    for r in results:
        m = r["metrics"]
        rows.append(
            [
                r["name"],
                _pct(m.get("rouge_l")),
                _pct(m.get("bertscore_f1")),
                _pct(m.get("hit@4")),
                _pct(m.get("mrr@4")),
                _pct(m.get("grounded_rate")),
                _pct(m.get("refusal_rate_unanswerable")),
                _pct(m.get("false_refusal_rate")),
                _num(m.get("calibration_ece")),
                f"{_num(m.get('latency_median_s'))} / {_num(m.get('latency_p95_s'))}",
                _num(m.get("llm_tokens_per_s"), 1),
            ]
        )
    return rows


def robustness_rows(results: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    variants = ["original", "typos", "no_accents", "lower_case", "reformulated"]
    rows = [["Configuration", *[f"{v} hit@4 / ROUGE-L" for v in variants]]]
    for r in results:
        values = r.get("robustness") or {}
        rows.append(
            [r["name"]]
            + [
                f"{_pct(values[v]['hit@4'])} / {_pct(values[v]['rouge_l'])}" if v in values else "—"
                for v in variants
            ]
        )
    return rows


def write_report(
    out: Path,
    *,
    title: str,
    context: Mapping[str, Any],
    retriever: Mapping[str, Any] | None,
    results: Sequence[Mapping[str, Any]],
    extra_sections: Sequence[tuple[str, str]] = (),
) -> tuple[Path, Path]:
    """Writes `out`.md and `out`.html, and the charts as `out`-*.png; returns both paths."""
    out.parent.mkdir(parents=True, exist_ok=True)
    charts: list[tuple[str, Path]] = []
    if results:
        groups = {
            r["name"]: {
                key: float(r["metrics"][key])
                for key in (
                    "rouge_l",
                    "bertscore_f1",
                    "hit@4",
                    "grounded_rate",
                    "refusal_rate_unanswerable",
                )
                if key in r["metrics"] and not math.isnan(float(r["metrics"][key]))
            }
            for r in results
        }
        charts.append(
            (
                "Accuracy, grounding and refusal per configuration",
                bar_chart(
                    groups,
                    out.with_name(out.name + "-metrics.png"),
                    title="Per configuration",
                    ylabel="score",
                ),
            )
        )
        robustness = {
            r["name"]: {
                v: float(values["hit@4"]) for v, values in (r.get("robustness") or {}).items()
            }
            for r in results
            if r.get("robustness")
        }
        if robustness:
            charts.append(
                (
                    "Robustness: hit@4 per question variant",
                    bar_chart(
                        robustness,
                        out.with_name(out.name + "-robustness.png"),
                        title="Robustness (hit@4)",
                        ylabel="hit@4",
                    ),
                )
            )
        reliability = {
            r["name"]: [(b[1], b[2]) for b in r.get("calibration_bins") or []] for r in results
        }
        reliability["perfect calibration"] = [(0.0, 0.0), (1.0, 1.0)]
        charts.append(
            (
                "Calibration: validator score against accuracy",
                line_chart(
                    reliability,
                    out.with_name(out.name + "-calibration.png"),
                    title="Reliability diagram",
                    xlabel="validator score (mean per bin)",
                    ylabel="share correct",
                ),
            )
        )

    md: list[str] = [f"# {title}", ""]
    md += [f"- {key}: {value}" for key, value in context.items()]
    md.append("")
    html_parts: list[str] = [f"<h1>{html.escape(title)}</h1><ul>"]
    html_parts += [
        f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in context.items()
    ]
    html_parts.append("</ul>")
    if retriever is not None:
        table = retriever_table(retriever)
        md += ["## Retriever: before and after fine-tuning", "", _markdown_table(table), ""]
        md.append(
            f"Held-out questions: {retriever['after']['questions']}; mode {retriever['mode']}; "
            f"decision: {'adopted' if retriever['adopt'] else 'not adopted'} ({retriever['rule']})."
        )
        md.append("")
        html_parts += ["<h2>Retriever: before and after fine-tuning</h2>", _html_table(table)]
    if results:
        sections = (
            ("RAG configurations", configuration_rows(results)),
            ("Robustness (same questions, altered)", robustness_rows(results)),
        )
        for heading, rows in sections:
            md += [f"## {heading}", "", _markdown_table(rows), ""]
            html_parts += [f"<h2>{html.escape(heading)}</h2>", _html_table(rows)]
    for heading, text in extra_sections:
        md += [f"## {heading}", "", text, ""]
        html_parts += [f"<h2>{html.escape(heading)}</h2><pre>{html.escape(text)}</pre>"]
    if charts:
        md += ["## Charts", ""]
        html_parts.append("<h2>Charts</h2>")
        for caption, path in charts:
            md += [f"![{caption}]({path.name})", ""]
            html_parts.append(
                f'<figure><img src="{html.escape(path.name)}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    md_path = out.with_suffix(".md")
    md_path.write_text("\n".join(md), encoding="utf-8")
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:14px}"
        "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}th{background:#eef}"
        "img{max-width:100%}pre{white-space:pre-wrap;background:#f6f6f6;padding:8px}"
    )
    html_path = out.with_suffix(".html")
    html_path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{style}</style></head><body>{''.join(html_parts)}</body></html>",
        encoding="utf-8",
    )
    return md_path, html_path


# ---------------------------------------------------------------- the evaluation report
#
# `docs/finetune-report.md`, computed from the run directories only (`finetune.runs`): each
# figure names the run it comes from, each interval is a paired bootstrap over its questions.

RETRIEVER_MODELS = (
    ("retriever-base", "multilingual-e5-small (base bi-encoder)"),
    ("retriever-finetuned", "fine-tuned bi-encoder"),
    ("cross-encoder", "base hybrid top 12 + cross-encoder reranker"),
)
GENERATORS = (
    ("generator-extractive", "sentence extraction (today's default)"),
    ("generator-reader", "span reader (knowledge/qa)"),
    ("generator-gemma-base", "Gemma 3 270M, base (llama.cpp)"),
    ("generator-gemma-lora", "Gemma 3 270M + fine-tuned LoRA (llama.cpp)"),
    (
        "generator-chat",
        "the chat, generative path on (fine-tuned Gemma if validated, else extraction)",
    ),
)
GENERATOR_DIFFERENCES = (
    ("generator-gemma-lora", "generator-gemma-base"),
    ("generator-gemma-lora", "generator-extractive"),
    ("generator-gemma-lora", "generator-reader"),
    ("generator-gemma-base", "generator-extractive"),
    ("generator-reader", "generator-extractive"),
    ("generator-chat", "generator-extractive"),
)
SHORT = {
    "generator-extractive": "extractive",
    "generator-reader": "reader",
    "generator-gemma-base": "base Gemma",
    "generator-gemma-lora": "fine-tuned Gemma",
    "generator-chat": "chat, generative path",
    "retriever-base": "base",
    "retriever-finetuned": "fine-tuned",
    "cross-encoder": "cross-encoder",
}
GROUNDED_TARGET = 0.95
# Runs that build the question sets: a limit there cuts every figure (a smoke run).
SET_RUNS = ("retriever-base", "generation-inputs")


def _ci(interval: Any) -> str:
    """'78.1 % [75.2–81.0]' for a rate or a mean score in [0, 1]."""
    if interval is None or interval.count == 0 or math.isnan(interval.estimate):
        return "—"
    return f"{100 * interval.estimate:.1f} % [{100 * interval.low:.1f}–{100 * interval.high:.1f}]"


def _diff_ci(interval: Any) -> str:
    """'+3.1 pts [+0.4, +5.9]', in bold when the interval excludes 0."""
    if interval is None or interval.count == 0:
        return "—"
    low, high = 100 * interval.low, 100 * interval.high
    text = f"{100 * interval.estimate:+.1f} pts [{low:+.1f}, {high:+.1f}]"
    return f"**{text}**" if interval.excludes_zero() else text


def _run_link(run: Any, docs_dir: Path, repository: Path) -> str:
    try:
        relative = os.path.relpath(run.directory, docs_dir)
        shown = run.directory.relative_to(repository)
    except ValueError:
        relative, shown = str(run.directory), run.directory
    return f"[`{shown}/`]({relative}/)"


def _absent(state: Any) -> str:
    if state is None:
        return "not run"
    if state.run is None:
        if state.reason.startswith("not available"):
            return str(state.reason)
        return f"not run: {state.reason}"
    if state.run.status != "ok":
        return f"failed run: {state.run.record.get('reason', '')}"
    return ""


def _values(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, float]:
    return {str(r["id"]): float(r[key]) for r in rows if r.get(key) is not None}


@dataclass
class _Context:
    states: dict[str, Any]
    settings: Any  # BootstrapSettings
    docs_dir: Path
    repository: Path
    figures: Path  # path prefix of the report's PNG files
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def ok(self, name: str) -> Any:
        state = self.states.get(name)
        if state is None or state.run is None or state.run.status != "ok":
            return None
        return state.run

    def rows(self, name: str) -> list[dict[str, Any]]:
        if name not in self.predictions:
            run = self.ok(name)
            self.predictions[name] = run.predictions() if run is not None else []
        return self.predictions[name]

    def link(self, name: str) -> str:
        state = self.states.get(name)
        if state is None or state.run is None:
            return "—"
        text = _run_link(state.run, self.docs_dir, self.repository)
        return text + (" (stale: its inputs changed since)" if state.stale else "")


def _mean_ci(ctx: _Context, values: Mapping[str, float], strata: Mapping[str, str]) -> Any:
    from finetune.bootstrap import mean_interval

    keys = sorted(values)
    return mean_interval(
        [values[k] for k in keys], ctx.settings, [strata.get(k, "") for k in keys] or None
    )


def _paired_ci(
    ctx: _Context,
    first: Mapping[str, float],
    second: Mapping[str, float],
    strata: Mapping[str, str],
) -> Any:
    from finetune.bootstrap import align, paired_difference

    keys, a, b = align(first, second)
    return paired_difference(a, b, ctx.settings, [strata.get(k, "") for k in keys] or None)


def _retriever_section(ctx: _Context) -> tuple[list[str], dict[str, Any] | None]:
    from finetune.retriever import adoption_decision

    lines = ["## Retriever: before and after fine-tuning", ""]
    base_rows = ctx.rows("retriever-base")
    strata = {str(r["id"]): str(r["source"]) for r in base_rows}
    counts = {s: sum(1 for r in base_rows if r["source"] == s) for s in ("piaf", "own")}
    if base_rows:
        lines += [
            f"Held-out questions: {len(base_rows)} — {counts['piaf']} PIAF questions of the test "
            f"articles (asked against all {_piaf_paragraphs(ctx)} PIAF paragraphs) and "
            f"{counts['own']} of the team's questions of the test pages (asked against the whole "
            "corpus, no product filter); a question is hit when a passage of its page (its "
            "paragraph) is among the first 4. Hybrid retrieval as the knowledge base runs it. "
            "Intervals: 95 % paired bootstrap, resampled within each source.",
            "",
        ]
    header = [
        "Model",
        "questions",
        "hit@4 (all)",
        "MRR@4 (all)",
        "hit@4 PIAF",
        "hit@4 own",
        "MRR@4 own",
        "run",
    ]
    table = [header]
    for name, label in RETRIEVER_MODELS:
        absent = _absent(ctx.states.get(name))
        if absent:
            table.append([label, absent, "", "", "", "", "", ctx.link(name)])
            continue
        rows = ctx.rows(name)
        hits, rrs = _values(rows, "hit@4"), _values(rows, "rr@4")
        piaf = {
            k: v for k, v in hits.items() if strata.get(k, "") == "piaf" or k.startswith("piaf")
        }
        own_ids = {str(r["id"]) for r in rows if r["source"] == "own"}
        table.append(
            [
                label,
                str(len(rows)),
                _ci(_mean_ci(ctx, hits, strata)),
                _ci(_mean_ci(ctx, rrs, strata)),
                _ci(_mean_ci(ctx, piaf, {})),
                _ci(_mean_ci(ctx, {k: hits[k] for k in own_ids if k in hits}, {})),
                _ci(_mean_ci(ctx, {k: rrs[k] for k in own_ids if k in rrs}, {})),
                ctx.link(name),
            ]
        )
    lines += [_markdown_table(table), ""]

    decision = None
    base, tuned = ctx.ok("retriever-base"), ctx.ok("retriever-finetuned")
    diff_rows = [["Difference (paired)", "hit@4 (all)", "MRR@4 (all)", "hit@4 own", "hit@4 PIAF"]]
    for name in ("retriever-finetuned", "cross-encoder"):
        if ctx.ok(name) is None or base is None:
            continue
        rows = ctx.rows(name)
        own = {str(r["id"]) for r in rows if r["source"] == "own"}
        hits, base_hits = _values(rows, "hit@4"), _values(base_rows, "hit@4")
        diff_rows.append(
            [
                f"{SHORT[name]} − base",
                _diff_ci(_paired_ci(ctx, hits, base_hits, strata)),
                _diff_ci(
                    _paired_ci(ctx, _values(rows, "rr@4"), _values(base_rows, "rr@4"), strata)
                ),
                _diff_ci(
                    _paired_ci(
                        ctx,
                        {k: v for k, v in hits.items() if k in own},
                        {k: v for k, v in base_hits.items() if k in own},
                        {},
                    )
                ),
                _diff_ci(
                    _paired_ci(
                        ctx,
                        {k: v for k, v in hits.items() if k not in own},
                        {k: v for k, v in base_hits.items() if k not in own},
                        {},
                    )
                ),
            ]
        )
    if len(diff_rows) > 1:
        lines += [
            "Differences on the same questions (in bold: the 95 % interval excludes 0):",
            "",
            _markdown_table(diff_rows),
            "",
        ]
    if base is not None and tuned is not None:
        tuned_rows = ctx.rows("retriever-finetuned")
        decision = adoption_decision(
            {str(r["id"]): (str(r["source"]), r["rank"]) for r in base_rows},
            {str(r["id"]): (str(r["source"]), r["rank"]) for r in tuned_rows},
            ctx.settings,
        )
        if decision["adopt"]:
            lines += [
                "Decision: the fine-tuned bi-encoder **meets the adoption rule** — "
                f"{decision['reason']}. Rule: {decision['rule']}. {_default_embedder_line()}",
                "",
            ]
        else:
            lines += [
                "Decision: the fine-tuned bi-encoder is **not adopted** into the knowledge base's "
                f"defaults — {decision['reason']}. Rule: {decision['rule']}.",
                "",
            ]
    else:
        lines += [
            "Decision: the fine-tuned bi-encoder is **not adopted** — "
            + (_absent(ctx.states.get("retriever-finetuned")) or "no fine-tuned run")
            + ".",
            "",
        ]
    lines += _training_lines(ctx)
    return lines, decision


def _default_embedder_line() -> str:
    """Which model the knowledge base's committed settings embed with."""
    from finetune.pipeline import EMBEDDING_ALIAS
    from knowledge.embedders import FINETUNED_ALIAS
    from knowledge.settings import KnowledgeSettings

    default = KnowledgeSettings.model_fields["embedding_model"].default
    if default == FINETUNED_ALIAS:
        return (
            f"Adopted: the knowledge base's default embedder is `{default}`, this run's model "
            "committed as int8 weight deltas over the base (`knowledge/artifacts/embedder/`, "
            "written by `python -m finetune export-embedder`, with its provenance)."
        )
    if default != EMBEDDING_ALIAS:
        return f"The knowledge base's default embedder is `{default}`."
    return (
        f"The knowledge base's committed default is still the base model (`{default}`): "
        "adopting the fine-tuned one means exporting it (`python -m finetune export-embedder`), "
        "re-ingesting the documents with it and refitting the abstention model, which reads "
        "its scores."
    )


def _piaf_paragraphs(ctx: _Context) -> str:
    run = ctx.ok("retriever-base")
    count = run.metrics.get("piaf_paragraphs") if run is not None else None
    return str(count) if count else "the"


def _training_lines(ctx: _Context) -> list[str]:
    state = ctx.states.get("bi-encoder-training")
    if state is None:
        return []
    if state.run is None:
        return [f"Bi-encoder training: not run: {state.reason}.", ""]
    m = state.run.metrics
    status = "**failed run**" if state.run.status != "ok" else "ok"
    lines = [
        f"Bi-encoder training ({ctx.link('bi-encoder-training')}): {status} — {m.get('pairs')} "
        f"training pairs ({m.get('pairs_piaf')} PIAF train questions, {m.get('pairs_own')} of "
        f"the team's questions of train pages, {m.get('pairs_generated')} generated questions of "
        f"train pages; {m.get('hard_negatives')} with a BM25 hard negative), "
        f"{m.get('steps')} steps in {m.get('seconds')} s, settings {m.get('settings')}; "
        f"training loss (mean of the first and last tenth of the steps) "
        f"{m.get('loss_first_window')} → {m.get('loss_last_window')}.",
        "",
    ]
    chart = state.run.directory / "loss.png"
    if chart.is_file():
        target = ctx.figures.with_name(ctx.figures.name + "-bi-encoder-loss.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(chart.read_bytes())
        lines += [f"![Bi-encoder training loss]({target.name})", ""]
    return lines


def _generation_section(ctx: _Context) -> list[str]:
    lines = ["## Generator on the held-out split", ""]
    inputs = ctx.ok("generation-inputs")
    items = ctx.rows("generation-inputs")
    strata = {str(i["id"]): str(i["source"]) for i in items}
    if inputs is None:
        absent = _absent(ctx.states.get("generation-inputs"))
        return [*lines, f"Held-out items: {absent}.", "", _target_line(ctx, strata), ""]
    by_source = inputs.metrics.get("by_source", {})
    lines += [
        f"Items ({ctx.link('generation-inputs')}): "
        + ", ".join(f"{count} {source}" for source, count in by_source.items())
        + f"; each strategy reads the same {inputs.metrics.get('passages_per_item')} passages per "
        "question (the base hybrid retriever's best, the team's questions within their "
        f"product; a passage of an answering page for "
        f"{100 * float(inputs.metrics.get('passage_on_answering_page', 0)):.0f} % of the "
        "answerable items). ROUGE-L and BERTScore F1 (multilingual-e5-small, layer 9, no "
        "rescaling) against the reference answers of the answerable items, a refusal scoring 0; "
        "grounded: share of the answers (refusals aside) the knowledge base's validator accepts "
        "against the passages; refusal on the unanswerable items; false refusal on the "
        "answerable ones. Latency: the answering component alone, on the machine below.",
        "",
    ]
    table = [
        [
            "Answer",
            "items (answerable / not)",
            "ROUGE-L",
            "BERTScore F1",
            "grounded",
            "refusal (unanswerable)",
            "false refusal",
            "latency p50 / p95 (s)",
            "tokens/s",
            "run",
        ]
    ]
    for name, label in GENERATORS:
        absent = _absent(ctx.states.get(name))
        if absent:
            table.append([label, absent, "", "", "", "", "", "", "", ctx.link(name)])
            continue
        rows, metrics = ctx.rows(name), ctx.ok(name).metrics
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        answered = [r for r in rows if not r["refused"]]
        table.append(
            [
                label,
                f"{len(answerable)} / {len(unanswerable)}",
                _ci(_mean_ci(ctx, _values(answerable, "rouge_l"), strata)),
                _ci(_mean_ci(ctx, _values(answerable, "bertscore_f1"), strata)),
                _ci(_mean_ci(ctx, _flags(answered, "grounded"), strata)),
                _ci(_mean_ci(ctx, _flags(unanswerable, "refused"), strata)),
                _ci(_mean_ci(ctx, _flags(answerable, "refused"), strata)),
                f"{_num(metrics.get('latency_p50_s'))} / {_num(metrics.get('latency_p95_s'))}",
                _num(metrics.get("tokens_per_s"), 1),
                ctx.link(name),
            ]
        )
    lines += [_markdown_table(table), ""]
    for name, label in GENERATORS:
        run = ctx.ok(name)
        if run is not None and run.metrics.get("errors"):
            lines += [
                f"{label}: {run.metrics['errors']} answers failed or timed out "
                "(counted as refusals; their error is in the run's predictions).",
                "",
            ]
    per_source = [["Answer", *[f"ROUGE-L {s}" for s in ("own", "piaf")]]]
    for name, label in GENERATORS:
        if ctx.ok(name) is None:
            continue
        rows = [r for r in ctx.rows(name) if r["answerable"]]
        per_source.append(
            [label]
            + [
                _ci(_mean_ci(ctx, _values([r for r in rows if r["source"] == s], "rouge_l"), {}))
                for s in ("own", "piaf")
            ]
        )
    if len(per_source) > 1:
        lines += [_markdown_table(per_source), ""]
    diffs = [
        [
            "Difference (paired, same items)",
            "ROUGE-L",
            "BERTScore F1",
            "false refusal",
            "refusal (unanswerable)",
        ]
    ]
    for first, second in GENERATOR_DIFFERENCES:
        label = f"{SHORT[first]} − {SHORT[second]}"
        if ctx.ok(first) is None or ctx.ok(second) is None:
            reason = _absent(ctx.states.get(first)) or _absent(ctx.states.get(second))
            diffs.append([label, reason, "", "", ""])
            continue
        a, b = ctx.rows(first), ctx.rows(second)
        a_ans, b_ans = [r for r in a if r["answerable"]], [r for r in b if r["answerable"]]
        a_un, b_un = [r for r in a if not r["answerable"]], [r for r in b if not r["answerable"]]
        diffs.append(
            [
                label,
                _diff_ci(
                    _paired_ci(ctx, _values(a_ans, "rouge_l"), _values(b_ans, "rouge_l"), strata)
                ),
                _diff_ci(
                    _paired_ci(
                        ctx, _values(a_ans, "bertscore_f1"), _values(b_ans, "bertscore_f1"), strata
                    )
                ),
                _diff_ci(
                    _paired_ci(ctx, _flags(a_ans, "refused"), _flags(b_ans, "refused"), strata)
                ),
                _diff_ci(_paired_ci(ctx, _flags(a_un, "refused"), _flags(b_un, "refused"), strata)),
            ]
        )
    lines += [
        "Differences on the same items (in bold: the 95 % interval excludes 0):",
        "",
        _markdown_table(diffs),
        "",
        _target_line(ctx, strata),
        "",
    ]
    return lines


def _flags(rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, float]:
    return {str(r["id"]): 1.0 if r.get(key) else 0.0 for r in rows if r.get(key) is not None}


def _target_line(ctx: _Context, strata: Mapping[str, str]) -> str:
    """The issue's target: the fine-tuned generator beats the base Gemma and the extractive
    answers — the chat's sentence extraction and the span reader — on ROUGE-L (every interval
    above 0) with at least 95 % of its answers grounded."""
    tuned = ctx.ok("generator-gemma-lora")
    if tuned is None:
        return (
            "Target (fine-tuned generator better than the base Gemma, the sentence extraction "
            "and the span reader on ROUGE-L, every interval above 0, ≥ 95 % grounded): "
            "**not decided** — the "
            "fine-tuned generator's run: "
            + (_absent(ctx.states.get("generator-gemma-lora")) or "—")
            + ". The chat keeps its current answer."
        )
    rows = ctx.rows("generator-gemma-lora")
    rouge = _values([r for r in rows if r["answerable"]], "rouge_l")
    checks = []
    for other in ("generator-gemma-base", "generator-extractive", "generator-reader"):
        if ctx.ok(other) is None:
            checks.append(False)
            continue
        other_rouge = _values([r for r in ctx.rows(other) if r["answerable"]], "rouge_l")
        checks.append(_paired_ci(ctx, rouge, other_rouge, strata).favours_first())
    answered = [r for r in rows if not r["refused"]]
    grounded = sum(1 for r in answered if r["grounded"]) / len(answered) if answered else 0.0
    met = all(checks) and grounded >= GROUNDED_TARGET
    return (
        f"Target: **{'met' if met else 'not met'}** — better than the base Gemma on ROUGE-L: "
        f"{'yes' if checks[0] else 'no'}; better than the extractive answer: "
        f"{'yes' if checks[1] else 'no'}; better than the span reader: "
        f"{'yes' if checks[2] else 'no'}; grounded {100 * grounded:.1f} % "
        f"(target ≥ {100 * GROUNDED_TARGET:.0f} %)."
        + ("" if met else " The chat keeps its current answer.")
    )


def _robustness_section(ctx: _Context) -> list[str]:
    lines = [
        "## Robustness: perturbed questions",
        "",
        "Each variant is paired with its original question: the drop is (variant − original) on "
        "the same originals, with its 95 % paired bootstrap interval (in bold when it excludes 0).",
        "",
    ]
    for name, label in (
        ("robustness-base", "base retriever (and the extractive answer on its passages)"),
        ("robustness-finetuned", "fine-tuned bi-encoder"),
    ):
        absent = _absent(ctx.states.get(name))
        if absent:
            lines += [f"{label}: {absent}.", ""]
            continue
        rows = ctx.rows(name)
        originals = {str(r["origin"]): r for r in rows if r["variant"] == "original"}
        strata = {key: str(r["source"]) for key, r in originals.items()}
        answers = any("answer_rouge_l" in r for r in rows)
        header = ["Variant", "questions", "hit@4", "hit@4 drop"]
        if answers:
            header += ["answer ROUGE-L", "ROUGE-L drop"]
        table = [header]
        variants = sorted({str(r["variant"]) for r in rows}, key=lambda v: (v != "original", v))
        for variant in variants:
            selected = {str(r["origin"]): r for r in rows if r["variant"] == variant}
            hits = {k: float(r["hit@4"]) for k, r in selected.items()}
            base_hits = {k: float(originals[k]["hit@4"]) for k in selected if k in originals}
            row = [
                variant,
                str(len(selected)),
                _ci(_mean_ci(ctx, hits, strata)),
                "—"
                if variant == "original"
                else _diff_ci(_paired_ci(ctx, hits, base_hits, strata)),
            ]
            if answers:
                scores = {
                    k: float(r["answer_rouge_l"])
                    for k, r in selected.items()
                    if r.get("answer_rouge_l") is not None
                }
                base_scores = {
                    k: float(originals[k]["answer_rouge_l"])
                    for k in scores
                    if originals.get(k, {}).get("answer_rouge_l") is not None
                }
                row += [
                    _ci(_mean_ci(ctx, scores, strata)),
                    "—"
                    if variant == "original"
                    else _diff_ci(_paired_ci(ctx, scores, base_scores, strata)),
                ]
            table.append(row)
        lines += [
            f"{label} — {len(originals)} originals ({ctx.link(name)}):",
            "",
            _markdown_table(table),
            "",
        ]
    return lines


def _calibration_section(ctx: _Context) -> list[str]:
    from finetune.bootstrap import statistic_interval
    from finetune.metrics import calibration, expected_calibration_error
    from finetune.plotting import reliability_diagram

    lines = ["## Calibration of the reader's confidence", ""]
    absent = _absent(ctx.states.get("calibration-reader"))
    if absent:
        return [*lines, absent + ".", ""]
    run = ctx.ok("calibration-reader")
    rows = ctx.rows("calibration-reader")
    confidences = np.asarray([float(r["confidence"]) for r in rows])
    correct = np.asarray([bool(r["correct"]) for r in rows])
    strata = [str(r["source"]) for r in rows]
    ece = statistic_interval(
        lambda idx: expected_calibration_error(confidences[idx], correct[idx]),
        len(rows),
        ctx.settings,
        strata,
    )
    result = calibration(confidences.tolist(), correct.tolist())
    chart = ctx.figures.with_name(ctx.figures.name + "-reliability.png")
    reliability_diagram(
        result.bins,
        chart,
        title=f"Reader confidence, {len(rows)} answers (ECE {result.ece:.3f}, 10 bins)",
    )
    lines += [
        f"{len(rows)} answers of the reader ({ctx.link('calibration-reader')}: "
        f"{sum(1 for r in rows if r['answerable'])} answerable and "
        f"{sum(1 for r in rows if not r['answerable'])} unanswerable held-out questions that "
        "reached the reader; top 4 passages as the chat retrieves them); correct: "
        f"{run.metrics.get('correct', 'the answer is right')}.",
        "",
        f"- expected calibration error (10 equal-width bins): **{ece.estimate:.3f}** "
        f"[{ece.low:.3f}–{ece.high:.3f}] (95 % bootstrap interval)",
        f"- Brier score: {result.brier:.3f}; share correct {100 * correct.mean():.1f} %, mean "
        f"confidence {100 * confidences.mean():.1f} %",
        "",
        f"![Reliability diagram of the reader's confidence]({chart.name})",
        "",
    ]
    return lines


def _runs_section(ctx: _Context) -> list[str]:
    table = [
        [
            "Run",
            "status",
            "date (UTC)",
            "seconds",
            "load (1 min)",
            "inputs (SHA-256, 12 first)",
            "command",
        ]
    ]
    for name, state in ctx.states.items():
        if state.run is None:
            table.append([name, _absent(state), "", "", "", "", ""])
            continue
        record = state.run.record
        files = record.get("inputs", {}).get("files", {})
        hashes = ", ".join(f"{label} {digest[:12]}" for label, digest in files.items())
        options = {
            key: value[:12] if isinstance(value, str) and len(value) == 64 else value
            for key, value in record.get("inputs", {}).get("options", {}).items()
        }
        status = record.get("status", "ok") + (" (stale)" if state.stale else "")
        table.append(
            [
                ctx.link(name),
                status,
                str(record.get("started", "")),
                str(record.get("seconds", "")),
                str(record.get("machine", {}).get("load_1min", "")),
                hashes
                + (f"; options {json.dumps(options, ensure_ascii=False)}" if options else ""),
                f"`{record.get('invocation') or record.get('command', '')}`",
            ]
        )
    return ["## Runs", "", _markdown_table(table), ""]


def evaluation_report(
    states: Sequence[Any],
    out: Path,
    *,
    settings: Any,
    repository: Path,
    command: str,
    generated: str | None = None,
) -> dict[str, Any]:
    """Writes the report (`out`, markdown) and its PNG files beside it; returns the
    retriever's adoption decision (None when one of the two models has not run)."""
    from finetune.runs import machine

    out.parent.mkdir(parents=True, exist_ok=True)
    ctx = _Context(
        states={state.spec.name: state for state in states},
        settings=settings,
        docs_dir=out.parent,
        repository=repository,
        figures=out.with_suffix(""),
    )
    machines = {
        json.dumps(
            {k: v for k, v in state.run.record.get("machine", {}).items() if k != "load_1min"},
            sort_keys=True,
        )
        for state in states
        if state.run is not None
    }
    described = [json.loads(m) for m in sorted(machines)] or [machine()]
    when = generated or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    limited = {
        state.spec.name: state.run.record.get("inputs", {}).get("options", {}).get("limit")
        for state in states
        if state.run is not None
        and state.run.record.get("inputs", {}).get("options", {}).get("limit") is not None
    }
    md = [
        "# Fine-tuning and evaluation report",
        "",
        f"Generated by `{command}` on {when}. Every figure below is computed from the run "
        "directory named beside it (under `.run/finetune/eval/`, not committed): "
        "`run.json` holds the command, the SHA-256 of every input and the machine, "
        "`predictions.jsonl` one line per question. `python -m finetune report --rerun NAME` "
        "reruns one run; `python -m finetune report --collect-only` rewrites this file from the "
        "directories as they are.",
        "",
        "Machine: "
        + "; ".join(
            f"{m.get('cpu')} ({m.get('cores')} cores, AMX {'yes' if m.get('amx_bf16') else 'no'}"
            f", Python {m.get('python')})"
            for m in described
        )
        + ". Intervals: 95 % percentile bootstrap over questions, paired between models on the "
        f"same questions ({settings.resamples} resamples, seed {settings.seed}), resampled within "
        "each source (PIAF, the team's own, unanswerable).",
        "",
    ]
    smoke = {name: limit for name, limit in limited.items() if name in SET_RUNS}
    if smoke:
        md += [
            "**Smoke run: the question sets themselves are cut (`--limit`: "
            + ", ".join(f"{name} {limit}" for name, limit in smoke.items())
            + "); these figures are not a measure of the models.**",
            "",
        ]
    subsets = {name: limit for name, limit in limited.items() if name not in SET_RUNS}
    if subsets:
        md += [
            "Runs on an evenly spaced subset of their questions (`--limit`, too slow on this "
            "machine for the whole set; their differences with other runs are taken on the "
            "questions they share): "
            + ", ".join(f"{name} ({limit})" for name, limit in subsets.items())
            + ".",
            "",
        ]
    retriever, decision = _retriever_section(ctx)
    md += retriever
    md += _generation_section(ctx)
    md += _robustness_section(ctx)
    md += _calibration_section(ctx)
    md += _runs_section(ctx)
    md += [
        "## Reading these figures",
        "",
        "- A row without figures has not run, for the reason it gives; nothing is carried over "
        "from another run or estimated.",
        "- Latencies and tokens/s are wall-clock on the machine above, with whatever else ran on "
        "it at the time: the Runs table gives each run's load average when it ended. Compare "
        "them within one report, not with figures measured elsewhere.",
        "- A difference is shown to exist only when its interval excludes 0 (in bold); an "
        "interval that includes 0 means these questions cannot tell the two apart, not that "
        "they are equal.",
        "- `make finetune-report` reruns a run when an input's SHA-256 or an option changes "
        "(the PDF reader or the chunking included: the passages are hashed); "
        "`--collect-only` keeps the directories and marks such runs stale.",
        "",
    ]
    out.write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
    return {"decision": decision}
