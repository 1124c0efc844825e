"""Retrieval evaluation: hit@1, hit@k and MRR@k for BM25, dense and hybrid retrieval.

Two kinds of data:
- hand-written questions, JSONL, one object per line: `question`, `document` (file name),
  `page`, optional `answer`, `product_code` and `also_answered_on` (a list of `{"document",
  "page"}`: the other pages of the product that print the answer, see
  `knowledge.corpus.alternates`). A question is hit at rank r when the r-th retrieved chunk
  comes from that document and page (`hit="page"`, the default) or, with
  `hit="answering_page"`, from any page that answers it. Relevance judgments made by people
  (`load_judgments`, one JSON object per judged page) add the pages judged to answer. Run
  against a store that holds the ingested documents; optionally each question searches only
  its product's documents.
- SQuAD-format JSON (e.g. PIAF): every paragraph is indexed as one passage in a temporary
  embedded store, and a question is hit when its own paragraph is retrieved.

Queries are embedded once and shared by the dense and hybrid runs.
"""

import dataclasses
import json
import math
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the environment

from knowledge.errors import DatasetError
from knowledge.interfaces import (
    Answer,
    Chunk,
    DocumentStore,
    Embedder,
    Fusion,
    RetrievalMode,
    ScoredChunk,
    SearchFilters,
    StoredDocument,
    Vector,
)
from knowledge.retrieval import StoreRetriever

MODES: tuple[RetrievalMode, ...] = ("bm25", "dense", "hybrid")
HitRule = Literal["page", "answering_page"]
Verdict = Literal["answers", "partial", "no"]
VERDICTS: tuple[Verdict, ...] = ("answers", "partial", "no")


@dataclass(frozen=True)
class Question:
    question: str
    document: str
    page: int
    answer: str | None = None
    product_code: str | None = None
    other_pages: tuple[tuple[str, int], ...] = ()

    def is_hit(self, chunk: Chunk) -> bool:
        """The chunk comes from the page the question was written from."""
        return chunk.document == self.document and chunk.page == self.page

    def is_answering_hit(self, chunk: Chunk) -> bool:
        """The chunk comes from that page or from another page that prints the answer."""
        return self.is_hit(chunk) or (chunk.document, chunk.page) in self.other_pages


@dataclass(frozen=True)
class Metrics:
    questions: int
    k: int
    hit_at_1: float
    hit_at_k: float
    mrr_at_k: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "questions": self.questions,
            "hit@1": round(self.hit_at_1, 4),
            f"hit@{self.k}": round(self.hit_at_k, 4),
            f"mrr@{self.k}": round(self.mrr_at_k, 4),
        }


def first_hit_rank(results: Sequence[ScoredChunk], is_hit: Callable[[Chunk], bool]) -> int | None:
    """1-based rank of the first relevant result, None when none is."""
    for rank, result in enumerate(results, start=1):
        if is_hit(result.chunk):
            return rank
    return None


def metrics_from_ranks(ranks: Sequence[int | None], k: int) -> Metrics:
    """hit@1, hit@k and MRR@k (reciprocal rank, 0 beyond k) over first-hit ranks."""
    if not ranks:
        return Metrics(questions=0, k=k, hit_at_1=math.nan, hit_at_k=math.nan, mrr_at_k=math.nan)
    count = len(ranks)
    return Metrics(
        questions=count,
        k=k,
        hit_at_1=sum(1 for rank in ranks if rank == 1) / count,
        hit_at_k=sum(1 for rank in ranks if rank is not None and rank <= k) / count,
        mrr_at_k=sum(1.0 / rank for rank in ranks if rank is not None and rank <= k) / count,
    )


# ---------------------------------------------------------------- data


def load_questions(path: Path) -> list[Question]:
    """Reads a questions JSONL file; every problem names the file and line."""
    name = str(path)
    questions: list[Question] = []
    for number, item in _json_objects(path):
        question, document, page = _question_on_page(item, name, number)
        answer, product_code = item.get("answer"), item.get("product_code")
        if answer is not None and not isinstance(answer, str):
            raise DatasetError(name, number, "'answer' must be a string when given")
        if product_code is not None and not isinstance(product_code, str):
            raise DatasetError(name, number, "'product_code' must be a string when given")
        others = _other_pages(item.get("also_answered_on", []), name, number)
        questions.append(Question(question, document, page, answer, product_code or None, others))
    if not questions:
        raise DatasetError(name, None, "no questions")
    return questions


