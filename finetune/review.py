"""Human review of generated triplets: export for annotation tools, import of the decisions.

Export: one JSON object per line that both tools read —
- Prodigy (`prodigy mark DATASET review.jsonl --view-id text`, or any recipe over `text`):
  `text` shows question, answer and context; `meta` is shown beside it;
- Label Studio (import the JSONL file): the task's fields are under `data`
  (`$question`, `$answer`, `$context` in a labeling config with accept/reject choices and
  optional corrected text areas named `question` and `answer`).

Import reads either tool's output:
- Prodigy JSONL: `"answer": "accept" | "reject" | "ignore"` (Prodigy's own decision field),
  with optional edited `question_edit` / `answer_edit`;
- Label Studio JSON export (a list of tasks) or JSON-MIN/JSONL: `annotations[].result[]` with a
  `choices` value "accept"/"reject" (or "Accepter"/"Rejeter"), and `textarea` values from
  `question`/`answer` areas as corrections.
Every task names the triplet `id`; a decision about an unknown id is counted and skipped.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError
from finetune.records import ReadReport, Triplet, iter_json_lines, write_jsonl

ACCEPT = {"accept", "accepter", "accepted", "oui", "yes"}
REJECT = {"reject", "rejeter", "rejected", "non", "no"}


def review_task(triplet: Triplet) -> dict[str, Any]:
    p = triplet.provenance
    return {
        "id": triplet.triplet_id,
        "text": (
            f"Question : {triplet.question}\nRéponse : {triplet.answer}\n\n"
            f"Contexte ({p.document}, page {p.page}) :\n{triplet.context}"
        ),
        "meta": {"document": p.document, "page": p.page, "source": p.source}
        | ({"template": p.template} if p.template else {}),
        "data": {
            "id": triplet.triplet_id,
            "question": triplet.question,
            "answer": triplet.answer,
            "context": triplet.context,
            "document": p.document,
            "page": p.page,
        },
    }


def export_for_review(triplets: Sequence[Triplet], path: Path) -> int:
    return write_jsonl(path, (review_task(t) for t in triplets))


@dataclass(frozen=True)
class Decision:
    accepted: bool | None  # None: ignored / undecided
    question: str | None = None
    answer: str | None = None


@dataclass
class ImportReport:
    decisions: int = 0
    accepted: int = 0
    rejected: int = 0
    undecided: int = 0
    unknown_ids: int = 0
    invalid: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "undecided": self.undecided,
            "unknown_ids": self.unknown_ids,
            "invalid": len(self.invalid),
        }


def _verdict(value: Any) -> bool | None:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ACCEPT:
            return True
        if lowered in REJECT:
            return False
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return value.strip() or None if isinstance(value, str) else None


def _label_studio(task: dict[str, Any]) -> tuple[str | None, Decision]:
    data = task.get("data") if isinstance(task.get("data"), dict) else task
    identifier = data.get("id") if isinstance(data, dict) else None
    verdict: bool | None = None
    question = answer = None
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        for result in annotation.get("result") or []:
            value = result.get("value", {}) if isinstance(result, dict) else {}
            name = result.get("from_name", "") if isinstance(result, dict) else ""
            if "choices" in value:
                choices = value["choices"]
                verdict = _verdict(choices[0] if choices else None)
            elif "text" in value and name == "question":
                question = _text(value["text"])
            elif "text" in value and name == "answer":
                answer = _text(value["text"])
    # JSON-MIN export: the choice is a top-level field
    if verdict is None and "decision" in task:
        verdict = _verdict(task["decision"])
    return (str(identifier) if identifier else None), Decision(verdict, question, answer)


def _prodigy(task: dict[str, Any]) -> tuple[str | None, Decision]:
    identifier = task.get("id") or (task.get("meta") or {}).get("id")
    return (str(identifier) if identifier else None), Decision(
        _verdict(task.get("answer")),
        _text(task.get("question_edit")),
        _text(task.get("answer_edit")),
    )


def read_decisions(path: Path, report: ImportReport) -> dict[str, Decision]:
    """Decisions by triplet id, from a Prodigy JSONL or a Label Studio JSON/JSONL export."""
    tasks: list[Any] = []
    text = path.read_text(encoding="utf-8") if path.exists() else None
    if text is None:
        raise DataFileError(str(path), None, "file not found")
    if text.lstrip().startswith("["):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(str(path), exc.lineno, f"not JSON ({exc.msg})") from exc
        tasks = list(loaded)
    else:
        read = ReadReport(str(path))
        tasks = [data for _, data in iter_json_lines(path, read)]
        report.invalid.extend(f"line {n}: {reason}" for n, reason in read.skipped)
    decisions: dict[str, Decision] = {}
    for task in tasks:
        if not isinstance(task, dict):
            report.invalid.append("a task that is not an object")
            continue
        is_studio = "annotations" in task or ("data" in task and "answer" not in task)
        identifier, decision = _label_studio(task) if is_studio else _prodigy(task)
        if identifier is None:
            report.invalid.append("a task without id")
            continue
        decisions[identifier] = decision
    return decisions


def apply_review(
    triplets: Sequence[Triplet], decisions_path: Path
) -> tuple[list[Triplet], ImportReport]:
    """The accepted triplets (corrected when the reviewer edited them), and counts.

    Triplets without a decision are left out: only reviewed data goes on."""
    report = ImportReport()
    decisions = read_decisions(decisions_path, report)
    by_id = {t.triplet_id: t for t in triplets}
    outcome: Counter[str] = Counter()
    kept: list[Triplet] = []
    for identifier, decision in decisions.items():
        report.decisions += 1
        triplet = by_id.get(identifier)
        if triplet is None:
            report.unknown_ids += 1
            continue
        if decision.accepted is None:
            outcome["undecided"] += 1
            continue
        if not decision.accepted:
            outcome["rejected"] += 1
            continue
        outcome["accepted"] += 1
        kept.append(
            replace(
                triplet,
                question=decision.question or triplet.question,
                answer=decision.answer or triplet.answer,
                provenance=replace(
                    triplet.provenance, source=f"{triplet.provenance.source}+review"
                ),
            )
        )
    report.accepted = outcome["accepted"]
    report.rejected = outcome["rejected"]
    report.undecided = outcome["undecided"]
    return kept, report
