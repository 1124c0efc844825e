"""Training groups of the reranker, by split of the manifest: a question, one passage (or
sentence) that answers it, and hard negatives (passages a first-stage search ranks high that do
not; for sentences, the other sentences of the passages the chat reads).

- PIAF: the question's paragraph (its article's title before it, as the knowledge base puts a
  document's title before each passage) against the BM25-best paragraphs of the same split.
- The team's questions: the stored chunk of its page closest to the reference answer (the
  reader's rule, `knowledge.qa.data.closest_span`) against the passages the knowledge base's
  own retrieval returns over all documents from other pages than the question's and those
  judged to answer it (`tests/knowledge/judgments/answering-pages.jsonl`).

Sentence groups teach the same network to pick the sentence the chat shows:
- PIAF: the sentence of the paragraph that holds the answer's first character against the
  paragraph's other sentences and those of the BM25-best other paragraph, each under its
  article's title.
- The team's questions: among the sentences of the passages the chat reads for the question
  (and of its page), the one closest to the reference answer (ROUGE-L) against the others that
  are far from it, each under its passage's document title and section, as the chat's selector
  reads them.
- Questions the documents do not answer: the sentences the chat's selector would read for them,
  every one a negative (a group without a positive, for training with a "no answer" logit).
"""

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.chunking import searchable_text, under_heading
from knowledge.errors import DatasetError
from knowledge.eval.datasets import Question
from knowledge.eval.splits import Manifest, Split
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.qa.data import MIN_MATCH_F1, closest_span
from knowledge.text import split_sentences

# A reference answer is paraphrased, not copied: the closest sentence is taken as the answer when
# its ROUGE-L reaches this, and a sentence is a negative below half of it.
MIN_SENTENCE_ROUGE = 0.3


@dataclass(frozen=True)
class Group:
    question: str
    positive: str | None  # None: nothing answers (an unanswerable question)
    negatives: tuple[str, ...]
    source: str  # "piaf", "own", "generated" or "unanswerable"

    @property
    def texts(self) -> tuple[str, ...]:
        """What the network reads: the positive first, when there is one."""
        return self.negatives if self.positive is None else (self.positive, *self.negatives)


def _split_paragraphs(
    path: Path, manifest: Manifest, split: Split
) -> list[tuple[str, dict[str, Any]]]:
    """(article title, PIAF paragraph: context and questions) of a split's articles."""
    titles = manifest.piaf_titles(split)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(str(path), None, f"cannot read PIAF ({exc})") from exc
    return [
        (article["title"], paragraph)
        for article in data["data"]
        if article["title"] in titles
        for paragraph in article["paragraphs"]
    ]


def piaf_paragraphs(path: Path, manifest: Manifest, split: Split) -> list[tuple[str, list[str]]]:
    """(titled paragraph, its questions) of the articles of a split."""
    return [
        (under_heading(title, paragraph["context"]), [qa["question"] for qa in paragraph["qas"]])
        for title, paragraph in _split_paragraphs(path, manifest, split)
    ]