def _json_objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file; a line that is not a JSON
    object, or a file that cannot be read, is a DatasetError naming the file and line."""
    name = str(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(name, None, f"cannot read the file ({exc})") from exc
    objects: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(name, number, f"not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise DatasetError(name, number, "expected a JSON object")
        objects.append((number, item))
    return objects


def _question_on_page(item: dict[str, Any], name: str, number: int) -> tuple[str, str, int]:
    """The checked `question` (stripped), `document` (file name) and `page` of an entry."""
    question, document, page = item.get("question"), item.get("document"), item.get("page")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(name, number, "'question' must be a non-empty string")
    if not isinstance(document, str) or not document:
        raise DatasetError(name, number, "'document' must be a file name")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise DatasetError(name, number, "'page' must be a page number from 1")
    return question.strip(), Path(document).name, page


def _other_pages(value: Any, name: str, number: int) -> tuple[tuple[str, int], ...]:
    message = '\'also_answered_on\' must be a list of {"document", "page"} objects'
    if not isinstance(value, list):
        raise DatasetError(name, number, message)
    pages: list[tuple[str, int]] = []
    for other in value:
        if not isinstance(other, dict):
            raise DatasetError(name, number, message)
        document, page = other.get("document"), other.get("page")
        if not isinstance(document, str) or not document:
            raise DatasetError(name, number, message)
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise DatasetError(name, number, message)
        pages.append((Path(document).name, page))
    return tuple(pages)


@dataclass(frozen=True)
class Judgment:
    """A person's verdict on whether one page answers one question (pooled assessment).

    `evidence` is the excerpt of the page that holds the answer ("" when the verdict is "no").
    Only "answers" makes the page a hit; "partial" and "no" are kept to show what was judged.
    """

    question: str
    document: str
    page: int
    verdict: Verdict
    evidence: str = ""
    reason: str = ""


def load_judgments(path: Path) -> list[Judgment]:
    """Reads a judgments JSONL file: `question`, `document`, `page`, `verdict`, and optional
    `evidence` and `reason`; every problem names the file and line."""
    name = str(path)
    judgments: list[Judgment] = []
    for number, item in _json_objects(path):
        question, document, page = _question_on_page(item, name, number)
        verdict = item.get("verdict")
        evidence, reason = item.get("evidence", ""), item.get("reason", "")
        if verdict not in VERDICTS:
            raise DatasetError(name, number, f"'verdict' must be one of {', '.join(VERDICTS)}")
        if not isinstance(evidence, str) or not isinstance(reason, str):
            raise DatasetError(name, number, "'evidence' and 'reason' must be strings")
        if verdict != "no" and not evidence.strip():
            raise DatasetError(name, number, f"a '{verdict}' verdict needs its evidence")
        judgments.append(Judgment(question, document, page, verdict, evidence, reason))
    return judgments


def with_judgments(questions: Sequence[Question], judgments: Sequence[Judgment]) -> list[Question]:
    """The questions with the pages judged to answer them added to their other pages.

    A judgment of a question that is not in `questions` is an error (a typo would otherwise
    silently judge nothing), unless the questions were cut (`--limit`): pass only those."""
    known = {question.question: question for question in questions}
    added: dict[str, list[tuple[str, int]]] = {}
    for judgment in judgments:
        if judgment.question not in known:
            raise DatasetError(
                "judgments", None, f"judged question not in the questions: {judgment.question!r}"
            )
        if judgment.verdict == "answers":
            added.setdefault(judgment.question, []).append((judgment.document, judgment.page))
    result: list[Question] = []
    for question in questions:
        extra = [
            page for page in added.get(question.question, []) if page not in question.other_pages
        ]
        result.append(
            dataclasses.replace(question, other_pages=question.other_pages + tuple(extra))
            if extra
            else question
        )
    return result


@dataclass(frozen=True)
class SquadData:
    passages: list[Chunk]  # one per paragraph
    questions: list[str]
    gold: list[str]  # chunk_id of each question's paragraph


def load_squad(path: Path) -> SquadData:
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(name, None, f"cannot read the file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(name, exc.lineno, f"not JSON ({exc.msg})") from exc
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise DatasetError(name, None, "not SQuAD format: no 'data' list")
    passages: list[Chunk] = []
    questions: list[str] = []
    gold: list[str] = []
    try:
        for a, article in enumerate(articles):
            title = str(article.get("title") or f"article-{a}")
            for p, paragraph in enumerate(article["paragraphs"]):
                identifier = f"{a}-{p}"
                passages.append(
                    Chunk(
                        chunk_id=identifier,
                        document=title,
                        page=p + 1,
                        text=str(paragraph["context"]),
                    )
                )
                for qa in paragraph["qas"]:
                    questions.append(str(qa["question"]))
                    gold.append(identifier)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(name, None, f"not SQuAD format ({type(exc).__name__}: {exc})") from exc
    if not questions:
        raise DatasetError(name, None, "no questions")
    return SquadData(passages, questions, gold)


# ---------------------------------------------------------------- runs


def embed_in_batches(
    texts: Sequence[str],
    embed: Callable[[Sequence[str]], Vector],
    *,
    batch_size: int = 64,
    progress: bool = False,
    label: str = "embed",
) -> Vector:
    batches = [
        np.asarray(embed(texts[start : start + batch_size]), dtype=np.float32)
        for start in tqdm(
            range(0, len(texts), batch_size), desc=label, unit="batch", disable=not progress
        )
    ]
    return np.concatenate(batches) if batches else np.zeros((0, 0), dtype=np.float32)


def evaluate_store(
    store: DocumentStore,
    embedder: Embedder | None,
    queries: Sequence[str],
    golds: Sequence[Callable[[Chunk], bool]],
    *,
    k: int = 4,
    modes: Sequence[RetrievalMode] = MODES,
    alpha: float = 0.5,
    fusion: Fusion = "relative_score",
    progress: bool = False,
    filters: Sequence[SearchFilters | None] | None = None,
    distinct_pages: bool = True,
) -> dict[str, Metrics]:
    """Metrics per retrieval mode; dense and hybrid share one embedding of the queries.

    `filters`, when given, holds one metadata filter per query (None: no filter)."""
    per_query = list(filters) if filters is not None else [None] * len(queries)
    groups: dict[SearchFilters | None, list[int]] = {}
    for position, query_filter in enumerate(per_query):
        groups.setdefault(query_filter, []).append(position)
    vectors = None
    if embedder is not None and any(mode != "bm25" for mode in modes):
        vectors = embed_in_batches(
            queries, embedder.embed_queries, progress=progress, label="queries"
        )
    results: dict[str, Metrics] = {}
    for mode in modes:
        if mode != "bm25" and vectors is None:
            continue
        retriever = StoreRetriever(
            store,
            embedder,
            mode=mode,
            alpha=alpha,
            fusion=fusion,
            top_k=k,
            distinct_pages=distinct_pages,
        )
        ranked: list[list[ScoredChunk]] = [[] for _ in queries]
        for query_filter, positions in groups.items():
            found = retriever.retrieve_batch(
                [queries[p] for p in positions],
                filters=query_filter,
                vectors=vectors[positions] if vectors is not None else None,
            )
            for position, passages in zip(positions, found, strict=True):
                ranked[position] = passages
        ranks = [first_hit_rank(found, gold) for found, gold in zip(ranked, golds, strict=True)]
        results[mode] = metrics_from_ranks(ranks, k)
    return results


def evaluate_questions(
    store: DocumentStore,
    embedder: Embedder | None,
    questions: Sequence[Question],
    *,
    product_filter: bool = False,
    hit: HitRule = "page",
    **options: Any,
) -> dict[str, Metrics]:
    """`product_filter`: search only the question's product, when the question names one (as
    the assistant does once the conversation is about a product). `hit`: "page" counts only
    the page the question was written from; "answering_page" also the other pages of the
    product that print its answer."""
    filters = (
        [SearchFilters(product_code=q.product_code) if q.product_code else None for q in questions]
        if product_filter
        else None
    )
    return evaluate_store(
        store,
        embedder,
        [question.question for question in questions],
        [q.is_hit if hit == "page" else q.is_answering_hit for q in questions],
        filters=filters,
        **options,
    )


def index_passages(
    store: DocumentStore,
    embedder: Embedder | None,
    passages: Sequence[Chunk],
    *,
    dimension: int = 0,
    progress: bool = False,
) -> None:
    """Stores passages grouped by document (one atomic write each), embedded when possible."""
    if embedder is not None:
        vectors = embed_in_batches(
            [passage.text for passage in passages],
            embedder.embed_passages,
            batch_size=32,
            progress=progress,
            label="passages",
        )
    else:
        vectors = np.zeros((len(passages), max(dimension, 1)), dtype=np.float32)
    by_document: dict[str, list[int]] = {}
    for position, passage in enumerate(passages):
        by_document.setdefault(passage.document, []).append(position)
    for document, positions in by_document.items():
        store.replace_document(
            StoredDocument(document=document, content_hash="", chunk_count=len(positions)),
            [passages[position] for position in positions],
            vectors[positions],
        )
    store.refresh()


def evaluate_squad(
    path: Path,
    embedder: Embedder | None,
    *,
    k: int = 4,
    modes: Sequence[RetrievalMode] = MODES,
    alpha: float = 0.5,
    fusion: Fusion = "relative_score",
    progress: bool = False,
    limit: int | None = None,
    distinct_pages: bool = True,
) -> dict[str, Metrics]:
    """Indexes every paragraph in a temporary embedded store and evaluates the questions."""
    from knowledge.stores.embedded import EmbeddedStore

    data = load_squad(path)
    questions, gold = data.questions[:limit], data.gold[:limit]
    with tempfile.TemporaryDirectory(prefix="squad-") as directory:
        store = EmbeddedStore(Path(directory))
        try:
            index_passages(store, embedder, data.passages, progress=progress)
            return evaluate_store(
                store,
                embedder,
                questions,
                [_is_chunk(identifier) for identifier in gold],
                k=k,
                modes=modes,
                alpha=alpha,
                fusion=fusion,
                progress=progress,
                distinct_pages=distinct_pages,
            )
        finally:
            store.close()


def _is_chunk(identifier: str) -> Callable[[Chunk], bool]:
    return lambda chunk: chunk.chunk_id == identifier


def report(metrics: Mapping[str, Metrics], **context: Any) -> dict[str, Any]:
    """The JSON document that `python -m knowledge eval --json` prints."""
    first = next(iter(metrics.values()), None)
    return {
        **context,
        "k": first.k if first else None,
        "questions": first.questions if first else 0,
        "retrievers": {mode: values.as_dict() for mode, values in metrics.items()},
    }


def as_table(metrics: Mapping[str, Metrics]) -> str:
    rows = ["retriever  hit@1   hit@k   MRR@k"]
    for mode, values in metrics.items():
        rows.append(
            f"{mode:<9} {values.hit_at_1:6.3f}  {values.hit_at_k:6.3f}  {values.mrr_at_k:6.3f}"
        )
    return "\n".join(rows)


_WORD = re.compile(r"\w+", re.UNICODE)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1: longest common subsequence of the lower-cased words of both texts.

    Words are Unicode word characters, so French accents are kept (the `rouge-score` package's
    default tokenizer drops every non-ASCII letter)."""
    a = _WORD.findall(candidate.lower())
    b = _WORD.findall(reference.lower())
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if word == other else max(previous[j], current[-1]))
        previous = current
    common = previous[-1]
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class AnswerMetrics:
    """How the answers compare with the reference answers."""

    questions: int
    rouge_l_mean: float
    rouge_l_median: float
    modes: dict[str, int]
    validated_rate: float
    seconds_median: float
    seconds_p95: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "rouge_l_mean": round(self.rouge_l_mean, 4),
            "rouge_l_median": round(self.rouge_l_median, 4),
            "modes": dict(self.modes),
            "validated_rate": round(self.validated_rate, 4),
            "seconds_median": round(self.seconds_median, 4),
            "seconds_p95": round(self.seconds_p95, 4),
        }


