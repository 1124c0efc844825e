"""The side-by-side evaluation report: markdown and HTML with charts (PNG beside them).

Laid out like the product brief's slides: the retriever table (metrics as rows, models as
columns, improvement last), then the RAG table (one row per configuration, ROUGE and BERTScore
first), then the HELM-style dimensions, robustness, calibration and efficiency.
"""

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
    """Rows: hit@4, MRR@4; columns: base, fine-tuned, (reranked), improvement."""
    before, after = retriever["before"], retriever["after"]
    header = ["Metric", f"{retriever['base_name']} (not fine-tuned)", "fine-tuned"]
    rerank = retriever.get("reranked")
    if rerank:
        header.append("fine-tuned + cross-encoder reranker")
    header.append("Improvement")
    rows = [header]
    for label, key in (("Hit rate (hit@4)", "hit@4"), ("Mean reciprocal rank (MRR@4)", "mrr@4")):
        row = [label, _pct(before[key]), _pct(after[key])]
        if rerank:
            row.append(_pct(rerank[key]))
        best = max(after[key], rerank[key] if rerank else after[key])
        row.append(f"{100 * (best - before[key]):+.1f} pts")
        rows.append(row)
    return rows


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
