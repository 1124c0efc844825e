"""Triplets (question, context, answer) with their provenance, and their JSONL files.

A triplet whose answer is `REFUSAL_ANSWER` pairs a question with a passage that does not answer
it: the answer the generator must give then is the refusal its instructions ask for
(`knowledge.prompts`, « Je ne sais pas. »), defined there once.

Reading is tolerant: a line that is not a JSON object with the expected fields (a run killed in
the middle of a write leaves a truncated last line) is logged with its line number, counted and
skipped; the valid lines are kept.
"""

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import DataFileError
from knowledge.prompts import DONT_KNOW

REFUSAL_ANSWER = f"{DONT_KNOW}."

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provenance:
    """Where a triplet comes from: the chunk of a document, and who wrote it."""

    document: str
    page: int
    chunk_id: str
    section: str = ""
    product_code: str = ""
    source: str = ""  # "llm:<model>", "templates:<kind>", "handwritten", "…+review"
    template: str = ""  # the question template ("amount_limit/1") of a templated triplet
    product: str = ""  # the product's name, which a templated question names
    origin: str = ""  # of a refusal triplet: "document#page" its question was written from


@dataclass(frozen=True)
class Triplet:
    question: str
    context: str
    answer: str
    provenance: Provenance
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def is_refusal(self) -> bool:
        """The passage does not answer the question: the expected answer is the refusal."""
        return self.answer == REFUSAL_ANSWER

    @property
    def triplet_id(self) -> str:
        """Stable identifier: the chunk and the normalised question."""
        digest = hashlib.sha1(
            f"{self.provenance.chunk_id}\n{normalise(self.question)}".encode(),
            usedforsecurity=False,
        ).hexdigest()[:12]
        return f"t-{digest}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.triplet_id
        return data

    @classmethod
    def from_json(cls, data: Any) -> "Triplet":
        """Raises ValueError naming the first problem."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        texts = {}
        for key in ("question", "context", "answer"):
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"'{key}' must be a non-empty string")
            texts[key] = value.strip()
        raw = data.get("provenance")
        if not isinstance(raw, dict):
            raise ValueError("'provenance' must be an object")
        document, page, chunk = raw.get("document"), raw.get("page"), raw.get("chunk_id")
        if not isinstance(document, str) or not document:
            raise ValueError("'provenance.document' must be a file name")
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise ValueError("'provenance.page' must be a page number from 1")
        if not isinstance(chunk, str) or not chunk:
            raise ValueError("'provenance.chunk_id' must be a string")
        scores = data.get("scores") or {}
        if not isinstance(scores, dict):
            raise ValueError("'scores' must be an object")
        return cls(
            question=texts["question"],
            context=texts["context"],
            answer=texts["answer"],
            provenance=Provenance(
                document=document,
                page=page,
                chunk_id=chunk,
                section=str(raw.get("section") or ""),
                product_code=str(raw.get("product_code") or ""),
                source=str(raw.get("source") or ""),
                template=str(raw.get("template") or ""),
                product=str(raw.get("product") or ""),
                origin=str(raw.get("origin") or ""),
            ),
            scores={str(k): float(v) for k, v in scores.items()},
        )


def normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation: the key of deduplication."""
    return " ".join(text.lower().split()).rstrip(" ?!.…")


@dataclass
class ReadReport:
    """What a tolerant read kept and skipped."""

    file: str
    read: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.file}: {self.read} read, {len(self.skipped)} invalid line(s) skipped"


def iter_json_lines(path: Path, report: ReadReport) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) of every JSON line; undecodable lines go to the report."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(str(path), None, f"cannot read the file ({exc})") from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    report.skipped.append((number, f"not JSON ({exc.msg})"))
                    logger.warning(
                        "invalid JSON line skipped", extra={"file": str(path), "line": number}
                    )
        except UnicodeDecodeError as exc:
            raise DataFileError(str(path), None, f"not UTF-8 text ({exc.reason})") from exc


def read_triplets(path: Path) -> tuple[list[Triplet], ReadReport]:
    """The valid triplets of a JSONL file and a report of the lines skipped."""
    report = ReadReport(str(path))
    triplets: list[Triplet] = []
    for number, data in iter_json_lines(path, report):
        try:
            triplets.append(Triplet.from_json(data))
        except (ValueError, TypeError) as exc:
            report.skipped.append((number, str(exc)))
            continue
        report.read += 1
    return triplets, report


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Writes atomically (temporary file, then rename); returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    count = 0
    with temporary.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return count


def write_triplets(path: Path, triplets: Iterable[Triplet]) -> int:
    return write_jsonl(path, (triplet.to_json() for triplet in triplets))