class AnswersQuestions(Protocol):
    def answer(self, question: str, product: str | None = None) -> Answer: ...


def evaluate_answers(
    service: AnswersQuestions,
    questions: Sequence[Question],
    *,
    product_filter: bool = False,
    progress: bool = False,
) -> AnswerMetrics:
    """Answers every question that has a reference answer and scores it with ROUGE-L."""
    scored = [question for question in questions if question.answer]
    if not scored:
        raise DatasetError("questions", None, "no question has a reference answer")
    scores: list[float] = []
    seconds: list[float] = []
    modes: dict[str, int] = {}
    validated = 0
    for question in tqdm(scored, desc="answers", unit="question", disable=not progress):
        started = time.perf_counter()
        product = question.product_code if product_filter else None
        answer = service.answer(question.question, product)
        seconds.append(time.perf_counter() - started)
        scores.append(rouge_l(answer.text, question.answer or ""))
        modes[answer.mode] = modes.get(answer.mode, 0) + 1
        validated += answer.validated
    ordered = sorted(seconds)
    return AnswerMetrics(
        questions=len(scored),
        rouge_l_mean=statistics.fmean(scores),
        rouge_l_median=statistics.median(scores),
        modes=modes,
        validated_rate=validated / len(scored),
        seconds_median=statistics.median(seconds),
        seconds_p95=ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
    )
