"""Answer validation, measured two ways.

1. Hand-written cases (negations and promises): (question, answer, passage, expected verdict,
   kind) rows, a development split (`tests/knowledge/data/validation_cases.yml`, also the table
   test's data) and a held-out split written at the same time (`benchmarks/validation/
   heldout_cases.yml`). Printed per split: accuracy, precision and recall of rejections (a
   rejection is the positive class), per kind of case, per check that fired, and the same
   validator without the polarity and commitment checks for comparison; then the latency.
2. The hand-written questions on the built corpus (needs `python -m knowledge.corpus build`):
   acceptance of the reference answers, rejection of deliberately wrong ones. For each question,
   the passages are the chunks of the page that answers it (the validator is measured alone,
   independent of retrieval). Three answers are validated: the reference answer (should be
   accepted); the reference answer with its figures changed (questions whose answer holds a
   figure); the reference answer of a question about another product (a deterministic pairing).

    python -m benchmarks.bench_validation [--cases-only] [--show-failures] [--corpus DIR]
                                          [--questions DIR]
"""

import argparse
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from common.french_numbers import numbers_in
from knowledge.validation import AnswerValidator, Verdict

DEV_CASES = Path("tests/knowledge/data/validation_cases.yml")
HELDOUT_CASES = Path("benchmarks/validation/heldout_cases.yml")
REJECT_KINDS = ("negation_flip", "promise")
ACCEPT_KINDS = ("valid", "valid_negation", "valid_quote")
# The check that should fire for each kind of wrong answer.
EXPECTED_CHECK = {"negation_flip": "polarity", "promise": "commitment"}
CHECKS = ("figures", "polarity", "commitment", "support")

# Whole numbers, thousands groups included ("2 000"), as the validator reads them.
_NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+")


class CaseFileError(ValueError):
    """A case file that cannot be read, with the case at fault."""


@dataclass(frozen=True)
class Case:
    id: str
    topic: str
    kind: str
    expected: str  # "accept" or "reject"
    question: str
    passage: str
    answer: str

    @property
    def should_reject(self) -> bool:
        return self.expected == "reject"


