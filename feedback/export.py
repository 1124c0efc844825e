"""Export of the ratings for the evaluation pipeline: CSV (one row per rating) or JSONL.

The texts come from the public (a question, an answer that quotes it): in the CSV, a cell that a
spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage
return) gets a leading apostrophe, so opening the file runs nothing (CSV injection). The JSONL
keeps the texts exactly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Literal, TextIO

from feedback.schemas import FeedbackPublic

ExportFormat = Literal["csv", "jsonl"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "conversation_id",
    "message_id",
    "channel",
    "rating",
    "question",
    "answer",
    "mode",
    "validated",
    "sources",
]


def _record(item: FeedbackPublic) -> dict[str, object]:
    return {
        "id": item.id,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
        "conversation_id": item.conversation_id,
        "message_id": item.message_id,
        "channel": item.channel,
        "rating": item.rating,
        "question": item.question,
        "answer": item.answer,
        "mode": item.mode,
        "validated": item.validated,
        "sources": [source.model_dump(mode="json") for source in item.sources],
    }


def write_jsonl(items: Iterable[FeedbackPublic], out: TextIO) -> int:
    count = 0
    for item in items:
        out.write(json.dumps(_record(item), ensure_ascii=False) + "\n")
        count += 1
    return count


def neutralise_formula(value: object) -> object:
    """A text a spreadsheet would evaluate, made inert with a leading apostrophe; others as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(items: Iterable[FeedbackPublic], out: TextIO) -> int:
    """CSV with a header; the sources column holds their JSON list; unknown `validated` is empty;
    formula-like texts are neutralised."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for item in items:
        record = _record(item)
        record["sources"] = json.dumps(record["sources"], ensure_ascii=False)
        record["mode"] = record["mode"] or ""
        record["validated"] = "" if item.validated is None else str(item.validated).lower()
        writer.writerow({key: neutralise_formula(value) for key, value in record.items()})
        count += 1
    return count


def write_export(items: Iterable[FeedbackPublic], out: TextIO, fmt: ExportFormat) -> int:
    """Write every rating in the format; returns how many were written."""
    return write_csv(items, out) if fmt == "csv" else write_jsonl(items, out)
