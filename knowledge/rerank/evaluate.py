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

`--unit sentence` measures the sentence selector instead (`knowledge/artifacts/sentence-selector`):
- the chat's extractive answer to the team's dev and test questions, as the assistant runs
  (abstention model, product filter), with the word-overlap sentence and with the selector's:
  ROUGE-L against the reference answers, paired difference and interval, time per answer;
- PIAF test questions: how often the sentence chosen in the question's paragraph is the one
  holding the answer, by word overlap and by the selector;
- adoption: the dev split decides, by the reranker's rule (ROUGE-L higher on average, interval
  not entirely below 0), with the PIAF choice better than word overlap; test is reported.
- `--baseline DIR`: another selector (the one in use, say) answers the same questions in the
  same run, with the paired difference to the new one.
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
from knowledge.settings import RERANKER_DIR, SENTENCE_SELECTOR_DIR

logger = logging.getLogger(__name__)

K = 4
CHECK_SAMPLE = 60  # PIAF test questions the CI test re-ranks with the committed artifact
SECTION = f"{SECTION_MARKER}python -m knowledge.rerank.evaluate -->"
SENTENCE_SECTION = f"{SECTION_MARKER}python -m knowledge.rerank.evaluate --unit sentence -->"
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


def piaf_sentence_choices(
    scorer: PassageReranker, limit: int | None
) -> tuple[list[float], list[float]]:
    """PIAF test questions (`limit`: evenly spaced): 1.0 when the sentence chosen in the
    question's paragraph holds the answer, by word overlap and by `scorer`."""
    from knowledge.extractive import best_sentences
    from knowledge.interfaces import Chunk
    from knowledge.rerank.data import piaf_answer_sentences

    items = piaf_answer_sentences(PIAF_FILE, Manifest.load(MANIFEST), "test")
    if limit is not None:
        items = items[:: max(1, len(items) // limit)][:limit]
    words: list[float] = []
    chosen: list[float] = []
    for item in items:
        sentences = [item.titled(s) for s in item.sentences] if scorer.titled else item.sentences
        scores = scorer.scores(item.question, sentences)
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        chosen.append(1.0 if best == item.answer_index else 0.0)
        passage = ScoredChunk(Chunk("piaf", "piaf", 1, item.paragraph), 1.0)
        overlap = best_sentences(item.question, passage, limit=1)
        words.append(1.0 if item.sentences[item.answer_index] in overlap.sentences else 0.0)
    return words, chosen


def sentence_run(
    artifact: Path,
    store_dir: Path,
    *,
    threads: int | None,
    splits: Sequence[str] = ("dev", "test"),
    limit: int | None = None,
    piaf_limit: int | None = None,
    int8: bool = True,
    baseline: Path | None = None,
    candidates: int | None = None,
    progress: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    """The chat's answer with word overlap, with the selector `artifact` (float32, int8) and,
    given `baseline`, with another selector (the one in use, reading the setting's number of
    sentences) in the same run; `candidates`: the sentences the selector under test reads
    (default: the knowledge base's setting)."""
    from knowledge.answering import AnswerService
    from knowledge.eval.answers import chat_answers
    from knowledge.pipelines import (
        build_abstention,
        open_built_retriever,
        query_quantization,
        selector_precision,
    )
    from knowledge.qa.evaluate import latency_summary, questions_by_split
    from knowledge.rerank.reranker import SentenceSelector
    from knowledge.settings import KnowledgeSettings
    from knowledge.validation import AnswerValidator

    manifest = Manifest.load(MANIFEST)
    settings = KnowledgeSettings(store_dir=store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)
    scorers = {"float32": PassageReranker(artifact, threads=threads)}
    if int8:
        scorers["int8"] = PassageReranker(artifact, threads=threads, quantization="int8")
    if baseline is not None:
        scorers["baseline"] = PassageReranker(
            baseline, threads=threads, precision=selector_precision(settings)
        )
    abstention = build_abstention(settings, query_quantization(retriever))

    # The baseline runs as the chat runs it today: the setting's number of sentences (unset:
    # each selector reads its precision's default, as the chat's does).
    read = candidates or settings.sentence_selector_candidates
    sentences = {name: read for name in scorers} | {
        "baseline": settings.sentence_selector_candidates
    }

    selectors = {
        name: SentenceSelector(
            scorer,
            candidates=sentences[name],
            quantity_bonus=settings.sentence_selector_quantity_bonus,
        )
        for name, scorer in scorers.items()
    }

    def service(name: str | None) -> AnswerService:
        selector = None if name is None else selectors[name]
        return AnswerService(
            retriever,
            AnswerValidator(threshold=settings.validation_threshold),
            top_k=settings.top_k,
            abstention=abstention,
            sentence_selector=selector,
        )

    variants = {"words": service(None)} | {name: service(name) for name in scorers}
    for variant in variants.values():
        variant.warm_up()
        variant.answer("Quel est le délai de carence ?")  # first-call costs out of the timing
    results: dict[str, Any] = {}
    try:
        for split in splits:
            questions = questions_by_split(manifest, split)[:limit]  # type: ignore[arg-type]
            unanswerable = manifest.unanswerable(split)  # type: ignore[arg-type]
            progress(f"{len(questions)} {split} questions, the chat's answer each way")
            answered = {
                name: chat_answers(variant, questions, unanswerable)
                for name, variant in variants.items()
            }
            figures: dict[str, Any] = {n: a.summary() for n, a in answered.items()}
            for name in scorers:
                mean, low, high = paired_interval(answered["words"].rouge_l, answered[name].rouge_l)
                figures[f"{name}_minus_words"] = {
                    "rouge_l": round(mean, 4),
                    "interval": [round(low, 4), round(high, 4)],
                }
            if baseline is not None:
                mean, low, high = paired_interval(
                    answered["baseline"].rouge_l, answered["float32"].rouge_l
                )
                figures["float32_minus_baseline"] = {
                    "rouge_l": round(mean, 4),
                    "interval": [round(low, 4), round(high, 4)],
                }
            results[split] = figures
        progress("PIAF: the answering sentence of the paragraph")
        words, chosen = piaf_sentence_choices(scorers["float32"], piaf_limit)
        results["piaf"] = {
            "questions": len(words),
            "words": round(statistics.fmean(words), 4),
            "selector": round(statistics.fmean(chosen), 4),
        }
        words, chosen = piaf_sentence_choices(scorers["float32"], CHECK_SAMPLE)
        results["piaf_check_sample"] = {
            "questions": len(words),
            "words": round(statistics.fmean(words), 4),
            "selector": round(statistics.fmean(chosen), 4),
        }
        progress("latency of the selector alone")
        questions = questions_by_split(manifest, splits[-1])[:limit]  # type: ignore[arg-type]
        for name, selector in selectors.items():
            seconds = []
            for question in questions:
                found = retriever.retrieve(question.question, top_k=settings.top_k)
                started = time.perf_counter()
                selector.choose(question.question, found, 0.0)
                seconds.append(time.perf_counter() - started)
            results[f"latency_{name}"] = latency_summary(seconds, settings.top_k)
    finally:
        store.close()
    results["candidates"] = selectors["float32"].candidates  # what the selector under test read
    results["adopt"] = adopt_selector(results)
    return results


def adopt_selector(results: dict[str, Any]) -> bool:
    """The reranker's rule, on the dev split: the chat's ROUGE-L higher on average with the
    selector and its interval not entirely below 0; and the PIAF answering sentence chosen more
    often than by word overlap."""
    decided = results.get("dev", {}).get("float32_minus_words")
    if not decided or decided["rouge_l"] <= 0 or decided["interval"][1] < 0:
        return False
    return bool(results["piaf"]["selector"] > results["piaf"]["words"])


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def sentence_section(results: dict[str, Any], command: str, artifact: Path, machine: str) -> str:
    shown = _shown(artifact)
    lines = [
        SENTENCE_SECTION,
        "",
        "## Sentence selector: the sentence the chat shows (held-out splits)",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"machine: {machine}. Selector: `{shown}` (see its `provenance.json`), reading the "
        f"{results.get('candidates', 4)} sentences that share the most words with the question. "
        "The chat's "
        "extractive answer as the assistant gives it (hybrid retrieval within the question's "
        "product, the abstention model, one sentence of the passages read, or a heading with the "
        "sentence after it), its shown text scored with ROUGE-L against the reference answer; "
        "refusals score 0. Intervals: 95 % paired bootstrap over questions (2,000 resamples).",
        "",
        "| split | questions | word overlap | selector float32 (difference) | selector int8 "
        "(difference) | false abstention | abstention (unanswerable) |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in ("dev", "test"):
        if split not in results:
            continue
        figures = results[split]
        cells = [split, str(figures["words"]["questions"]), f"{figures['words']['rouge_l']:.3f}"]
        for name in ("float32", "int8"):
            if name not in figures:
                cells.append("—")
                continue
            low, high = figures[f"{name}_minus_words"]["interval"]
            cells.append(
                f"{figures[name]['rouge_l']:.3f} "
                f"({100 * figures[f'{name}_minus_words']['rouge_l']:+.1f} pts "
                f"[{100 * low:+.1f}, {100 * high:+.1f}])"
            )
        cells += [
            f"{100 * figures['words']['false_abstention']:.1f} %",
            f"{100 * figures['words']['abstention']:.1f} %",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    for split in ("dev", "test"):
        against = results.get(split, {}).get("float32_minus_baseline")
        if against:
            low, high = against["interval"]
            lines.append(
                f"\nAgainst the baseline selector `{results.get('baseline', '')}` in the same run, "
                f"{split}: {results[split]['baseline']['rouge_l']:.3f} → "
                f"{results[split]['float32']['rouge_l']:.3f} "
                f"({100 * against['rouge_l']:+.1f} pts [{100 * low:+.1f}, {100 * high:+.1f}])."
            )
    piaf = results["piaf"]
    lines += [
        "",
        f"PIAF test ({piaf['questions']} questions): the sentence holding the answer chosen in "
        f"its paragraph {100 * piaf['words']:.1f} % of the time by word overlap, "
        f"{100 * piaf['selector']:.1f} % by the selector.",
        "",
    ]
    text = "Latency of the selector alone (the sentences it reads of the 4 passages)"
    for name in ("float32", "int8"):
        if f"latency_{name}" in results:
            figures = results[f"latency_{name}"]
            text += f"; {name} median {figures['seconds_median']} s, p95 {figures['seconds_p95']} s"
    lines += [text + ".", ""]
    verdict = "**adopted**" if results["adopt"] else "**not adopted**"
    lines += [
        f"Decision: {verdict} (the reranker's rule, on the dev split: ROUGE-L higher on average "
        "with the selector and its interval not entirely below 0; and the PIAF answering "
        "sentence chosen more often than by word overlap. The test split is reported, not used).",
        "",
    ]
    return "\n".join(lines)


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
    parser.add_argument("--unit", choices=("passage", "sentence"), default="passage")
    parser.add_argument("--artifact", type=Path, help="default: the unit's committed artifact")
    parser.add_argument("--store-dir", type=Path, default=REPO / ".run/knowledge-eval")
    parser.add_argument(
        "--candidates",
        type=int,
        help=f"passages the reranker reads (default {DEFAULT_CANDIDATES}); sentences the "
        "selector reads (default: the knowledge base's setting)",
    )
    parser.add_argument(
        "--baseline", type=Path, help="sentence unit: another selector measured in the same run"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--limit", type=int, help="the first N questions (a smoke run)")
    parser.add_argument("--piaf-limit", type=int, help="N evenly spaced PIAF questions")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--report", type=Path, help="markdown report to add the section to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.unit == "sentence":
        return _main_sentences(args, argv)
    args.artifact = args.artifact or RERANKER_DIR
    try:
        results = run(
            args.artifact,
            args.store_dir,
            candidates=args.candidates or DEFAULT_CANDIDATES,
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
        _record(args.artifact, results | {"command": command.strip(), "machine": cpu})
    if args.report is not None:
        write_section(args.report, section(results, command.strip(), args.artifact, cpu))
    print(json.dumps(results, indent=1))
    return 0


def _main_sentences(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    artifact = args.artifact or SENTENCE_SELECTOR_DIR
    splits = ("dev", "test") if args.split == "test" else ("dev",)
    try:
        results = sentence_run(
            artifact,
            args.store_dir,
            threads=args.threads,
            splits=splits,
            limit=args.limit,
            piaf_limit=args.piaf_limit,
            int8=not args.no_int8,
            baseline=args.baseline,
            candidates=args.candidates,
        )
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.baseline is not None:
        results["baseline"] = _shown(args.baseline)
    command = "python -m knowledge.rerank.evaluate " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    from knowledge.qa.train import machine

    cpu = machine()["cpu"]
    if args.limit is None and args.piaf_limit is None and args.split == "test":
        _record(artifact, results | {"command": command.strip(), "machine": cpu})
    if args.report is not None:
        write_section(args.report, sentence_section(results, command.strip(), artifact, cpu))
    print(json.dumps(results, indent=1))
    return 0


def _record(artifact: Path, metrics: dict[str, Any]) -> None:
    """Writes `metrics` into the artifact's provenance file, when it has one."""
    provenance = artifact / PROVENANCE_FILE
    if provenance.is_file():
        recorded = json.loads(provenance.read_text(encoding="utf-8"))
        recorded["metrics"] = metrics
        provenance.write_text(
            json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    sys.exit(main())
