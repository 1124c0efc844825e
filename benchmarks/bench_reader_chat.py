"""The chat's answer with the extractive reader against sentence extraction, on the team's
questions, as the assistant runs: the abstention model decides whether the documents answer
(answerable questions asked with their product, the unanswerable ones on all documents).

Two answers per question: sentence extraction (the default) and the reader (with the
abstention model, the reader's own threshold does not refuse). ROUGE-L against the
reference answers, false abstention, abstention on the unanswerable questions, and the paired
difference reader − sentences with its 95 % bootstrap interval. Dev decides; test is reported.

    python -m benchmarks.bench_reader_chat [--store-dir .run/knowledge-eval] [--split dev test]
"""

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path

from knowledge.answering import AnswerService
from knowledge.eval.answers import rouge_l
from knowledge.eval.splits import MANIFEST, REPO, Manifest
from knowledge.pipelines import build_abstention, open_built_retriever
from knowledge.qa.evaluate import questions_by_split
from knowledge.qa.reader import SpanReader
from knowledge.rerank.evaluate import paired_interval
from knowledge.settings import READER_DIR, KnowledgeSettings
from knowledge.validation import AnswerValidator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reader_chat")
    parser.add_argument("--store-dir", type=Path, default=REPO / ".run/knowledge-eval")
    parser.add_argument("--artifact", type=Path, default=READER_DIR)
    parser.add_argument("--split", nargs="+", choices=("dev", "test"), default=["dev", "test"])
    args = parser.parse_args(argv)
    settings = KnowledgeSettings(store_dir=args.store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)
    abstention = build_abstention(settings, "none")
    manifest = Manifest.load(MANIFEST)
    variants = {
        "sentences": None,
        "reader": SpanReader(args.artifact, threads=2),
    }
    results: dict[str, dict[str, object]] = {}
    try:
        for split in args.split:
            questions = questions_by_split(manifest, split)
            unanswerable = manifest.unanswerable(split)
            scores: dict[str, list[float]] = {}
            for name, reader in variants.items():
                service = AnswerService(
                    retriever,
                    AnswerValidator(threshold=settings.validation_threshold),
                    reader=reader,
                    abstention=abstention,
                )
                answers = [service.answer(q.question, q.product_code) for q in questions]
                scores[name] = [
                    rouge_l(a.text, q.answer or "") for a, q in zip(answers, questions, strict=True)
                ]
                refused = [service.answer(text).mode == "refusal" for text in unanswerable]
                results[f"{split}/{name}"] = {
                    "questions": len(questions),
                    "rouge_l": round(statistics.fmean(scores[name]), 4),
                    "false_abstention": round(
                        sum(a.mode == "refusal" for a in answers) / len(answers), 4
                    ),
                    "unanswerable": len(unanswerable),
                    "abstention": round(sum(refused) / max(1, len(refused)), 4),
                }
                print(split, name, json.dumps(results[f"{split}/{name}"]), flush=True)
            mean, low, high = paired_interval(scores["sentences"], scores["reader"])
            results[f"{split}/reader_minus_sentences"] = {
                "rouge_l": round(mean, 4),
                "interval": [round(low, 4), round(high, 4)],
            }
            print(
                split, "reader − sentences", json.dumps(results[f"{split}/reader_minus_sentences"])
            )
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
