"""Measures of the extractive reader, and the choice of its threshold and calibration on dev.

    python -m knowledge.qa.evaluate [--store-dir .run/knowledge-eval]
                                    [--report docs/knowledge-eval.md] [--piaf-sample N]

1. Dev split (the only data anything is tuned on): the team's answerable dev questions and the
   dev share of the unanswerable ones are retrieved (hybrid, top 4; product filter for the
   answerable ones, as the assistant searches once the product is known; all documents for the
   unanswerable ones) and read. Platt scaling is fitted on (raw confidence, the span's passage
   is a page that answers), and the threshold is the highest one whose false abstention on the
   answerable dev questions stays within `MAX_DEV_FALSE_ABSTENTION`. Both go to
   `calibration.json` beside the weights.
2. Test split (held out): PIAF reader EM/F1 on each question's own paragraph, end-to-end
   (BM25 over all PIAF paragraphs, top 4, then the reader) EM/F1; the team's test questions
   answered by `AnswerService` with the reader and without it (today's sentence extraction):
   ROUGE-L of the shown text, false abstention; abstention on the unanswerable test questions;
   calibration (ECE, Brier); reader latency for 4 passages, float32 and int8.

Figures go to the artifact's `provenance.json` ("metrics") and, with `--report`, to a section of
the knowledge-base report (kept when `python -m knowledge eval --report` rewrites the rest).
"""

import argparse
import json
import logging
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.answering import AnswerService
from knowledge.errors import KnowledgeError
from knowledge.eval.answers import rouge_l
from knowledge.eval.datasets import Question, load_judgments, load_questions, with_judgments
from knowledge.eval.report import SECTION_MARKER, write_section
from knowledge.eval.splits import MANIFEST, PIAF_FILE, QUESTION_FILES, REPO, Manifest, Split
from knowledge.extractive import extractive_answer
from knowledge.interfaces import Retriever, ScoredChunk, SearchFilters
from knowledge.qa.data import Example, piaf_examples
from knowledge.qa.metrics import exact_match, f1
from knowledge.qa.reader import CALIBRATION_FILE, Calibration, SpanReader
from knowledge.validation import AnswerValidator

logger = logging.getLogger(__name__)

JUDGMENTS_FILE = REPO / "tests/knowledge/judgments/answering-pages.jsonl"
MAX_DEV_FALSE_ABSTENTION = 0.08  # the bar is 10 % on test: a margin for the dev/test gap
CHECK_SAMPLE = 60  # PIAF test questions the CI test re-reads with the committed artifact
SECTION = f"{SECTION_MARKER}python -m knowledge.qa.evaluate -->"


# ---------------------------------------------------------------------------------- PIAF


def evaluate_piaf_reader(reader: SpanReader, examples: Sequence[Example]) -> dict[str, Any]:
    """Reader alone, on each question's own paragraph: SQuAD exact match and F1."""
    ems: list[float] = []
    f1s: list[float] = []
    for example in examples:
        result = reader.best(example.question, [example.passage])
        predicted = (
            "" if result is None else example.passage[result[0].start_char : result[0].end_char]
        )
        ems.append(exact_match(predicted, [example.answer]))
        f1s.append(f1(predicted, [example.answer]))
    return {"questions": len(examples), "exact_match": _mean(ems), "f1": _mean(f1s)}


