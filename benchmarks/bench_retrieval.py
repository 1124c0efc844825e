"""Retrieval latency of the embedded store at 50,000 chunks, against a small store baseline.

The seed is the 761 PIAF paragraphs (real French text, with their real passage embeddings). The
large store grows it synthetically to `--chunks` chunks: each copy shuffles the sentences of a
paragraph, swaps a few words for words of another paragraph, and gets the paragraph's vector
plus Gaussian noise (renormalised), so term statistics and the vector matrix have the real
shape and size without embedding 50,000 texts. Chunks are spread over documents of 100 chunks
and 20 product codes, so filtered search is timed too.

Timed, per query (PIAF questions, query vectors computed once beforehand):
- `hybrid`: `store.hybrid_search(query, vector, 4, alpha)` (what a request runs once it has the
  query vector), `bm25` and `dense` alone, and `hybrid + filter` (one product code);
- `embed query`: the query embedder on one question (it does not depend on the store size), and
  `end to end` = `StoreRetriever.retrieve` with that embedder (embedding + hybrid search).
The baseline is the same searches on the seed store (761 chunks), in the same run.

    python -m benchmarks.bench_retrieval [--chunks 50000] [--queries 500] [--embedder NAME]
"""

import argparse
import gc
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_piaf import DEFAULT_DATA
from benchmarks.embedding_cache import CachedEmbedder
from knowledge.eval.datasets import load_squad
from knowledge.interfaces import Chunk, Embedder, SearchFilters, StoredDocument, Vector
from knowledge.pipelines import build_embedder
from knowledge.retrieval import StoreRetriever
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore

