"""Grounded question answering examples for the generator's fine-tune.

Each example is what the knowledge base's `AnswerService` asks the LLM at answer time: the prompt
of `knowledge.prompts.build_prompt` (instructions, one or two numbered passages, the question) and,
as the target, a short answer citing the passage that holds it (`… [2]`) or, when no passage
answers, the refusal the instructions ask for (« Je ne sais pas. »). The prompt is built by the
same function at training and at answer time, so the format is defined once.

Sources, training side of the page-level split manifest (`knowledge/eval/splits.json`) only:
- PIAF (MIT): the questions of the `train` articles, with a window of their paragraph around the
  answer span (whole sentences, at most `passage_chars`) and the span as the answer;
- the team's hand-written questions of the `train` pages, with the chunk of their page (chunked as
  ingestion chunks it, from the built corpus) closest to the reference answer, and that answer;
- generated triplets (a JSONL of `finetune.records.Triplet`) of training pages; a refusal triplet
  (answer « Je ne sais pas. ») becomes an unanswerable example, and is kept only when the page its
  question comes from (`origin`) is a training page too.

Every page of the insurer's documents belongs to one split (`knowledge.eval.splits.page_rule`,
the rule of the manifest's pages), and a question is only paired with passages of its own split:
the distractors and the passages of the unanswerable examples of the training set come from
training pages (and PIAF training articles) only, those of the dev set from dev pages.

Unanswerable examples pair a question with passages of another unit (another PIAF article;
another product category of the corpus). Some answerable examples get a distracting passage of
another unit, before or after theirs. Everything is drawn from a seeded generator: the same data
and settings give the same examples.
"""

import json
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.hashing import file_sha256
from finetune.errors import DataFileError
from finetune.lora import Example
from finetune.records import Triplet, read_triplets
from knowledge.eval.splits import Manifest, Split, page_key, page_rule
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.prompts import DONT_KNOW, build_prompt

logger = logging.getLogger(__name__)

REFUSAL = f"{DONT_KNOW}."
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
MIN_ANSWER_F1 = 0.5  # a hand-written answer must be found in its chunk's words at least this well


@dataclass(frozen=True)
class Passage:
    document: str
    page: int
    text: str
    unit: str  # what "another page" means: a PIAF article, a corpus category


@dataclass(frozen=True)
class Item:
    """A question, the passage that answers it and the reference answer (no citation); or, for
    a refusal (`answers` false), a passage that does not answer it."""

    question: str
    answer: str
    passage: Passage
    source: str  # "piaf", "own", "generated"
    answers: bool = True


@dataclass(frozen=True)
class Composed:
    """An item laid out for the prompt: its passages, and which one answers (None: none does)."""

    question: str
    passages: tuple[Passage, ...]
    answer_index: int | None
    answer: str
    source: str

    @property
    def target(self) -> str:
        if self.answer_index is None:
            return REFUSAL
        return f"{self.answer.strip()} [{self.answer_index + 1}]"


@dataclass(frozen=True)
class MixSettings:
    passage_chars: int = 450
    distractor_share: float = 0.4  # answerable examples given a second passage of another unit
    unanswerable_share: float = 0.2  # of all examples
    own_repeats: int = 3  # the in-domain questions are few: each is laid out this many times
    seed: int = 0


@dataclass
class DataReport:
    """What the sources gave, and what was left out and why."""

    counts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "files": self.files,
        }


# ---------------------------------------------------------------- sources


