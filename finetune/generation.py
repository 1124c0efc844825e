"""Dataset generation: each passage → an LLM writes 3 (question, answer) pairs as JSON.

The prompt is a completion prompt with one worked example (a base model such as Gemma 3 270M
has no chat template and imitates a format better than it follows an instruction), and it ends
on the opening of the JSON answer so the model only has to continue it. The parser is tolerant:
a valid JSON list, a list cut short (the complete objects are kept), "question"/"answer" pairs
found anywhere, or "Question : … Réponse : …" lines. Every outcome is counted.

Resumable: one line per processed passage is appended to `raw.jsonl` and flushed; a new run
over the same output directory skips the passages already there. A last line cut by a crash is
reported, dropped, and its passage processed again.
"""

import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune.records import Provenance, ReadReport, Triplet, iter_json_lines, write_triplets
from knowledge.errors import GenerationError
from knowledge.interfaces import Chunk, Generator

logger = logging.getLogger(__name__)

PAIRS_PER_CONTEXT = 3
MIN_CONTEXT_CHARS = 40

_EXAMPLE_CONTEXT = (
    "Assistance voyage : l'assuré malade ou blessé à plus de 50 km de son domicile est rapatrié "
    "jusqu'à l'hôpital le plus proche de chez lui. Les frais médicaux engagés à l'étranger sont "
    "remboursés jusqu'à 30 000 € par personne. La demande se fait par téléphone avant toute "
    "dépense, 24 heures sur 24."
)
_EXAMPLE_PAIRS = [
    {
        "question": "À partir de quelle distance du domicile le rapatriement est-il prévu ?",
        "answer": "À partir de 50 km du domicile.",
    },
    {
        "question": "Quel est le plafond des frais médicaux à l'étranger ?",
        "answer": "30 000 € par personne.",
    },
    {
        "question": "Comment demander l'assistance ?",
        "answer": "Par téléphone, avant toute dépense, 24 heures sur 24.",
    },
]
PRIMER = '[{"question": "'


def build_prompt(context: str, pairs: int = PAIRS_PER_CONTEXT) -> str:
    """A completion prompt: the task, one worked example, the passage, the opening of the JSON."""
    example = json.dumps(_EXAMPLE_PAIRS[:pairs], ensure_ascii=False)
    return (
        f"Pour chaque extrait d'un contrat d'assurance, on écrit {pairs} questions qu'un client "
        "pourrait poser, chacune avec sa réponse tirée de l'extrait, en français, au format JSON."
        f"\n\nExtrait :\n{_EXAMPLE_CONTEXT}\n\nJSON :\n{example}\n\n"
        f"Extrait :\n{' '.join(context.split())}\n\nJSON :\n{PRIMER}"
    )


# ---------------------------------------------------------------- parsing

_EXAMPLE_TEXTS = {
    " ".join(text.lower().split()) for pair in _EXAMPLE_PAIRS for text in pair.values()
}


def is_example_copy(question: str, answer: str) -> bool:
    """True when the pair repeats the prompt's worked example instead of reading the passage."""
    return any(" ".join(t.lower().split()) in _EXAMPLE_TEXTS for t in (question, answer))