def bm25_ranker(texts: Sequence[str]) -> Callable[[Sequence[str], int], list[list[int]]]:
    """BM25 (French stemming) over `texts`: for each query, the indices of the k best."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("french")
    index = bm25s.BM25()
    index.index(
        bm25s.tokenize(list(texts), stopwords="fr", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )

    def rank(queries: Sequence[str], k: int) -> list[list[int]]:
        tokens = bm25s.tokenize(
            list(queries), stopwords="fr", stemmer=stemmer, return_ids=False, show_progress=False
        )
        found, _ = index.retrieve(tokens, k=min(k, len(texts)), show_progress=False)
        return [[int(i) for i in row] for row in found]

    return rank


def piaf_groups(
    path: Path, manifest: Manifest, split: Split, negatives: int = 3, limit: int | None = None
) -> list[Group]:
    paragraphs = piaf_paragraphs(path, manifest, split)
    texts = [text for text, _ in paragraphs]
    items = [(i, q) for i, (_, questions) in enumerate(paragraphs) for q in questions]
    if limit is not None:
        items = items[:limit]
    ranked = bm25_ranker(texts)([q for _, q in items], negatives + 1)
    return [
        Group(q, texts[i], tuple(texts[j] for j in row if j != i)[:negatives], "piaf")
        for (i, q), row in zip(items, ranked, strict=True)
    ]


def own_groups(
    questions: Sequence[Question],
    page_passages: Callable[[Question], list[Chunk]],
    search: Callable[[str], list[ScoredChunk]],
    negatives: int = 3,
) -> tuple[list[Group], int]:
    """Groups of the questions whose answer is found on their page (`page_passages`: the stored
    chunks of the question's page); and how many were not."""
    groups: list[Group] = []
    skipped = 0
    for question in questions:
        best: tuple[Chunk, float] | None = None
        for chunk in page_passages(question):
            score = closest_span(chunk.text, question.answer or "")[2]
            if best is None or score > best[1]:
                best = (chunk, score)
        wrong = [
            searchable_text(found.chunk)
            for found in search(question.question)
            if not question.is_answering_hit(found.chunk)
        ][:negatives]
        if best is None or best[1] < MIN_MATCH_F1 or not wrong:
            skipped += 1
            continue
        groups.append(Group(question.question, searchable_text(best[0]), tuple(wrong), "own"))
    return groups, skipped


def _sentence_at(text: str, offset: int) -> int | None:
    """Index in `split_sentences(text)` of the sentence holding character `offset`."""
    position = 0
    for index, sentence in enumerate(split_sentences(text)):
        found = text.find(sentence, position)
        if found < 0:
            continue
        if found <= offset < found + len(sentence):
            return index
        position = found + len(sentence)
    return None


@dataclass(frozen=True)
class AnswerSentence:
    """A PIAF question, its paragraph's sentences and which one holds the answer."""

    question: str
    title: str  # the paragraph's article
    paragraph: str
    paragraph_index: int  # in `_split_paragraphs`
    sentences: list[str]
    answer_index: int

    def titled(self, sentence: str) -> str:
        """A sentence as a sentence model reads it: under its article's title."""
        return under_heading(self.title, sentence)


def piaf_answer_sentences(
    path: Path, manifest: Manifest, split: Split, min_sentences: int = 2
) -> list[AnswerSentence]:
    """The questions of a split's articles whose answer starts in a sentence of a paragraph of
    at least `min_sentences` sentences."""
    found: list[AnswerSentence] = []
    for index, (title, paragraph) in enumerate(_split_paragraphs(path, manifest, split)):
        text = paragraph["context"]
        sentences = split_sentences(text)
        for qa in paragraph["qas"]:
            if not qa.get("answers"):
                continue
            at = _sentence_at(text, qa["answers"][0]["answer_start"])
            if at is not None and len(sentences) >= min_sentences:
                found.append(AnswerSentence(qa["question"], title, text, index, sentences, at))
    return found


def piaf_sentence_groups(
    path: Path,
    manifest: Manifest,
    split: Split,
    negatives: int = 6,
    limit: int | None = None,
    seed: int = 13,
) -> list[Group]:
    """PIAF questions as sentence groups (see the module docstring), each sentence under its
    article's title; a question with no negative is left out."""
    paragraphs = _split_paragraphs(path, manifest, split)
    texts = [paragraph["context"] for _, paragraph in paragraphs]
    items = piaf_answer_sentences(path, manifest, split, min_sentences=1)
    if limit is not None:
        items = items[:limit]
    ranked = bm25_ranker(texts)([item.question for item in items], 2)
    rng = random.Random(seed)  # noqa: S311 (sampling negatives, reproducible)
    groups: list[Group] = []
    for item, row in zip(items, ranked, strict=True):
        same = [item.titled(s) for k, s in enumerate(item.sentences) if k != item.answer_index]
        elsewhere = [
            under_heading(paragraphs[j][0], s)
            for j in row
            if j != item.paragraph_index
            for s in split_sentences(texts[j])
        ]
        other = rng.sample(elsewhere, k=min(2, len(elsewhere)))
        wrong = rng.sample(same, k=min(len(same), negatives - len(other))) + other
        if wrong:
            positive = item.titled(item.sentences[item.answer_index])
            groups.append(Group(item.question, positive, tuple(wrong), "piaf"))
    return groups


def own_sentence_groups(
    questions: Sequence[Question],
    candidates: Callable[[Question], list[tuple[str, str]]],
    negatives: int = 6,
    seed: int = 13,
) -> tuple[list[Group], int]:
    """The team's questions as sentence groups (`candidates`: the sentences the chat would choose
    from, with those of the question's page, each as (what the model reads, the sentence));
    and how many were left out. Closeness is the bare sentence's ROUGE-L to the reference."""
    from knowledge.eval.answers import rouge_l

    rng = random.Random(seed)  # noqa: S311 (sampling negatives, reproducible)
    groups: list[Group] = []
    skipped = 0
    for question in questions:
        scored = sorted(
            (
                (rouge_l(sentence, question.answer or ""), read)
                for read, sentence in dict.fromkeys(candidates(question))
            ),
            reverse=True,
        )
        if not scored or scored[0][0] < MIN_SENTENCE_ROUGE:
            skipped += 1
            continue
        best, positive = scored[0]
        far = [s for score, s in scored[1:] if score < best / 2]
        if not far:
            skipped += 1
            continue
        wrong = rng.sample(far, k=min(negatives, len(far)))
        groups.append(Group(question.question, positive, tuple(wrong), "own"))
    return groups, skipped


def unanswerable_sentence_groups(
    questions: Sequence[str], candidates: Callable[[str], list[str]]
) -> list[Group]:
    """Questions the documents do not answer as groups without a positive (`candidates`: the
    sentences the chat's selector reads for a question, as it reads them); a question with no
    sentence is left out."""
    groups: list[Group] = []
    for question in questions:
        read = tuple(dict.fromkeys(candidates(question)))
        if read:
            groups.append(Group(question, None, read, "unanswerable"))
    return groups