@dataclass(frozen=True)
class Result:
    case: Case
    verdict: Verdict

    @property
    def rejected(self) -> bool:
        return not self.verdict.accepted

    @property
    def passed(self) -> bool:
        return self.rejected == self.case.should_reject

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks that rejected the answer."""
        verdict = self.verdict
        fired = []
        if verdict.unsupported_numbers:
            fired.append("figures")
        if verdict.contradictions:
            fired.append("polarity")
        if verdict.commitments:
            fired.append("commitment")
        if not verdict.accepted and not fired:
            fired.append("support")
        return tuple(fired)


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise CaseFileError(f"{path}: a list of cases is expected")
    cases: list[Case] = []
    fields = set(Case.__dataclass_fields__)
    for index, row in enumerate(data):
        if not isinstance(row, dict) or set(row) != fields:
            raise CaseFileError(f"{path}: case {index + 1} needs exactly {sorted(fields)}")
        if row["kind"] not in REJECT_KINDS + ACCEPT_KINDS:
            raise CaseFileError(f"{path}: case {row['id']}: unknown kind {row['kind']!r}")
        expected = "reject" if row["kind"] in REJECT_KINDS else "accept"
        if row["expected"] != expected:
            raise CaseFileError(f"{path}: case {row['id']}: kind {row['kind']} is {expected}ed")
        cases.append(Case(**{key: str(value) for key, value in row.items()}))
    return cases


def score(cases: Sequence[Case], validator: AnswerValidator | None = None) -> list[Result]:
    validator = validator or AnswerValidator()
    return [
        Result(case, validator.validate(case.question, case.answer, [case.passage]))
        for case in cases
    ]


def _rate(hits: int, total: int) -> str:
    return f"{hits}/{total} ({100 * hits / total:.1f} %)" if total else "–"


def _ratio(hits: int, total: int) -> str:
    return f"{hits / total:.3f}" if total else "–"


def report(name: str, results: Sequence[Result], baseline: Sequence[Result] | None = None) -> str:
    """Markdown tables of one split."""
    lines = [f"### {name} ({len(results)} cases)", ""]
    lines += [
        "| checks | accuracy | rejection precision | rejection recall | false rejections |",
        "|---|---|---|---|---|",
    ]
    runs = [("all (default)", results)]
    if baseline is not None:
        runs.append(("without polarity and commitments", baseline))
    for label, run in runs:
        true_rejections = sum(r.rejected and r.case.should_reject for r in run)
        rejections = sum(r.rejected for r in run)
        wrong = sum(r.case.should_reject for r in run)
        right = len(run) - wrong
        false_rejections = rejections - true_rejections
        lines.append(
            f"| {label} | {_rate(sum(r.passed for r in run), len(run))} | "
            f"{_ratio(true_rejections, rejections)} | {_ratio(true_rejections, wrong)} | "
            f"{_rate(false_rejections, right)} |"
        )
    lines += ["", "| kind | cases | verdict right | rejected by the expected check |",
              "|---|---|---|---|"]  # fmt: skip
    for kind in REJECT_KINDS + ACCEPT_KINDS:
        rows = [r for r in results if r.case.kind == kind]
        if not rows:
            continue
        expected_check = EXPECTED_CHECK.get(kind)
        by_check = (
            _rate(sum(expected_check in r.checks for r in rows), len(rows))
            if expected_check
            else "–"
        )
        lines.append(
            f"| {kind} | {len(rows)} | {_rate(sum(r.passed for r in rows), len(rows))} | "
            f"{by_check} |"
        )
    lines += ["", "| check | rejections it made | of which right (precision) |", "|---|---|---|"]
    for check in CHECKS:
        fired = [r for r in results if check in r.checks]
        right = sum(r.case.should_reject for r in fired)
        lines.append(f"| {check} | {len(fired)} | {_ratio(right, len(fired))} |")
    return "\n".join(lines)


def failures(results: Sequence[Result]) -> str:
    lines = []
    for result in results:
        if not result.passed:
            verdict = "rejected" if result.rejected else "accepted"
            reason = result.verdict.reason or "accepted"
            lines.append(f"- {result.case.id} ({result.case.kind}) {verdict}: {reason}")
    return "\n".join(lines) or "(none)"


def latency(cases: Sequence[Case], repeats: int = 20) -> tuple[float, float]:
    """Median and p95 milliseconds of one validation (lexical validator, one passage)."""
    validator = AnswerValidator()
    timings: list[float] = []
    for _ in range(repeats):
        for case in cases:
            start = time.perf_counter()
            validator.validate(case.question, case.answer, [case.passage])
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def run_cases(show_failures: bool) -> None:
    all_cases: list[Case] = []
    for name, path in (("development", DEV_CASES), ("held-out", HELDOUT_CASES)):
        cases = load_cases(path)
        all_cases += cases
        results = score(cases)
        baseline = score(cases, AnswerValidator(check_polarity=False, check_commitments=False))
        print(report(f"{name} — {path}", results, baseline))
        if show_failures:
            print("\nMisses:\n" + failures(results))
        print()
    median, p95 = latency(all_cases)
    print(f"Latency of one validation ({len(all_cases)} cases × 20): "
          f"median {median:.2f} ms, p95 {p95:.2f} ms")  # fmt: skip


# --- Reference answers on the built corpus ---------------------------------------------------


def _shift_numbers(text: str, rng: random.Random) -> str:
    """The same answer with every figure changed (small ones shifted, large ones doubled)."""

    def replace(match: re.Match[str]) -> str:
        value = int(re.sub(r"\D", "", match.group()))
        return str(value + rng.choice([1, 2, 5, 10]) if value < 10 else value * 2)

    return _NUMBER.sub(replace, text)


def _page_passages(corpus: Path) -> dict[tuple[str, int], list[str]]:
    from knowledge.chunking import SectionChunker
    from knowledge.cleaning import TextCleaner
    from knowledge.readers import PdfReader

    reader, cleaner, chunker = PdfReader(), TextCleaner(), SectionChunker()
    passages: dict[tuple[str, int], list[str]] = defaultdict(list)
    for path in sorted(corpus.rglob("*.pdf")):
        pages = cleaner.clean(reader.read(path))
        for chunk in chunker.split(pages):
            passages[(chunk.document, chunk.page)].append(chunk.text)
    return passages


def run_corpus(corpus: Path, questions_dir: Path, show_failures: bool) -> None:
    from knowledge.eval.datasets import Question, load_questions

    questions: list[Question] = []
    for path in sorted(questions_dir.glob("*.jsonl")):
        questions.extend(q for q in load_questions(path) if q.answer)
    passages = _page_passages(corpus)
    validator = AnswerValidator()
    rng = random.Random(7)  # noqa: S311 - reproducible perturbations, not security

    accepted_reference = 0
    wrong_numbers = rejected_numbers = 0
    other_product = rejected_other = 0
    refused: list[str] = []
    for index, question in enumerate(questions):
        reference = question.answer or ""
        context = passages.get((question.document, question.page), [])
        verdict = validator.validate(question.question, reference, context)
        if verdict.accepted:
            accepted_reference += 1
        else:
            refused.append(f"- {question.question} → {verdict.reason}")
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
    if show_failures:
        print("\nReference answers rejected:\n" + ("\n".join(refused) or "(none)"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_validation")
    parser.add_argument("--cases-only", action="store_true", help="skip the corpus benchmark")
    parser.add_argument("--show-failures", action="store_true", help="list the misses")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--questions", type=Path, default=Path("tests/knowledge/questions"))
    args = parser.parse_args(argv)
    run_cases(args.show_failures)
    if args.cases_only:
        return 0
    print("\n### Reference answers on the built corpus\n")
    if not args.corpus.exists():
        print(f"{args.corpus} not found: run `python -m knowledge.corpus build` first (skipped)")
        return 0
    run_corpus(args.corpus, args.questions, args.show_failures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