def evaluate_piaf_end_to_end(
    reader: SpanReader, examples: Sequence[Example], paragraphs: Sequence[str], k: int = 4
) -> dict[str, Any]:
    """BM25 over every PIAF paragraph (all splits), the top k read: EM, F1 and hit@k."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("french")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(list(paragraphs), stopwords="fr", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    queries = bm25s.tokenize(
        [e.question for e in examples],
        stopwords="fr",
        stemmer=stemmer,
        return_ids=False,
        show_progress=False,
    )
    ranked, _ = retriever.retrieve(queries, k=k, show_progress=False)
    ems: list[float] = []
    f1s: list[float] = []
    hits = 0
    for example, row in zip(examples, ranked, strict=True):
        passages = [paragraphs[int(i)] for i in row]
        hits += example.passage in passages
        result = reader.best(example.question, passages)
        predicted = ""
        if result is not None:
            predicted = passages[result[0].passage_index][result[0].start_char : result[0].end_char]
        ems.append(exact_match(predicted, [example.answer]))
        f1s.append(f1(predicted, [example.answer]))
    return {
        "questions": len(examples),
        "retriever": f"bm25 (bm25s, French stemming) over {len(paragraphs)} paragraphs, top {k}",
        f"hit_at_{k}": round(hits / max(1, len(examples)), 4),
        "exact_match": _mean(ems),
        "f1": _mean(f1s),
    }


# ------------------------------------------------------------------------ own questions


@dataclass(frozen=True)
class Observation:
    """One question read from its retrieved passages (dev: calibration and threshold)."""

    answerable: bool
    gated: bool  # the service refuses before reading (no passage shares enough words)
    raw: float | None  # the reader's raw confidence (None: nothing to read)
    correct: bool  # the span's passage is a page that answers the question


def _retrieve(
    retriever: Retriever, question: str, product: str | None, k: int
) -> list[ScoredChunk]:
    filters = SearchFilters(product_code=product) if product else None
    return retriever.retrieve(question, top_k=k, filters=filters)


def observe(
    reader: SpanReader,
    retriever: Retriever,
    answerable: Sequence[Question],
    unanswerable: Sequence[str],
    *,
    min_overlap: float,
    k: int = 4,
) -> list[Observation]:
    observations = []
    items: list[tuple[str, Question | None]] = [(q.question, q) for q in answerable]
    items += [(text, None) for text in unanswerable]
    for text, question in items:
        chunks = _retrieve(retriever, text, question.product_code if question else None, k)
        _, extract = extractive_answer(text, chunks)
        gated = extract is None or extract.overlap < min_overlap
        reading = reader.read(text, chunks) if chunks else None
        correct = bool(question and reading and question.is_answering_hit(reading.chunk.chunk))
        observations.append(
            Observation(
                question is not None, gated, reading.raw_confidence if reading else None, correct
            )
        )
    return observations


def fit_platt(
    raws: Sequence[float], labels: Sequence[bool], steps: int = 2000
) -> tuple[float, float]:
    """(slope, intercept) of a logistic regression of the labels on logit(raw)."""
    xs = [math.log(min(max(r, 1e-6), 1 - 1e-6) / (1 - min(max(r, 1e-6), 1 - 1e-6))) for r in raws]
    a, b = 1.0, 0.0
    rate = 0.1
    for _ in range(steps):
        grad_a = grad_b = 0.0
        for x, y in zip(xs, labels, strict=True):
            p = 1 / (1 + math.exp(-(a * x + b)))
            grad_a += (p - y) * x
            grad_b += p - y
        a -= rate * grad_a / len(xs)
        b -= rate * grad_b / len(xs)
    return a, b


def choose_threshold(
    observations: Sequence[Observation], calibration: Calibration, max_false_abstention: float
) -> float:
    """The highest threshold whose false abstention on the answerable questions stays within
    the bound (abstention: refused before reading, or confidence under the threshold)."""

    def abstains(o: Observation, threshold: float) -> bool:
        return o.gated or o.raw is None or calibration.apply(o.raw) < threshold

    answerable = [o for o in observations if o.answerable]
    best = 0.0
    for step in range(0, 100):
        threshold = step / 100
        false = sum(abstains(o, threshold) for o in answerable) / max(1, len(answerable))
        if false <= max_false_abstention:
            best = threshold
    return best


def calibration_error(
    pairs: Sequence[tuple[float, bool]], bins: int = 10
) -> dict[str, float] | None:
    """Expected calibration error (equal-width bins) and Brier score of (confidence, correct);
    None without confidences (sentence extraction has none)."""
    if not pairs:
        return None
    total = 0.0
    for index in range(bins):
        low, high = index / bins, (index + 1) / bins
        group = [(c, y) for c, y in pairs if low <= c < high or (index == bins - 1 and c == 1.0)]
        if group:
            accuracy = sum(y for _, y in group) / len(group)
            confidence = sum(c for c, _ in group) / len(group)
            total += len(group) / len(pairs) * abs(accuracy - confidence)
    brier = sum((c - y) ** 2 for c, y in pairs) / len(pairs)
    return {"ece": round(total, 4), "brier": round(brier, 4)}


def evaluate_service(
    service: AnswerService,
    answerable: Sequence[Question],
    unanswerable: Sequence[str],
) -> dict[str, Any]:
    """ROUGE-L of the shown text and false abstention on the answerable questions (product
    filter), abstention on the unanswerable ones (all documents), seconds per answer."""
    scores: list[float] = []
    answered_scores: list[float] = []
    refused = 0
    seconds: list[float] = []
    pairs: list[tuple[float, bool]] = []
    for question in answerable:
        started = time.perf_counter()
        answer = service.answer(question.question, question.product_code)
        seconds.append(time.perf_counter() - started)
        score = rouge_l(answer.text, question.answer or "")
        scores.append(score)
        if answer.mode == "refusal":
            refused += 1
        else:
            answered_scores.append(score)
        confidence = _confidence(answer.notes)
        if confidence is not None:
            top = answer.sources[0] if answer.sources else None
            correct = top is not None and (
                (top.document, top.page) == (question.document, question.page)
                or (top.document, top.page) in question.other_pages
            )
            pairs.append((confidence, correct and answer.mode != "refusal"))
    abstained = 0
    for text in unanswerable:
        started = time.perf_counter()
        answer = service.answer(text)
        seconds.append(time.perf_counter() - started)
        abstained += answer.mode == "refusal"
        confidence = _confidence(answer.notes)
        if confidence is not None:
            pairs.append((confidence, False))
    ordered = sorted(seconds)
    return {
        "answerable": len(answerable),
        "rouge_l_mean": _mean(scores),
        "rouge_l_mean_answered": _mean(answered_scores),
        "false_abstention": round(refused / max(1, len(answerable)), 4),
        "unanswerable": len(unanswerable),
        "abstention_unanswerable": round(abstained / max(1, len(unanswerable)), 4),
        "seconds_median": round(statistics.median(seconds), 3) if seconds else None,
        "seconds_p95": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 3)
        if ordered
        else None,
        "calibration": calibration_error(pairs),
    }


def _confidence(notes: Sequence[str]) -> float | None:
    for note in notes:
        if note.startswith("confidence="):
            return float(note.split("=", 1)[1])
    return None


def reader_latency(
    reader: SpanReader,
    retriever: Retriever,
    questions: Sequence[Question],
    k: int = 4,
    repeat: int = 1,
) -> dict[str, Any]:
    """Seconds to read k passages per question (retrieval excluded), median and p95."""
    reader.warm_up()
    inputs = [(q.question, _retrieve(retriever, q.question, q.product_code, k)) for q in questions]
    reader.read(inputs[0][0], inputs[0][1])  # first call allocates
    seconds: list[float] = []
    for _ in range(repeat):
        for text, chunks in inputs:
            started = time.perf_counter()
            reader.read(text, chunks)
            seconds.append(time.perf_counter() - started)
    return latency_summary(seconds, k)


def latency_summary(seconds: Sequence[float], passages: int) -> dict[str, Any]:
    """Calls, passages per call, median and p95 of the seconds."""
    ordered = sorted(seconds)
    return {
        "calls": len(ordered),
        "passages": passages,
        "seconds_median": round(statistics.median(ordered), 4),
        "seconds_p95": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 4),
    }


# ---------------------------------------------------------------------------------- main


def check_sample(examples: Sequence[Example], size: int = CHECK_SAMPLE) -> list[Example]:
    """A fixed, evenly spaced sample of the PIAF test questions (the artifact test re-reads it)."""
    if len(examples) <= size:
        return list(examples)
    stride = len(examples) / size
    return [examples[int(i * stride)] for i in range(size)]


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def questions_by_split(manifest: Manifest, split: Split) -> list[Question]:
    everything = [q for path in QUESTION_FILES for q in load_questions(path)]
    everything = with_judgments(everything, load_judgments(JUDGMENTS_FILE))
    pages = manifest.pages(split)
    return [q for q in everything if f"{q.document}#{q.page}" in pages and q.answer]


def run(
    artifact: Path,
    store_dir: Path,
    *,
    threads: int | None,
    piaf: Path = PIAF_FILE,
    skip_piaf: bool = False,
    int8: bool = True,
    limit: int | None = None,
    piaf_sample: int | None = None,
    progress: Callable[[str], None] = logger.info,
) -> dict[str, Any]:
    from knowledge.pipelines import open_built_retriever
    from knowledge.settings import KnowledgeSettings

    manifest = Manifest.load(MANIFEST)
    settings = KnowledgeSettings(store_dir=store_dir, llm_model="", reader_dir=artifact)
    retriever, store = open_built_retriever(settings)
    reader = SpanReader(artifact, threads=threads)
    reader.warm_up()
    baseline = AnswerService(retriever, AnswerValidator(threshold=settings.validation_threshold))
    min_overlap = baseline.min_retrieval_overlap
    results: dict[str, Any] = {}

    # 1. Dev: calibration and threshold.
    progress("dev: reading the dev questions")
    dev = observe(
        reader,
        retriever,
        questions_by_split(manifest, "dev")[:limit],
        manifest.unanswerable("dev")[:limit],
        min_overlap=min_overlap,
    )
    read = [o for o in dev if o.raw is not None and not o.gated]
    slope, intercept = fit_platt([o.raw or 0.0 for o in read], [o.correct for o in read])
    calibration = Calibration(slope, intercept)
    threshold = choose_threshold(dev, calibration, MAX_DEV_FALSE_ABSTENTION)
    calibration = Calibration(slope, intercept, threshold)
    (artifact / CALIBRATION_FILE).write_text(
        json.dumps(
            {
                "slope": round(slope, 4),
                "intercept": round(intercept, 4),
                "threshold": threshold,
                "chosen_on": "dev split (knowledge/eval/splits.json): own + unanswerable questions",
                "rule": f"highest threshold, dev false abstention <= {MAX_DEV_FALSE_ABSTENTION}",
                "dev_answerable": sum(o.answerable for o in dev),
                "dev_unanswerable": sum(not o.answerable for o in dev),
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    reader.calibration = calibration
    results["dev"] = {
        "calibration": {"slope": round(slope, 4), "intercept": round(intercept, 4)},
        "threshold": threshold,
    }

    # 2. Test.
    test_questions = questions_by_split(manifest, "test")[:limit]
    unanswerable = manifest.unanswerable("test")[:limit]
    progress("test: answering with the reader")
    with_reader = AnswerService(
        retriever, AnswerValidator(threshold=settings.validation_threshold), reader=reader
    )
    results["own_test_reader"] = evaluate_service(with_reader, test_questions, unanswerable)
    progress("test: answering with sentence extraction (today's answer)")
    results["own_test_extractive"] = evaluate_service(baseline, test_questions, unanswerable)
    progress("latency")
    results["latency_float32"] = reader_latency(reader, retriever, test_questions)
    if int8:
        quantized = SpanReader(artifact, threads=threads, quantization="int8")
        results["latency_int8"] = reader_latency(quantized, retriever, test_questions)
    if not skip_piaf:
        progress("PIAF test: the CI check sample")
        results["piaf_test_check_sample"] = evaluate_piaf_reader(
            reader, check_sample(piaf_examples(piaf, manifest, "test"))
        )
        progress("PIAF test: reader on the gold paragraph")
        test_examples = piaf_examples(piaf, manifest, "test")[:limit]
        if piaf_sample is not None and piaf_sample < len(test_examples):
            # Evenly spaced, so every test article is represented; deterministic.
            stride = len(test_examples) / piaf_sample
            test_examples = [test_examples[int(i * stride)] for i in range(piaf_sample)]
        results["piaf_test_reader"] = evaluate_piaf_reader(reader, test_examples)
        progress("PIAF test: BM25 top 4 then the reader")
        data = json.loads(piaf.read_text(encoding="utf-8"))
        paragraphs = list(
            dict.fromkeys(p["context"] for a in data["data"] for p in a["paragraphs"])
        )
        results["piaf_test_end_to_end"] = evaluate_piaf_end_to_end(
            reader, test_examples, paragraphs
        )
        if int8:
            results["piaf_test_reader_int8"] = evaluate_piaf_reader(quantized, test_examples)
    store.close()
    return results


def _this_cpu() -> str:
    from knowledge.qa.train import machine

    found = machine()
    bfloat16 = "with" if found["native_bfloat16"] else "without"
    return f"{found['cpu']}, {bfloat16} hardware bfloat16"


def markdown(results: dict[str, Any], provenance: dict[str, Any], command: str) -> str:
    reader, base = results["own_test_reader"], results["own_test_extractive"]
    lines = [
        SECTION,
        "",
        "## Extractive reader (held-out splits)",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"measured on: {_this_cpu()} (the reader was trained on "
        f"{provenance.get('machine', {}).get('cpu', '?')}). Splits: "
        "`knowledge/eval/splits.json` (PIAF by article, the team's questions by document and page, "
        "unanswerable questions by text). Reader: `knowledge/artifacts/reader/` "
        f"(trained {provenance.get('steps', '?')} steps, see its `provenance.json`); threshold "
        f"{results['dev']['threshold']:.2f} and Platt calibration chosen on the dev split only.",
        "",
    ]
    if "piaf_test_reader" in results:
        piaf, e2e = results["piaf_test_reader"], results["piaf_test_end_to_end"]
        lines += [
            "| PIAF test | questions | exact match | F1 |",
            "|---|---|---|---|",
            f"| reader, gold paragraph | {piaf['questions']} | {piaf['exact_match']:.3f} "
            f"| {piaf['f1']:.3f} |",
        ]
        if "piaf_test_reader_int8" in results:
            q8 = results["piaf_test_reader_int8"]
            lines.append(
                f"| reader int8, gold paragraph | {q8['questions']} | {q8['exact_match']:.3f} "
                f"| {q8['f1']:.3f} |"
            )
        lines += [
            f"| end to end: BM25 top 4 (hit@4 {e2e['hit_at_4']:.3f}) then reader "
            f"| {e2e['questions']} "
            f"| {e2e['exact_match']:.3f} | {e2e['f1']:.3f} |",
            "",
        ]
    lines += [
        f"Team's test questions ({reader['answerable']} answerable, product filter; "
        f"{reader['unanswerable']} that the documents do not answer, all documents), answered by "
        "`AnswerService` (hybrid retrieval, top 4):",
        "",
        "| answer | ROUGE-L mean (all) | ROUGE-L (answered) | false abstention "
        "| abstention on unanswerable | ECE | Brier | s/answer median / p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in (
        ("reader (span's sentence)", reader),
        ("sentence extraction (before)", base),
    ):
        cal = row["calibration"]
        ece, brier = (f"{cal['ece']:.3f}", f"{cal['brier']:.3f}") if cal else ("—", "—")
        lines.append(
            f"| {label} | {row['rouge_l_mean']:.3f} | {row['rouge_l_mean_answered']:.3f} | "
            f"{row['false_abstention']:.3f} | {row['abstention_unanswerable']:.3f} | "
            f"{ece} | {brier} | {row['seconds_median']} / {row['seconds_p95']} |"
        )
    lat = results["latency_float32"]
    lines += [
        "",
        f"Reader alone, 4 passages: float32 median {lat['seconds_median']} s, "
        f"p95 {lat['seconds_p95']} s",
    ]
    if "latency_int8" in results:
        q8 = results["latency_int8"]
        lines[-1] += f"; int8 median {q8['seconds_median']} s, p95 {q8['seconds_p95']} s"
    lines[-1] += f" ({lat['calls']} calls, the test questions' retrieved passages)."
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.qa.train import PROVENANCE_FILE, write_provenance
    from knowledge.settings import READER_DIR

    parser = argparse.ArgumentParser(
        prog="python -m knowledge.qa.evaluate", description="Measure the reader."
    )
    parser.add_argument("--artifact", type=Path, default=READER_DIR)
    parser.add_argument("--store-dir", type=Path, default=REPO / ".run/knowledge-eval")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-piaf", action="store_true")
    parser.add_argument("--no-int8", action="store_true")
    parser.add_argument("--limit", type=int, help="the first N questions of each set (a smoke run)")
    parser.add_argument("--piaf-sample", type=int, help="N evenly spaced PIAF test questions")
    parser.add_argument("--report", type=Path, help="markdown report to add the reader section to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    command = "python -m knowledge.qa.evaluate " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    try:
        results = run(
            args.artifact,
            args.store_dir,
            threads=args.threads,
            skip_piaf=args.skip_piaf,
            int8=not args.no_int8,
            limit=args.limit,
            piaf_sample=args.piaf_sample,
        )
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    provenance_path = args.artifact / PROVENANCE_FILE
    provenance = (
        json.loads(provenance_path.read_text(encoding="utf-8")) if provenance_path.is_file() else {}
    )
    provenance.setdefault("metrics", {}).update(results)
    provenance["metrics_command"] = command.strip()
    write_provenance(args.artifact, provenance)
    if args.report:
        write_section(args.report, markdown(results, provenance, command.strip()))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
