"""Accuracy of the slot parsers on a file of (slot, answer, expected value) cases.

Each case is what the needs-discovery form keeps from one answer to one question; the format is
documented at the top of `tests/actions/slot_parser_cases.yml`, the default file. Any file in that
format is scored the same way, so a held-out file can be scored without anyone reading it: only
the figures are printed, and the failing rows only with `--show-failures`.

    python -m benchmarks.bench_parsing [--cases FILE] [--show-failures]
"""

import argparse
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.profile_slots import MANDATORY_SLOTS
from actions.slot_parsers import SKIPPED, ParseError, is_dont_know, parse_answer, volunteered_facts

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "tests" / "actions" / "slot_parser_cases.yml"
# The `slot` of a message read outside any question: its expected value is volunteered_facts().
FACTS = "facts"
KINDS = ("plain", "negative", "mixed", "hedge", "words")
NEGATIVE_OR_MIXED = frozenset({"negative", "mixed"})


class CaseFileError(ValueError):
    """The case file does not follow the documented format."""


@dataclass(frozen=True)
class Case:
    slot: str
    answer: str
    expected: Any
    kind: str = "plain"
    note: str = ""


def load_cases(path: Path) -> list[Case]:
    """The rows of a case file (a mapping with `cases`, or a bare list of rows)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise CaseFileError(f"{path}: expected a list of cases under `cases`")
    cases = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not {"slot", "answer", "expected"} <= set(row):
            raise CaseFileError(f"{path}: case {number} needs `slot`, `answer` and `expected`")
        cases.append(
            Case(
                slot=str(row["slot"]),
                answer=str(row["answer"]),
                expected=row["expected"],
                kind=str(row.get("kind") or "plain"),
                note=str(row.get("note") or ""),
            )
        )
    return cases


def form_reading(slot: str, answer: str) -> Any:
    """What the needs-discovery form keeps for `slot` when `answer` replies to its question, as
    `ValidateNeedsDiscoveryForm._read_facts` reads it (no NLU intent): a fact stated in the
    message wins over the answer's reading; "je ne sais pas" skips the question, except the
    mandatory ones; an unreadable answer keeps nothing (None: asked again)."""
    if slot == FACTS:
        return volunteered_facts(answer)
    stated = volunteered_facts(answer)
    if slot in stated:
        return stated[slot]
    if is_dont_know(answer):
        return None if slot in MANDATORY_SLOTS else SKIPPED
    try:
        return parse_answer(slot, answer)
    except ParseError:
        return None


def matches(expected: Any, actual: Any) -> bool:
    """Whether a value read is the one expected: lists compared as sets, numbers by value (within
    half a cent), booleans only with booleans, mappings key by key."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, abs_tol=0.005)
    if isinstance(expected, list) and isinstance(actual, list):
        return _as_set(expected) == _as_set(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            matches(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


def _as_set(values: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(value) for value in values)


@dataclass(frozen=True)
class Result:
    case: Case
    actual: Any
    passed: bool


def score(cases: Iterable[Case]) -> list[Result]:
    results = []
    for case in cases:
        try:
            actual = form_reading(case.slot, case.answer)
        except KeyError:
            actual = f"<no parser for {case.slot}>"
        results.append(Result(case, actual, matches(case.expected, actual)))
    return results


def _rate(results: list[Result]) -> str:
    if not results:
        return "–"
    passed = sum(result.passed for result in results)
    return f"{passed}/{len(results)} ({100 * passed / len(results):.1f} %)"


def report(results: list[Result], show_failures: bool = False) -> str:
    """The figures as markdown: overall, negative or mixed rows, per kind and per slot."""
    lines = [
        "| Rows | Accuracy | Negative or mixed rows |",
        "|---|---|---|",
        f"| {len(results)} | {_rate(results)} | "
        f"{_rate([r for r in results if r.case.kind in NEGATIVE_OR_MIXED])} |",
        "",
        "| Kind | Accuracy |",
        "|---|---|",
    ]
    kinds = Counter(result.case.kind for result in results)
    for kind in sorted(kinds, key=lambda k: (KINDS.index(k) if k in KINDS else len(KINDS), k)):
        lines.append(f"| {kind} | {_rate([r for r in results if r.case.kind == kind])} |")
    lines += ["", "| Slot | Accuracy |", "|---|---|"]
    for slot in sorted({result.case.slot for result in results}):
        lines.append(f"| {slot} | {_rate([r for r in results if r.case.slot == slot])} |")
    if show_failures:
        lines += ["", "| Slot | Answer | Expected | Read |", "|---|---|---|---|"]
        for result in results:
            if not result.passed:
                case = result.case
                lines.append(
                    f"| {case.slot} | {case.answer} | {case.expected!r} | {result.actual!r} |"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="case file (YAML)")
    parser.add_argument(
        "--show-failures",
        action="store_true",
        help="list the failing rows (not for held-out files)",
    )
    args = parser.parse_args(argv)
    results = score(load_cases(args.cases))
    print(f"Cases: {args.cases.name}\n")
    print(report(results, args.show_failures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
