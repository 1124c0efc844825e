"""Dataset generation: each passage → (question, answer) pairs, written by question templates or
by an LLM, behind the same resumable run.

- `TemplateDatasetGenerator` (no model): the patterns of `finetune.templates` recognise the kind
  of each sentence (definition, exclusion, delay, amount…) and ask the matching question; the
  answer is text of the passage. An optional span proposer (the extractive reader of
  `knowledge.qa`) reads each question with its passage, and its verdict is kept as a score.
  `refusal_triplets` then pairs some questions with a passage of the same split that does not
  answer them, the answer being the refusal.
- `DatasetGenerator`: an LLM writes 3 pairs as JSON.

The prompt is a completion prompt with one worked example (a base model such as Gemma 3 270M
has no chat template and imitates a format better than it follows an instruction), and it ends
on the opening of the JSON answer so the model only has to continue it. The parser is tolerant:
a valid JSON list, a list cut short (the complete objects are kept), "question"/"answer" pairs
found anywhere, or "Question : … Réponse : …" lines. Every outcome is counted.

Resumable: one line per processed passage is appended to `raw.jsonl` (`raw-templates.jsonl` for
the templates) and flushed; a new run over the same output directory skips the passages already
there. A last line cut by a crash is reported, dropped, and its passage processed again.
"""

import hashlib
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from common.french_numbers import numbers_in
from finetune.records import (
    REFUSAL_ANSWER,
    Provenance,
    ReadReport,
    Triplet,
    iter_json_lines,
    write_triplets,
)
from finetune.templates import TemplateWriter, product_names, section_starts
from knowledge.errors import GenerationError
from knowledge.interfaces import Chunk, Generator
from knowledge.text import content_stems

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
    kinds: Counter[str] = field(default_factory=Counter)  # templated pairs by kind

    @property
    def passage_yield(self) -> float:
        """Share of the non-empty passages that gave at least one pair."""
        asked = sum(self.outcomes.values())
        usable = sum(n for status, n in self.outcomes.items() if status in _USABLE)
        return usable / asked if asked else 0.0

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
            "passage_yield": round(self.passage_yield, 4),
            "kinds": dict(sorted(self.kinds.items())),
            "seconds": round(self.seconds, 1),
        }


_USABLE = {"json", "repaired", "pattern", "templates"}


class DatasetGenerator:
    """Runs the LLM over the passages into `out_dir/raw.jsonl` (resumable)."""

    measures_llm = True
    raw_name = "raw.jsonl"

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
        return self.out_dir / self.raw_name

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
        temporary = self.raw_path.with_name(f".{self.raw_name}.tmp")
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
                if self.measures_llm and record["status"] not in ("empty", "llm_failed"):
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
        base = passage_record(chunk)
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
        return [
            raw_triplet(record, pair, f"llm:{self.model_name}")
            for record, pair in raw_pairs(self.raw_path)
        ]

    def write_triplets(self, path: Path | None = None) -> int:
        return write_triplets(path or self.out_dir / "triplets.jsonl", self.triplets())


def passage_record(chunk: Chunk) -> dict[str, Any]:
    """What a raw generation line says of its passage (`raw_triplet` reads it back)."""
    return {
        "chunk_id": chunk.chunk_id,
        "document": chunk.document,
        "page": chunk.page,
        "section": chunk.section,
        "product_code": chunk.product_code,
        "context": chunk.text,
    }


