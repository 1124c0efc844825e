"""Measures of the reranker on the held-out splits, before and after, and its latency.

    python -m knowledge.rerank.evaluate [--store-dir .run/knowledge-eval] [--candidates 8]
                                        [--report docs/knowledge-eval.md]

- The team's test questions (pages of the test split, the pages judged to answer them counted
  as hits), retrieved as the knowledge base retrieves (hybrid, distinct pages): over all
  documents and within the question's product; hit@4 and MRR@4 of the hybrid order and of the
  reranked order of its first `candidates` passages, on the same questions, with the paired
  difference and its 95 % bootstrap interval.
- PIAF test questions: BM25 over every PIAF paragraph (titled), the first `candidates` reranked.
- Latency: scoring `candidates` passages, float32 and int8 (median and p95 over the questions).
- Adoption: the reranker is worth enabling only when the paired difference in hit@4 and in
  MRR@4 on the team's questions is not negative (interval) and positive on average, both ways.

Figures go to the artifact's `provenance.json` ("metrics") and, with `--report`, to a section of
the knowledge-base report.
"""

import argparse
import json
import logging
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeError
from knowledge.eval.datasets import Question
from knowledge.eval.report import SECTION_MARKER, write_section
from knowledge.eval.retrieval import first_hit_rank
from knowledge.eval.splits import MANIFEST, PIAF_FILE, REPO, SPLITS, Manifest
from knowledge.interfaces import ScoredChunk, SearchFilters
from knowledge.rerank.reranker import DEFAULT_CANDIDATES, PassageReranker, RerankingRetriever
from knowledge.settings import RERANKER_DIR

logger = logging.getLogger(__name__)

K = 4
CHECK_SAMPLE = 60  # PIAF test questions the CI test re-ranks with the committed artifact
SECTION = f"{SECTION_MARKER}python -m knowledge.rerank.evaluate -->"
PROVENANCE_FILE = "provenance.json"


def hit(rank: int | None) -> float:
    return 1.0 if rank is not None and rank <= K else 0.0


def reciprocal(rank: int | None) -> float:
    return 1.0 / rank if rank is not None and rank <= K else 0.0


