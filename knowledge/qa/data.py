"""Training and evaluation examples of the reader, taken by split from the manifest.

- PIAF: every question of the articles of a split, with its paragraph and its answer span.
- The team's questions: the question, each chunk of the page it was written from (chunked as
  ingestion chunks it, from the built corpus), and the stretch of words of that chunk closest to
  the hand-written reference answer (token F1 at least `MIN_MATCH_F1`); a question whose answer
  is not found in its page's words is left out of training and counted.
"""

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import SectionChunker
from knowledge.cleaning import TextCleaner
from knowledge.errors import DatasetError
from knowledge.eval.datasets import Question, load_questions
from knowledge.eval.splits import QUESTION_FILES, Manifest, Split
from knowledge.interfaces import Chunk
from knowledge.qa.metrics import normalize
from knowledge.readers import default_readers, reader_for

MIN_MATCH_F1 = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Example:
    question: str
    passage: str
    answer_start: int  # characters of the answer in the passage
    answer_end: int
    source: str  # "piaf" or "own"

    @property
    def answer(self) -> str:
        return self.passage[self.answer_start : self.answer_end]


def piaf_examples(path: Path, manifest: Manifest, split: Split) -> list[Example]:
    titles = manifest.piaf_titles(split)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(str(path), None, f"cannot read PIAF ({exc})") from exc
    examples = []
    for article in data["data"]:
        if article["title"] not in titles:
            continue
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = int(answer["answer_start"])
                text = answer["text"]
                if context[start : start + len(text)] != text:
                    found = context.find(text)
                    if found < 0:
                        continue
                    start = found
                examples.append(Example(qa["question"], context, start, start + len(text), "piaf"))
    return examples


def own_questions(
    manifest: Manifest, split: Split, files: Sequence[Path] = QUESTION_FILES
) -> list[Question]:
    pages = manifest.pages(split)
    return [
        question
        for path in files
        for question in load_questions(path)
        if f"{question.document}#{question.page}" in pages
    ]


def page_chunks(
    corpus_dir: Path, chunk_size: int = 500, chunk_overlap: int = 60
) -> dict[tuple[str, int], list[Chunk]]:
    """The chunks of every page of the built corpus, as ingestion makes them."""
    if not corpus_dir.is_dir():
        raise DatasetError(
            str(corpus_dir), None, "no built corpus (run: python -m knowledge.corpus build)"
        )
    readers, cleaner = default_readers(), TextCleaner()
    chunker = SectionChunker(chunk_size, chunk_overlap)
    result: dict[tuple[str, int], list[Chunk]] = {}
    for path in sorted(corpus_dir.rglob("*.pdf")):
        pages = cleaner.clean(reader_for(path, readers).read(path))
        for chunk in chunker.split(pages):
            result.setdefault((path.name, chunk.page), []).append(chunk)
    return result


def closest_span(passage: str, answer: str) -> tuple[int, int, float]:
    """(start, end, F1) of the stretch of whole words of `passage` whose words best match the
    answer's (token F1 after normalisation); (0, 0, 0.0) when no word is shared."""
    gold = Counter(normalize(answer).split())
    if not gold:
        return 0, 0, 0.0
    words = [(m.start(), m.end(), normalize(m.group())) for m in _WORD.finditer(passage)]
    anchors = [i for i, (_, _, word) in enumerate(words) if word and word in gold]
    limit = 2 * sum(gold.values()) + 5
    total = sum(gold.values())
    best = (0, 0, 0.0)
    for a, i in enumerate(anchors):
        for j in anchors[a:]:
            if j - i + 1 > limit:
                break
            window = Counter(w for _, _, word in words[i : j + 1] for w in word.split())
            common = sum((window & gold).values())
            size = sum(window.values())
            if common == 0 or size == 0:
                continue
            precision, recall = common / size, common / total
            score = 2 * precision * recall / (precision + recall)
            if score > best[2]:
                best = (words[i][0], words[j][1], score)
    return best


def own_examples(
    questions: Sequence[Question], chunks: dict[tuple[str, int], list[Chunk]]
) -> tuple[list[Example], int]:
    """Examples of the questions whose answer is found on their page; and how many were not."""
    examples: list[Example] = []
    skipped = 0
    for question in questions:
        if not question.answer:
            skipped += 1
            continue
        best: tuple[Chunk, int, int, float] | None = None
        for chunk in chunks.get((question.document, question.page), []):
            start, end, score = closest_span(chunk.text, question.answer)
            if best is None or score > best[3]:
                best = (chunk, start, end, score)
        if best is None or best[3] < MIN_MATCH_F1:
            skipped += 1
            continue
        examples.append(Example(question.question, best[0].text, best[1], best[2], "own"))
    return examples, skipped
