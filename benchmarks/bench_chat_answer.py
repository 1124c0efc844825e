"""The chat's extractive answer three ways, on the team's questions, as the assistant runs: the
abstention model decides whether the documents answer (answerable questions asked with their
product, the unanswerable ones on all documents).

- `words`: the sentence sharing the most words with the question (the fallback);
- `selector`: the sentence selector's choice (knowledge/artifacts/sentence-selector);
- `reader`: the reader's span sentence (knowledge/artifacts/reader; the abstention model
  decides, the reader's own threshold does not refuse).

ROUGE-L of the shown text against the reference answers (`--all-documents`: the answerable
questions asked without their product, over every document), false abstention, abstention on the
unanswerable questions, the time of one answer (retrieval included), and the paired difference
of each variant with `words`, with its 95 % bootstrap interval. Dev decides; test is reported.

    python -m benchmarks.bench_chat_answer [--store-dir .run/knowledge-eval] [--split dev test]
        [--variants words selector reader] [--quantization none|int8] [--save run.json]
        [--questions FILE --unanswerable FILE]
    python -m benchmarks.bench_chat_answer --compare baseline.json candidate.json

`--questions` and `--unanswerable` measure a held-out file of another writer instead of the
manifest's splits (answerable questions with their page, product and reference answer;
unanswerable ones with their `kind`, reported by kind); the pages' splits are printed, since a
page of the train split was seen by the selector.

`--save` keeps each question's ROUGE-L; `--compare` pairs two saved runs (another store,
embedding model or abstention model, each run with its own KNOWLEDGE_* settings) question by
question: the difference of each split and variant with its 95 % bootstrap interval.
"""

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from knowledge.answering import AnswerService
from knowledge.eval.abstention import by_kind, unanswerable_file
from knowledge.eval.answers import chat_answers
from knowledge.eval.datasets import Question, load_questions
from knowledge.eval.splits import MANIFEST, REPO, Manifest, page_rule
from knowledge.pipelines import (
    build_abstention,
    open_built_retriever,
    query_quantization,
    selector_candidates,
    selector_precision,
)
from knowledge.qa.evaluate import questions_by_split
from knowledge.qa.reader import SpanReader
from knowledge.rerank.evaluate import paired_interval
from knowledge.rerank.reranker import PassageReranker, SentenceSelector
from knowledge.settings import READER_DIR, SENTENCE_SELECTOR_DIR, KnowledgeSettings
from knowledge.validation import AnswerValidator