def answer_window(context: str, start: int, end: int, max_chars: int) -> tuple[str, int]:
    """Whole sentences of `context` around [start, end), at most `max_chars` characters; and the
    answer's start in the window. A sentence longer than `max_chars` is cut at word boundaries
    around the answer."""
    bounds = [0]
    bounds += [m.end() for m in _SENTENCE_END.finditer(context)]
    sentences = [
        (a, b)
        for a, b in zip(bounds, [*bounds[1:], len(context)], strict=True)
        if context[a:b].strip()
    ]
    first = next((i for i, (a, b) in enumerate(sentences) if a <= start < b), 0)
    last = next((i for i, (a, b) in enumerate(sentences) if a < end <= b), first)
    lo, hi = first, max(first, last)
    if sentences[hi][1] - sentences[lo][0] <= max_chars:
        grown = True
        while grown:
            grown = False
            for a, b in ((lo, hi + 1), (lo - 1, hi)):
                fits = a >= 0 and b < len(sentences)
                if fits and sentences[b][1] - sentences[a][0] <= max_chars:
                    lo, hi = a, b
                    grown = True
        left, right = sentences[lo][0], sentences[hi][1]
    else:
        room = max(0, max_chars - (end - start))
        left = max(0, start - room // 2)
        right = min(len(context), end + room - (start - left))
        while left > 0 and not context[left - 1].isspace():
            left += 1
        while right < len(context) and not context[right].isspace():
            right -= 1
        left, right = min(left, start), max(right, end)
    text = context[left:right]
    stripped = text.lstrip()
    offset = left + len(text) - len(stripped)
    return stripped.rstrip(), start - offset


def piaf_items(path: Path, manifest: Manifest, split: Split, max_chars: int) -> list[Item]:
    """The questions of the PIAF articles of `split`, each with a window of its paragraph."""
    titles = manifest.piaf_titles(split)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError(str(path), None, f"not a readable SQuAD file ({exc})") from exc
    items: list[Item] = []
    for article in articles:
        title = str(article["title"])
        if title not in titles:
            continue
        name = re.sub(r"<[^>]+>", "", title)  # some titles carry HTML markup
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            context = str(paragraph["context"])
            for qa in paragraph["qas"]:
                if not qa.get("answers"):
                    continue
                answer = qa["answers"][0]
                text = str(answer["text"]).strip()
                start = int(answer["answer_start"])
                if context[start : start + len(text)] != text:
                    start = context.find(text)
                if not text or start < 0:
                    continue
                window, _ = answer_window(context, start, start + len(text), max_chars)
                passage = Passage(f"Wikipédia : {name}", number, window, f"piaf:{title}")
                items.append(Item(str(qa["question"]).strip(), text, passage, "piaf"))
    return items


def own_items(
    manifest: Manifest,
    split: Split,
    chunks: dict[tuple[str, int], list[Chunk]],
    question_files: Sequence[Path],
    report: DataReport,
) -> list[Item]:
    """The team's questions of the pages of `split`, each with the chunk of its page whose words
    best match its reference answer."""
    from knowledge.eval.datasets import load_questions
    from knowledge.qa.data import closest_span

    pages = manifest.pages(split)
    items: list[Item] = []
    for path in question_files:
        for question in load_questions(path):
            if page_key(question.document, question.page) not in pages:
                continue
            if not question.answer:
                report.skipped["own_without_answer"] += 1
                continue
            scored = [
                (closest_span(chunk.text, question.answer)[2], chunk)
                for chunk in chunks.get((question.document, question.page), [])
            ]
            if not scored:
                report.skipped["own_page_not_in_corpus"] += 1
                continue
            score, best = max(scored, key=lambda pair: pair[0])
            if score < MIN_ANSWER_F1:
                report.skipped["own_answer_not_in_a_chunk"] += 1
                continue
            items.append(Item(question.question, question.answer, corpus_passage(best), "own"))
    return items


def corpus_passage(chunk: Chunk) -> Passage:
    return Passage(chunk.document, chunk.page, chunk.text, f"category:{chunk.category}")


def triplet_items(path: Path, report: DataReport, split: Split = "train") -> list[Item]:
    """Generated triplets of pages of `split` (a refusal's question page included)."""
    triplets, read = read_triplets(path)
    report.skipped["triplet_invalid_line"] += len(read.skipped)
    items: list[Item] = []
    for triplet in triplets:
        p = triplet.provenance
        pages = [page_rule(p.document, p.page)]
        if p.origin:
            document, _, page = p.origin.rpartition("#")
            pages.append(page_rule(document, int(page)) if page.isdigit() else "test")
        if any(other != split for other in pages):
            report.skipped[f"triplet_not_on_a_{split}_page"] += 1
            continue
        items.append(triplet_item(triplet))
    return items


def triplet_item(triplet: Triplet) -> Item:
    p = triplet.provenance
    unit = f"product:{p.product_code}" if p.product_code else f"document:{p.document}"
    return Item(
        triplet.question,
        triplet.answer,
        Passage(p.document, p.page, triplet.context, unit),
        "generated",
        answers=not triplet.is_refusal,
    )


def corpus_pool(chunks: dict[tuple[str, int], list[Chunk]], split: Split) -> list[Passage]:
    """The corpus passages of the pages of `split`: what a question of that split may be shown."""
    return [
        corpus_passage(chunk)
        for (document, page), page_chunks in sorted(chunks.items())
        if page_rule(document, page) == split
        for chunk in page_chunks
    ]


# ---------------------------------------------------------------- composition


def compose(
    items: Sequence[Item],
    pool: Sequence[Passage],
    settings: MixSettings,
    *,
    repeats: Callable[[Item], int] = lambda item: 1,
) -> list[Composed]:
    """Lays every item out (answerable, sometimes with a distractor), adds unanswerable examples
    (questions of the items with passages of other units), and shuffles, all seeded."""
    rng = random.Random(settings.seed)  # noqa: S311 - reproducible sampling, not security
    composed: list[Composed] = []
    refusals = 0
    for item in items:
        for _ in range(repeats(item)):
            if not item.answers:
                composed.append(Composed(item.question, (item.passage,), None, "", item.source))
                refusals += 1
                continue
            passages = [item.passage]
            index = 0
            if rng.random() < settings.distractor_share:
                other = _other_passage(pool, item.passage.unit, rng)
                if other is not None:
                    passages.append(other)
                    if rng.random() < 0.5:
                        passages.reverse()
                        index = 1
            composed.append(
                Composed(item.question, tuple(passages), index, item.answer, item.source)
            )
    answerable = [c for c in composed if c.answer_index is not None]
    share = settings.unanswerable_share
    total = round(len(answerable) / (1 - share)) if 0 <= share < 1 else len(answerable)
    wanted = max(0, total - len(answerable) - refusals)
    for _ in range(wanted if answerable else 0):
        # drawn from the answerable examples, so each source keeps its share (repeats included)
        drawn = answerable[rng.randrange(len(answerable))]
        unit = drawn.passages[drawn.answer_index or 0].unit
        count = 1 if rng.random() < 0.5 else 2
        others = [p for p in (_other_passage(pool, unit, rng) for _ in range(count)) if p]
        if others:
            composed.append(Composed(drawn.question, tuple(others), None, "", drawn.source))
    rng.shuffle(composed)
    return composed


def _other_passage(pool: Sequence[Passage], unit: str, rng: random.Random) -> Passage | None:
    for _ in range(20):
        candidate = pool[rng.randrange(len(pool))] if pool else None
        if candidate is None:
            return None
        if candidate.unit != unit:
            return candidate
    return None


def to_example(
    composed: Composed,
    prompt_format: str,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> Example | None:
    """The supervised example, or None when the answering passage does not fit whole in
    `max_tokens` with the answer (a distractor is dropped before giving up)."""
    target = composed.target
    room = max_tokens - count_tokens(" " + target) - 2  # BOS and EOS
    layouts = [composed.passages]
    if composed.answer_index is not None and len(composed.passages) > 1:
        layouts.append((composed.passages[composed.answer_index],))
    for passages in layouts:
        chunks = [
            ScoredChunk(Chunk(f"p{i}", p.document, p.page, p.text), 1.0)
            for i, p in enumerate(passages)
        ]
        prompt, used = build_prompt(composed.question, chunks, prompt_format, count_tokens, room)
        if not used:
            continue
        if composed.answer_index is None:
            return Example(prompt, target)
        answering = composed.passages[composed.answer_index]
        position = next(i for i, p in enumerate(passages) if p is answering)
        # A passage cut to fit ends with " …": the answering one must be there whole.
        if position < len(used) and f":\n{answering.text}\n\n" in prompt:
            return Example(prompt, f"{composed.answer.strip()} [{position + 1}]")
    return None


def examples(
    composed: Sequence[Composed],
    prompt_format: str,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    report: DataReport,
    name: str,
) -> list[Example]:
    kept: list[Example] = []
    for item in composed:
        example = to_example(item, prompt_format, count_tokens, max_tokens)
        if example is None:
            report.skipped[f"{name}_too_long"] += 1
            continue
        kind = "unanswerable" if item.answer_index is None else f"{len(item.passages)}_passages"
        report.counts[f"{name}_{item.source}_{kind}"] += 1
        kept.append(example)
    report.counts[f"{name}_examples"] = len(kept)
    return kept


def write_examples(path: Path, rows: Sequence[Example]) -> str:
    """Writes the examples as JSONL; returns the file's SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    return file_sha256(path)


def read_examples(path: Path) -> list[Example]:
    rows: list[Example] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                data = json.loads(line)
                rows.append(Example(str(data["prompt"]), str(data["completion"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise DataFileError(str(path), number, f"not an example ({exc})") from exc
    return rows