def raw_pairs(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(passage record, pair) for every pair of a raw generation file; broken lines skipped."""
    report = ReadReport(str(path))
    for _, record in iter_json_lines(path, report):
        if isinstance(record, dict):
            for pair in record.get("pairs") or []:
                yield record, pair


def raw_triplet(
    record: Mapping[str, Any],
    pair: Mapping[str, Any],
    source: str,
    *,
    template: str = "",
    product: str = "",
    scores: dict[str, float] | None = None,
) -> Triplet:
    """A raw file's pair as a triplet, with the provenance of its passage."""
    return Triplet(
        question=pair["question"],
        context=record["context"],
        answer=pair["answer"],
        provenance=Provenance(
            document=record["document"],
            page=int(record["page"]),
            chunk_id=record["chunk_id"],
            section=record.get("section", ""),
            product_code=record.get("product_code", ""),
            source=source,
            template=template,
            product=product,
        ),
        scores=scores or {},
    )


def _count(report: GenerationReport, record: dict[str, Any]) -> None:
    status = str(record.get("status", "invalid"))
    if status == "empty":
        report.empty_contexts += 1
    elif status == "llm_failed":
        report.llm_failures += 1
    else:
        report.outcomes[status] += 1
        pairs = record.get("pairs") or []
        report.pairs += len(pairs)
        report.kinds.update(str(p["kind"]) for p in pairs if isinstance(p, dict) and "kind" in p)


# ---------------------------------------------------------------- templates


class SpanProposer(Protocol):
    """Reads a question with a passage: the characters of the best answer span and a
    confidence in [0, 1], or None when it finds none (the extractive reader)."""

    def propose(self, question: str, passage: str) -> tuple[int, int, float] | None: ...


class ReaderProposer:
    """`knowledge.qa.reader.SpanReader` as a span proposer (loaded on first use)."""

    def __init__(self, artifact_dir: Path, threads: int | None = None) -> None:
        from knowledge.qa.reader import SpanReader

        self.reader = SpanReader(artifact_dir, threads=threads)

    def propose(self, question: str, passage: str) -> tuple[int, int, float] | None:
        found = self.reader.best(question, [passage])
        if found is None:
            return None
        top, raw = found
        return top.start_char, top.end_char, self.reader.calibration.apply(raw)

    @property
    def threshold(self) -> float:
        self.reader.warm_up()
        return self.reader.threshold


class TemplateDatasetGenerator(DatasetGenerator):
    """Question templates over the passages into `out_dir/raw-templates.jsonl` (resumable).

    A passage gives the pairs of `TemplateWriter.propose` (status "templates") or none
    ("no_template"); passages under `min_context_chars` are "empty". With a span proposer, each
    pair records where the proposer would answer and whether that falls in the template's
    answer sentence (`reader_agrees`)."""

    measures_llm = False
    raw_name = "raw-templates.jsonl"  # apart from an LLM run's records in the same folder

    def __init__(
        self,
        out_dir: Path,
        *,
        writer: TemplateWriter | None = None,
        proposer: SpanProposer | None = None,
        min_context_chars: int = MIN_CONTEXT_CHARS,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.out_dir = out_dir
        self.model_name = "templates"
        self.min_context_chars = min_context_chars
        self.on_progress = on_progress
        self.writer = writer
        self.proposer = proposer
        self._starts: set[str] = set()

    def run(self, contexts: Sequence[Chunk]) -> GenerationReport:
        if self.writer is None:
            self.writer = TemplateWriter(product_names(contexts))
        self._starts = section_starts(contexts)
        return super().run(contexts)

    def _process(self, chunk: Chunk) -> dict[str, Any]:
        base = passage_record(chunk)
        writer = self.writer or TemplateWriter()
        base["product"] = writer.product(chunk)
        if len(chunk.text.strip()) < self.min_context_chars:
            return {**base, "status": "empty", "pairs": []}
        pairs: list[dict[str, Any]] = []
        for proposal in writer.propose(chunk, section_start=chunk.chunk_id in self._starts):
            pair: dict[str, Any] = {
                "question": proposal.question,
                "answer": proposal.answer,
                "kind": proposal.kind,
                "template": proposal.template,
            }
            if self.proposer is not None:
                pair["reader"] = self._read(proposal.question, chunk.text, proposal.evidence)
            pairs.append(pair)
        return {**base, "status": "templates" if pairs else "no_template", "pairs": pairs}

    def _read(self, question: str, passage: str, evidence: str) -> dict[str, Any]:
        found = self.proposer.propose(question, passage) if self.proposer else None
        if found is None:
            return {"span": "", "confidence": 0.0, "agrees": False}
        start, end, confidence = found
        low = passage.find(evidence)
        agrees = low != -1 and low <= start and end <= low + len(evidence)
        return {"span": passage[start:end], "confidence": round(confidence, 4), "agrees": agrees}

    def triplets(self) -> list[Triplet]:
        found: list[Triplet] = []
        for record, pair in raw_pairs(self.raw_path):
            scores: dict[str, float] = {}
            reader = pair.get("reader")
            if isinstance(reader, dict):
                scores["reader_confidence"] = float(reader.get("confidence", 0.0))
                scores["reader_agrees"] = 1.0 if reader.get("agrees") else 0.0
            found.append(
                raw_triplet(
                    record,
                    pair,
                    f"templates:{pair.get('kind', '')}",
                    template=str(pair.get("template", "")),
                    product=str(record.get("product", "")),
                    scores=scores,
                )
            )
        return found


# ---------------------------------------------------------------- refusals


def answer_support(answer: str, passage: str) -> float:
    """Share of the answer's meaningful words that the passage has (1.0 without any)."""
    stems = content_stems(answer)
    return len(stems & content_stems(passage)) / len(stems) if stems else 1.0


def does_not_answer(answer: str, passage: str, max_support: float) -> bool:
    """The passage lacks a figure of the answer, or most of its words."""
    figures = numbers_in(answer)
    if figures and not figures <= numbers_in(passage):
        return True
    return answer_support(answer, passage) <= max_support


@dataclass(frozen=True)
class RefusalSettings:
    share: float = 0.25  # of the answerable triplets, chosen by a hash of their id
    max_support: float = 0.25  # the passage holds at most this share of the answer's words
    seed: str = "refusals-v1"


def _draw(key: str, seed: str) -> float:
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def refusal_triplets(
    triplets: Sequence[Triplet],
    contexts: Sequence[Chunk],
    split_of: Callable[[str, int], str],
    settings: RefusalSettings | None = None,
) -> Iterator[Triplet]:
    """Questions of some triplets with a passage that does not answer them, answer the refusal.

    The passage comes from the same split as the question's page (a page is train or held out
    for everything) and never from that page. Half of them are of the same product (the
    passage a retriever would wrongly bring: the one that shares most words with the question),
    half of another product (the best such passage among the other products)."""
    settings = settings or RefusalSettings()
    stems = {c.chunk_id: content_stems(c.text) for c in contexts}
    by_split: dict[str, list[Chunk]] = {}
    for chunk in contexts:
        by_split.setdefault(split_of(chunk.document, chunk.page), []).append(chunk)
    for triplet in triplets:
        if triplet.is_refusal:
            continue
        draw = _draw(triplet.triplet_id, settings.seed)
        if draw >= settings.share:
            continue
        p = triplet.provenance
        same_product = draw < settings.share / 2
        asked = content_stems(triplet.question)
        candidates = [
            c
            for c in by_split.get(split_of(p.document, p.page), [])
            if (c.document, c.page) != (p.document, p.page)
            and (c.product_code == p.product_code) == same_product
        ]
        candidates.sort(key=lambda c: (-len(asked & stems[c.chunk_id]), c.chunk_id))
        for chunk in candidates:
            if does_not_answer(triplet.answer, chunk.text, settings.max_support):
                yield Triplet(
                    question=triplet.question,
                    context=chunk.text,
                    answer=REFUSAL_ANSWER,
                    provenance=Provenance(
                        document=chunk.document,
                        page=chunk.page,
                        chunk_id=chunk.chunk_id,
                        section=chunk.section,
                        product_code=chunk.product_code,
                        source="templates:unanswerable",
                        product=p.product,
                        template="same_product" if same_product else "other_product",
                        origin=f"{p.document}#{p.page}",
                    ),
                    scores={"answer_support": round(answer_support(triplet.answer, chunk.text), 4)},
                )
                break
