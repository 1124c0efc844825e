"""Answer validation: acceptance of the reference answers, rejection of deliberately wrong ones.

For each hand-written question, the passages are the chunks of the page that answers it (the
validator is measured alone, independent of retrieval). Three answers are validated:
- the reference answer (should be accepted);
- the reference answer with its figures changed (wrong numbers; questions whose answer holds a
  figure);
- the reference answer of a question about another product (another product's facts; a
  deterministic pairing).

    python -m benchmarks.bench_validation [--corpus DIR] [--questions DIR]
"""

import argparse
import random
import re
from collections import defaultdict
from pathlib import Path

from common.french_numbers import numbers_in
from knowledge.chunking import SectionChunker
from knowledge.cleaning import TextCleaner
from knowledge.eval.datasets import Question, load_questions
from knowledge.readers import PdfReader
from knowledge.validation import AnswerValidator

# Whole numbers, thousands groups included ("2 000"), as the validator reads them.
_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+")


def _shift_numbers(text: str, rng: random.Random) -> str:
    """The same answer with every figure changed (small ones shifted, large ones doubled)."""

    def replace(match: re.Match[str]) -> str:
        value = int(re.sub(r"\D", "", match.group()))
        return str(value + rng.choice([1, 2, 5, 10]) if value < 10 else value * 2)

    return _NUMBER.sub(replace, text)


def _page_passages(corpus: Path) -> dict[tuple[str, int], list[str]]:
    reader, cleaner, chunker = PdfReader(), TextCleaner(), SectionChunker()
    passages: dict[tuple[str, int], list[str]] = defaultdict(list)
    for path in sorted(corpus.rglob("*.pdf")):
        pages = cleaner.clean(reader.read(path))
        for chunk in chunker.split(pages):
            passages[(chunk.document, chunk.page)].append(chunk.text)
    return passages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_validation")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--questions", type=Path, default=Path("tests/knowledge/questions"))
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(f"{args.corpus} not found: run `python -m knowledge.corpus build` first")
        return 2
    questions: list[Question] = []
    for path in sorted(args.questions.glob("*.jsonl")):
        questions.extend(q for q in load_questions(path) if q.answer)
    passages = _page_passages(args.corpus)
    validator = AnswerValidator()
    rng = random.Random(7)  # noqa: S311 - reproducible perturbations, not security

    accepted_reference = 0
    wrong_numbers = rejected_numbers = 0
    other_product = rejected_other = 0
    for index, question in enumerate(questions):
        reference = question.answer or ""
        context = passages.get((question.document, question.page), [])
        if validator.validate(question.question, reference, context).accepted:
            accepted_reference += 1
        if numbers_in(reference):
            wrong = _shift_numbers(reference, rng)
            wrong_numbers += 1
            rejected_numbers += not validator.validate(question.question, wrong, context).accepted
        others = [q for q in questions if q.product_code != question.product_code]
        other = others[(index * 7919) % len(others)].answer or ""
        other_product += 1
        rejected_other += not validator.validate(question.question, other, context).accepted

    total = len(questions)
    rejected = rejected_numbers + rejected_other
    wrong_total = wrong_numbers + other_product
    print("| set | answers | rate |")
    print("|---|---|---|")
    print(f"| reference answers accepted | {total} | {accepted_reference / total:.3f} |")
    print(f"| wrong figures rejected | {wrong_numbers} | {rejected_numbers / wrong_numbers:.3f} |")
    print(f"| another product's answer rejected | {other_product} | "
          f"{rejected_other / other_product:.3f} |")  # fmt: skip
    print(f"| all wrong answers rejected | {wrong_total} | {rejected / wrong_total:.3f} |")
    print(f"(threshold {validator.threshold}, lexical validation, gold page passages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