VARIANTS = ("words", "selector", "reader")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_chat_answer")
    parser.add_argument("--store-dir", type=Path, default=REPO / ".run/knowledge-eval")
    parser.add_argument("--split", nargs="+", choices=("dev", "test"), default=["dev", "test"])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--selector", type=Path, default=SENTENCE_SELECTOR_DIR)
    parser.add_argument("--reader", type=Path, default=READER_DIR)
    parser.add_argument("--quantization", choices=("none", "int8"), default="none")
    parser.add_argument(
        "--all-documents",
        action="store_true",
        help="ask the answerable questions without their product (a prospect who names none)",
    )
    parser.add_argument(
        "--questions", type=Path, help="a file of answerable questions instead of the splits"
    )
    parser.add_argument(
        "--unanswerable", type=Path, help="a file of unanswerable questions (with their kind)"
    )
    parser.add_argument("--save", type=Path, help="write each question's ROUGE-L to this file")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("BASELINE", "CANDIDATE"), help="saved runs"
    )
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if bool(args.questions) != bool(args.unanswerable):
        parser.error("--questions and --unanswerable go together")
    settings = KnowledgeSettings(store_dir=args.store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)
    abstention = build_abstention(settings, query_quantization(retriever))
    # The fit reading the selector's score, when it was made beside this selector and precision.
    selector_settings = settings.model_copy(
        update={
            "sentence_selector_dir": args.selector,
            "sentence_selector_quantization": args.quantization,
        }
    )
    selector_abstention = build_abstention(selector_settings, query_quantization(retriever), True)
    manifest = Manifest.load(MANIFEST)
    services = {
        name: AnswerService(
            retriever,
            AnswerValidator(threshold=settings.validation_threshold),
            reader=(
                SpanReader(args.reader, threads=2, quantization=args.quantization)
                if name == "reader"
                else None
            ),
            sentence_selector=(
                SentenceSelector(
                    PassageReranker(
                        args.selector,
                        threads=2,
                        quantization=args.quantization,
                        precision=selector_precision(selector_settings),
                    ),
                    candidates=selector_candidates(selector_settings),
                    quantity_bonus=settings.sentence_selector_quantity_bonus,
                )
                if name == "selector"
                else None
            ),
            abstention=abstention,
            selector_abstention=selector_abstention if name == "selector" else None,
        )
        for name in ("words", *args.variants)
    }
    for service in services.values():
        service.warm_up()
        service.answer("Quel est le délai de carence ?")  # first-call costs out of the timing
    results: dict[str, dict[str, object]] = {}
    per_question: dict[str, list[float]] = {}
    if args.questions:
        question_sets = [held_out_set(args.questions, args.unanswerable)]
    else:
        question_sets = [
            (split, questions_by_split(manifest, split), manifest.unanswerable(split), [])
            for split in args.split
        ]
    try:
        for split, questions, unanswerable, kinds in question_sets:
            if args.all_documents:
                questions = [replace(q, product_code=None) for q in questions]
            scores: dict[str, list[float]] = {}
            for name, service in services.items():
                answered = chat_answers(service, questions, unanswerable)
                scores[name] = answered.rouge_l
                per_question[f"{split}/{name}"] = answered.rouge_l
                results[f"{split}/{name}"] = answered.summary()
                if kinds:
                    results[f"{split}/{name}"]["abstention_by_kind"] = abstention_by_kind(
                        answered.refused, kinds
                    )
                print(split, name, json.dumps(results[f"{split}/{name}"]), flush=True)
            for name in services:
                if name == "words":
                    continue
                mean, low, high = paired_interval(scores["words"], scores[name])
                key = f"{split}/{name}_minus_words"
                results[key] = {
                    "rouge_l": round(mean, 4),
                    "interval": [round(low, 4), round(high, 4)],
                }
                print(split, f"{name} − words", json.dumps(results[key]), flush=True)
    finally:
        store.close()
    if args.save:
        record: dict[str, object] = {
            "store": str(args.store_dir),
            "model": settings.embedding_model,
            "summary": results,
            "rouge_l": per_question,
        }
        args.save.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return 0


def held_out_set(
    answerable: Path, unanswerable: Path
) -> tuple[str, list[Question], list[str], list[tuple[str, str]]]:
    """(label, answerable questions, unanswerable questions, (question, kind) of each) of a
    held-out file pair; prints the splits of the answerable questions' pages."""
    questions = [q for q in load_questions(answerable) if q.answer]
    kinds = unanswerable_file(unanswerable)
    pages = Counter(page_rule(q.document, q.page) for q in questions)
    print(f"{answerable}: {len(questions)} questions, pages by split {dict(pages)}", flush=True)
    return answerable.stem, questions, [question for question, _ in kinds], kinds


def abstention_by_kind(refused: Sequence[bool], kinds: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Refused out of asked, for each kind of unanswerable question (`by_kind`'s counts)."""
    rated = by_kind([(was_refused, 0) for was_refused in refused], kinds)
    return {
        kind or "unknown": f"{rate['abstention']['k']}/{rate['abstention']['n']}"
        for kind, rate in rated.items()
    }


def compare(baseline: Path, candidate: Path) -> int:
    """Candidate − baseline ROUGE-L, paired by question, for each split and variant both hold."""
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in (baseline, candidate)]
    for key in sorted(set(runs[0]["rouge_l"]) & set(runs[1]["rouge_l"])):
        before, after = runs[0]["rouge_l"][key], runs[1]["rouge_l"][key]
        if len(before) != len(after):
            print(key, "not the same questions", flush=True)
            continue
        mean, low, high = paired_interval(before, after)
        print(
            key,
            f"{runs[1]['model']} − {runs[0]['model']}",
            json.dumps({"rouge_l": round(mean, 4), "interval": [round(low, 4), round(high, 4)]}),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