def paired_interval(
    before: Sequence[float], after: Sequence[float], resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of (after − before) over the same questions and its 95 % percentile bootstrap
    interval."""
    differences = [b - a for a, b in zip(before, after, strict=True)]
    if not differences:
        return math.nan, math.nan, math.nan
    rng = random.Random(seed)  # noqa: S311  # resampling, not security
    n = len(differences)
    means = sorted(
        sum(differences[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples)
    )
    return (
        statistics.fmean(differences),
        means[int(0.025 * resamples)],
        means[int(0.975 * resamples) - 1],
    )


def compare(before: Sequence[int | None], after: Sequence[int | None]) -> dict[str, Any]:
    """hit@4 and MRR@4 before and after, and their paired differences."""
    result: dict[str, Any] = {"questions": len(before)}
    for name, measure in (("hit@4", hit), ("mrr@4", reciprocal)):
        a, b = [measure(r) for r in before], [measure(r) for r in after]
        mean, low, high = paired_interval(a, b)
        result[name] = {
            "before": round(statistics.fmean(a), 4) if a else math.nan,
            "after": round(statistics.fmean(b), 4) if b else math.nan,
            "difference": round(mean, 4),
            "interval": [round(low, 4), round(high, 4)],
        }
    return result


def own_ranks(
    retriever: Any,
    reranking: RerankingRetriever,
    questions: Sequence[Question],
    by_product: bool,
) -> tuple[list[int | None], list[int | None]]:
    before: list[int | None] = []
    after: list[int | None] = []
    for question in questions:
        filters = (
            SearchFilters(product_code=question.product_code)
            if by_product and question.product_code
            else None
        )
        found: list[ScoredChunk] = retriever.retrieve(
            question.question, top_k=reranking.candidates, filters=filters
        )
        before.append(first_hit_rank(found[:K], question.is_answering_hit))
        after.append(
            first_hit_rank(reranking.rerank(question.question, found, K), question.is_answering_hit)
        )
    return before, after


def piaf_ranks(
    reranker: PassageReranker, candidates: int, limit: int | None
) -> tuple[list[int | None], list[int | None]]:
    from knowledge.rerank.data import bm25_ranker, piaf_paragraphs

    manifest = Manifest.load(MANIFEST)
    everything = [item for split in SPLITS for item in piaf_paragraphs(PIAF_FILE, manifest, split)]
    texts = [text for text, _ in everything]
    test = {text for text, _ in piaf_paragraphs(PIAF_FILE, manifest, "test")}
    items = [(i, q) for i, (text, qs) in enumerate(everything) if text in test for q in qs]
    if limit is not None:
        items = items[:: max(1, len(items) // limit)][:limit]
    ranked = bm25_ranker(texts)([q for _, q in items], candidates)
    before: list[int | None] = []
    after: list[int | None] = []
    for (gold, question), row in zip(items, ranked, strict=True):
        before.append(row.index(gold) + 1 if gold in row[:K] else None)
        scores = reranker.scores(question, [texts[j] for j in row])
        order = [row[i] for i in sorted(range(len(row)), key=lambda i: (-scores[i], i))]
        after.append(order.index(gold) + 1 if gold in order[:K] else None)
    return before, after


def latency(
    reranker: PassageReranker, retriever: Any, questions: Sequence[Question], candidates: int
) -> dict[str, Any]:
    from knowledge.chunking import searchable_text
    from knowledge.qa.evaluate import latency_summary

    seconds = []
    for question in questions:
        found = retriever.retrieve(question.question, top_k=candidates)
        texts = [searchable_text(item.chunk) for item in found]
        started = time.perf_counter()
        reranker.scores(question.question, texts)
        seconds.append(time.perf_counter() - started)
    return latency_summary(seconds, candidates)


def adopt(results: dict[str, Any]) -> bool:
    """Worth enabling: on the team's test questions, all documents and within the product,
    hit@4 and MRR@4 higher on average and no interval entirely below 0."""
    for scope in ("own_all_documents", "own_product_filter"):
        for name in ("hit@4", "mrr@4"):
            figure = results[scope][name]
            if figure["difference"] <= 0 or figure["interval"][1] < 0:
                return False
    return True


def run(
    artifact: Path,
    store_dir: Path,
    *,
    candidates: int,
    threads: int | None,
    split: str = "test",
    limit: int | None = None,
    piaf_limit: int | None = None,
    int8: bool = True,
    progress: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    from knowledge.pipelines import open_built_retriever
    from knowledge.qa.evaluate import questions_by_split
    from knowledge.settings import KnowledgeSettings

    manifest = Manifest.load(MANIFEST)
    settings = KnowledgeSettings(store_dir=store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)
    reranker = PassageReranker(artifact, threads=threads)
    reranker.warm_up()
    reranking = RerankingRetriever(retriever, reranker, candidates)
    questions = questions_by_split(manifest, split)[:limit]  # type: ignore[arg-type]
    results: dict[str, Any] = {"split": split, "candidates": candidates}
    try:
        progress(f"{len(questions)} {split} questions, all documents")
        results["own_all_documents"] = compare(*own_ranks(retriever, reranking, questions, False))
        progress("the same, within their product")
        results["own_product_filter"] = compare(*own_ranks(retriever, reranking, questions, True))
        progress("PIAF: BM25 then the reranker")
        results["piaf"] = compare(*piaf_ranks(reranker, candidates, piaf_limit))
        # The fixed sample the artifact's test re-ranks to check the committed weights.
        results["piaf_check_sample"] = compare(*piaf_ranks(reranker, candidates, CHECK_SAMPLE))
        progress("latency")
        results["latency_float32"] = latency(reranker, retriever, questions, candidates)
        if int8:
            quantized = PassageReranker(artifact, threads=threads, quantization="int8")
            results["latency_int8"] = latency(quantized, retriever, questions, candidates)
    finally:
        store.close()
    results["adopt"] = adopt(results)
    return results


def _row(name: str, figures: dict[str, Any]) -> str:
    cells = [name, str(figures["questions"])]
    for measure in ("hit@4", "mrr@4"):
        f = figures[measure]
        low, high = f["interval"]
        cells.append(
            f"{f['before']:.3f} → {f['after']:.3f} ({100 * f['difference']:+.1f} pts "
            f"[{100 * low:+.1f}, {100 * high:+.1f}])"
        )
    return "| " + " | ".join(cells) + " |"


def section(results: dict[str, Any], command: str, artifact: Path, machine: str) -> str:
    shown = artifact.relative_to(REPO) if artifact.is_relative_to(REPO) else artifact
    lines = [
        SECTION,
        "",
        "## Cross-encoder reranker (held-out splits)",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"machine: {machine}. Reranker: `{shown}` "
        f"(see its `provenance.json`), reading the first {results['candidates']} passages of the "
        f"first stage and keeping {K}. Split: `{results['split']}` of "
        "`knowledge/eval/splits.json`; "
        "a question is hit when a passage of its page, or of a page judged to answer it, is "
        "among the first 4. Intervals: 95 % paired bootstrap over questions (2,000 resamples).",
        "",
        "| questions | n | hit@4 before → after (difference) | MRR@4 before → after (difference) |",
        "|---|---|---|---|",
        _row("team's, all documents (hybrid)", results["own_all_documents"]),
        _row("team's, product filter (hybrid)", results["own_product_filter"]),
        _row("PIAF, all paragraphs (BM25)", results["piaf"]),
        "",
    ]
    f32 = results["latency_float32"]
    text = (
        f"Latency of the reranker alone, {f32['passages']} passages: float32 median "
        f"{f32['seconds_median']} s, p95 {f32['seconds_p95']} s"
    )
    if "latency_int8" in results:
        i8 = results["latency_int8"]
        text += f"; int8 median {i8['seconds_median']} s, p95 {i8['seconds_p95']} s"
    lines += [text + f" ({f32['calls']} calls).", ""]
    verdict = "**adopted**" if results["adopt"] else "**not adopted**"
    lines += [
        f"Decision: {verdict} (rule: on the team's questions, all documents and within the "
        "product, hit@4 and MRR@4 higher on average and no interval entirely below 0).",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.rerank.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--artifact", type=Path, default=RERANKER_DIR)
    parser.add_argument("--store-dir", type=Path, default=REPO / ".run/knowledge-eval")
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--limit", type=int, help="the first N questions (a smoke run)")
    parser.add_argument("--piaf-limit", type=int, help="N evenly spaced PIAF questions")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--report", type=Path, help="markdown report to add the section to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        results = run(
            args.artifact,
            args.store_dir,
            candidates=args.candidates,
            threads=args.threads,
            split=args.split,
            limit=args.limit,
            piaf_limit=args.piaf_limit,
            int8=not args.no_int8,
        )
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    command = "python -m knowledge.rerank.evaluate " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    from knowledge.qa.train import machine

    cpu = machine()["cpu"]
    if args.limit is None and args.split == "test":
        provenance = args.artifact / PROVENANCE_FILE
        if provenance.is_file():
            recorded = json.loads(provenance.read_text(encoding="utf-8"))
            recorded["metrics"] = results | {"command": command.strip(), "machine": cpu}
            provenance.write_text(
                json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
    if args.report is not None:
        write_section(args.report, section(results, command.strip(), args.artifact, cpu))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