_PAIR = re.compile(
    r'"question"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"(?:answer|réponse|reponse)"\s*:\s*"((?:[^"\\]|\\.)*)"',
    re.IGNORECASE,
)
_LINES = re.compile(
    r"question\s*\d*\s*:\s*(?P<q>[^\n]+?)\s*\n\s*(?:réponse|reponse|answer)\s*\d*\s*:\s*(?P<a>[^\n]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Parsed:
    pairs: list[tuple[str, str]]
    status: str  # "json", "repaired", "pattern", "invalid" (the run adds "example_copied")


def _pairs_from_objects(items: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(items, list):
        items = [items]
    for item in items:
        if not isinstance(item, dict):
            continue
        question = item.get("question")
        answer = item.get("answer", item.get("réponse", item.get("reponse")))
        if not isinstance(question, str) or not isinstance(answer, str):
            continue
        if question.strip() and answer.strip():
            pairs.append((question.strip(), answer.strip()))
    return pairs


def _unescape(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, str) else text


def parse_pairs(completion: str, primer: str = PRIMER) -> Parsed:
    """(question, answer) pairs from what the model wrote after the prompt."""
    text = primer + completion if not completion.lstrip().startswith("[") else completion
    text = text.strip()
    end = text.find("]")
    if end != -1:
        try:
            pairs = _pairs_from_objects(json.loads(text[: end + 1]))
        except json.JSONDecodeError:
            pairs = []
        if pairs:
            return Parsed(pairs, "json")
    # A list cut short: keep the complete objects.
    last = text.rfind("}")
    while last != -1:
        try:
            pairs = _pairs_from_objects(json.loads(text[: last + 1] + "]"))
        except json.JSONDecodeError:
            last = text.rfind("}", 0, last)
            continue
        if pairs:
            return Parsed(pairs, "repaired")
        break
    found = [(_unescape(q).strip(), _unescape(a).strip()) for q, a in _PAIR.findall(text)]
    found = [(q, a) for q, a in found if q and a]
    if found:
        return Parsed(found, "pattern")
    lines = [(m["q"].strip(), m["a"].strip()) for m in _LINES.finditer(completion)]
    if lines:
        return Parsed(lines, "pattern")
    return Parsed([], "invalid")


# ---------------------------------------------------------------- the run


@dataclass
class GenerationReport:
    contexts: int = 0
    processed: int = 0  # in this run
    resumed: int = 0  # already done by an earlier run
    empty_contexts: int = 0
    llm_failures: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # parse status → passages
    pairs: int = 0
    truncated_lines: int = 0
    seconds: float = 0.0
    tokens_per_second: float | None = None

    @property
    def json_yield(self) -> float:
        """Share of the passages sent to the LLM whose output gave at least one pair."""
        asked = sum(self.outcomes.values())
        usable = asked - self.outcomes.get("invalid", 0) - self.outcomes.get("example_copied", 0)
        return usable / asked if asked else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "contexts": self.contexts,
            "processed": self.processed,
            "resumed": self.resumed,
            "empty_contexts": self.empty_contexts,
            "llm_failures": self.llm_failures,
            "outcomes": dict(self.outcomes),
            "pairs": self.pairs,
            "truncated_lines": self.truncated_lines,
            "json_yield": round(self.json_yield, 4),
            "seconds": round(self.seconds, 1),
        }


class DatasetGenerator:
    """Runs the LLM over the passages into `out_dir/raw.jsonl` (resumable)."""

    def __init__(
        self,
        generator: Generator,
        out_dir: Path,
        *,
        model_name: str = "llm",
        pairs: int = PAIRS_PER_CONTEXT,
        timeout_s: float = 60.0,
        min_context_chars: int = MIN_CONTEXT_CHARS,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.generator = generator
        self.out_dir = out_dir
        self.model_name = model_name
        self.pairs = pairs
        self.timeout_s = timeout_s
        self.min_context_chars = min_context_chars
        self.on_progress = on_progress

    @property
    def raw_path(self) -> Path:
        return self.out_dir / "raw.jsonl"

    def _done(self, report: GenerationReport) -> dict[str, dict[str, Any]]:
        """Records of the passages processed by earlier runs; a damaged line is dropped."""
        if not self.raw_path.exists():
            return {}
        read = ReadReport(str(self.raw_path))
        records: dict[str, dict[str, Any]] = {}
        for _, data in iter_json_lines(self.raw_path, read):
            if isinstance(data, dict) and isinstance(data.get("chunk_id"), str):
                records[data["chunk_id"]] = data
        report.truncated_lines = len(read.skipped)
        if read.skipped:
            logger.warning(
                "damaged lines dropped from %s: %s", self.raw_path, [n for n, _ in read.skipped]
            )
            self._rewrite(list(records.values()))
        return records

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        temporary = self.raw_path.with_name(".raw.jsonl.tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        temporary.replace(self.raw_path)

    def run(self, contexts: Sequence[Chunk]) -> GenerationReport:
        started = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        report = GenerationReport(contexts=len(contexts))
        done = self._done(report)
        for record in done.values():
            _count(report, record)
        report.resumed = len(done)
        todo = [chunk for chunk in contexts if chunk.chunk_id not in done]
        generated_chars = 0
        llm_seconds = 0.0
        with self.raw_path.open("a", encoding="utf-8") as handle:
            for position, chunk in enumerate(todo, start=1):
                asked = time.perf_counter()
                record = self._process(chunk)
                if record["status"] not in ("empty", "llm_failed"):
                    llm_seconds += time.perf_counter() - asked
                    generated_chars += len(record.get("completion", ""))
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
                _count(report, record)
                report.processed += 1
                if self.on_progress is not None:
                    self.on_progress(position, len(todo))
        report.seconds = time.perf_counter() - started
        if llm_seconds > 0:
            # about 4 characters per token for French text with these tokenizers
            report.tokens_per_second = generated_chars / 4 / llm_seconds
        logger.info("generation: %s", report.as_dict())
        return report

    def _process(self, chunk: Chunk) -> dict[str, Any]:
        base: dict[str, Any] = {
            "chunk_id": chunk.chunk_id,
            "document": chunk.document,
            "page": chunk.page,
            "section": chunk.section,
            "product_code": chunk.product_code,
            "context": chunk.text,
        }
        if len(chunk.text.strip()) < self.min_context_chars:
            logger.info("empty context skipped", extra={"chunk_id": chunk.chunk_id})
            return {**base, "status": "empty", "pairs": []}
        try:
            completion = self.generator.generate(
                build_prompt(chunk.text, self.pairs), self.timeout_s
            )
        except GenerationError as exc:
            logger.warning(
                "LLM failed on a context", extra={"chunk_id": chunk.chunk_id, "error": str(exc)}
            )
            return {**base, "status": "llm_failed", "error": str(exc)[:200], "pairs": []}
        parsed = parse_pairs(completion)
        pairs = [(q, a) for q, a in parsed.pairs if not is_example_copy(q, a)]
        status = parsed.status
        if parsed.pairs and not pairs:
            status = "example_copied"  # a small base model often repeats the worked example
        if status in ("invalid", "example_copied"):
            logger.info("LLM output not usable: %s", status, extra={"chunk_id": chunk.chunk_id})
        return {
            **base,
            "status": status,
            "completion": completion[:2000],
            "pairs": [{"question": q, "answer": a} for q, a in pairs[: self.pairs]],
        }

    def triplets(self) -> list[Triplet]:
        """Every pair of `raw.jsonl` as a triplet with its provenance."""
        report = ReadReport(str(self.raw_path))
        found: list[Triplet] = []
        for _, record in iter_json_lines(self.raw_path, report):
            if not isinstance(record, dict):
                continue
            for pair in record.get("pairs") or []:
                found.append(
                    Triplet(
                        question=pair["question"],
                        context=record["context"],
                        answer=pair["answer"],
                        provenance=Provenance(
                            document=record["document"],
                            page=int(record["page"]),
                            chunk_id=record["chunk_id"],
                            section=record.get("section", ""),
                            product_code=record.get("product_code", ""),
                            source=f"llm:{self.model_name}",
                        ),
                    )
                )
        return found

    def write_triplets(self, path: Path | None = None) -> int:
        return write_triplets(path or self.out_dir / "triplets.jsonl", self.triplets())


def _count(report: GenerationReport, record: dict[str, Any]) -> None:
    status = str(record.get("status", "invalid"))
    if status == "empty":
        report.empty_contexts += 1
    elif status == "llm_failed":
        report.llm_failures += 1
    else:
        report.outcomes[status] += 1
        report.pairs += len(record.get("pairs") or [])