CHUNKS_PER_DOCUMENT = 100
PRODUCTS = [f"VG-P{n:02d}" for n in range(20)]
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def perturbed_text(text: str, donor: str, rng: random.Random) -> str:
    sentences = _SENTENCE.split(text)
    rng.shuffle(sentences)
    words = " ".join(sentences).split(" ")
    donor_words = donor.split(" ")
    for _ in range(max(1, len(words) // 20)):
        words[rng.randrange(len(words))] = rng.choice(donor_words)
    return " ".join(words)


def perturbed_vector(vector: Vector, rng: np.random.Generator, sigma: float) -> Vector:
    noisy = vector + rng.normal(0.0, sigma, size=vector.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy)).astype(np.float32)


def fill(store: EmbeddedStore, seeds: Sequence[Chunk], vectors: Vector, total: int) -> None:
    rng, noise = random.Random(7), np.random.default_rng(7)  # noqa: S311 (reproducible data)
    batch_chunks: list[Chunk] = []
    batch_vectors: list[Vector] = []
    document = 0

    def flush() -> None:
        nonlocal document, batch_chunks, batch_vectors
        name = f"synthetic-{document:05d}.pdf"
        chunks = [
            Chunk(
                chunk_id=f"{name}#{i}",
                document=name,
                page=i // 4 + 1,
                text=chunk.text,
                section=chunk.section,
                product_code=PRODUCTS[document % len(PRODUCTS)],
                category="bench",
            )
            for i, chunk in enumerate(batch_chunks)
        ]
        store.replace_document(
            StoredDocument(name, f"h{document}", "", len(chunks)), chunks, np.stack(batch_vectors)
        )
        document += 1
        batch_chunks, batch_vectors = [], []

    for n in range(total):
        position = n % len(seeds)
        seed = seeds[position]
        if n < len(seeds):
            text, vector = seed.text, vectors[position]
        else:
            donor = seeds[rng.randrange(len(seeds))].text
            text = perturbed_text(seed.text, donor, rng)
            vector = perturbed_vector(vectors[position], noise, sigma=0.02)
        batch_chunks.append(Chunk("", "", 1, text, section=seed.document))
        batch_vectors.append(vector)
        if len(batch_chunks) == CHUNKS_PER_DOCUMENT:
            flush()
    if batch_chunks:
        flush()
    store.refresh()


def timings_ms(operation: Callable[[int], Any], count: int) -> list[float]:
    for i in range(min(20, count)):  # warm-up
        operation(i)
    gc.collect()
    gc.disable()
    try:
        samples = []
        for i in range(count):
            started = time.perf_counter()
            operation(i)
            samples.append((time.perf_counter() - started) * 1000.0)
    finally:
        gc.enable()
    return samples


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(
    store: EmbeddedStore, questions: Sequence[str], vectors: Vector, alpha: float
) -> dict[str, list[float]]:
    count = len(questions)
    one_product = SearchFilters(product_code=PRODUCTS[3])
    return {
        "hybrid": timings_ms(
            lambda i: store.hybrid_search(questions[i], vectors[i], 4, alpha=alpha), count
        ),
        "bm25": timings_ms(lambda i: store.lexical_search(questions[i], 4), count),
        "dense": timings_ms(lambda i: store.dense_search(vectors[i], 4), count),
        "hybrid + filter": timings_ms(
            lambda i: store.hybrid_search(
                questions[i], vectors[i], 4, alpha=alpha, filters=one_product
            ),
            count,
        ),
    }


def end_to_end(
    store: EmbeddedStore, embedder: Embedder, questions: Sequence[str], alpha: float
) -> dict[str, list[float]]:
    """Embedding one question (uncached: the real cost), then the whole `retrieve` call."""
    count = min(len(questions), 200)
    retriever = StoreRetriever(store, embedder, alpha=alpha)
    return {
        "embed query": timings_ms(lambda i: embedder.embed_queries([questions[i]]), count),
        "end to end": timings_ms(lambda i: retriever.retrieve(questions[i]), count),
    }


def main(argv: list[str] | None = None) -> int:
    settings = KnowledgeSettings()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_retrieval")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--embedder", default=settings.embedding_model, help="vectors of the stores (cached)"
    )
    parser.add_argument(
        "--query-embedder",
        default=settings.embedding_model,
        help="embedder timed on single questions (embed query, end to end)",
    )
    parser.add_argument("--alpha", type=float, default=settings.alpha)
    args = parser.parse_args(argv)

    data = load_squad(args.data)
    rng = random.Random(11)  # noqa: S311 (a reproducible sample of questions)
    questions = rng.sample(data.questions, min(args.queries, len(data.questions)))
    embedder = CachedEmbedder(build_embedder(args.embedder))
    embedder.warm_up()
    passage_vectors = embedder.embed_passages([p.text for p in data.passages])
    query_vectors = embedder.embed_queries(questions)
    embedder.save()

    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as directory:
        for label, total in (("baseline", len(data.passages)), ("large", args.chunks)):
            store = EmbeddedStore(
                Path(directory) / label, hybrid_candidates=settings.hybrid_candidates
            )
            started = time.perf_counter()
            fill(store, data.passages, passage_vectors, total)
            built_s = time.perf_counter() - started
            store.close()
            store = EmbeddedStore(
                Path(directory) / label, hybrid_candidates=settings.hybrid_candidates
            )
            started = time.perf_counter()
            store.warm_up()
            load_s = time.perf_counter() - started
            print(
                f"{label}: {store.count()} chunks, filled in {built_s:.1f} s, "
                f"index loaded in {load_s:.2f} s"
            )
            results[label] = measure(store, questions, query_vectors, args.alpha)
            if label == "large":
                timed = build_embedder(args.query_embedder)
                timed.warm_up()
                results[label].update(end_to_end(store, timed, questions, args.alpha))
            store.close()

    print(
        f"\nload average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs at the end; "
        f"{len(questions)} PIAF questions, top 4, alpha={args.alpha}, store vectors "
        f"{args.embedder}, query embedder {args.query_embedder}\n"
    )
    print("| operation | store | chunks | median (ms) | p95 (ms) |\n|---|---|---|---|---|")
    sizes = {"baseline": len(data.passages), "large": args.chunks}
    for label, by_operation in results.items():
        for operation, samples in by_operation.items():
            print(
                f"| {operation} | {label} | {sizes[label]:,} | "
                f"{statistics.median(samples):.1f} | {percentile(samples, 0.95):.1f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
