"""Ingestion throughput on the built corpus: pages per second, with the time of each stage.

Ingests every PDF under `--corpus` (default build/corpus, made by `python -m knowledge.corpus
build`) into a fresh temporary embedded store with the real embedder (no embedding cache), then
re-runs the ingestion to time the incremental path (every file unchanged). Stages: read (pypdf
extraction), chunk (cleaning + chunking), embed, store (SQLite writes + index build).

    python -m benchmarks.bench_ingestion [--corpus build/corpus] [--embedder NAME]
"""

import argparse
import os
import tempfile
from pathlib import Path

from knowledge.catalog import load_document_catalog
from knowledge.chunking import SectionChunker
from knowledge.ingestion import IngestionPipeline
from knowledge.pipelines import build_embedder
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore


def main(argv: list[str] | None = None) -> int:
    settings = KnowledgeSettings()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ingestion")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--embedder", default=settings.embedding_model)
    parser.add_argument("--chunk-size", type=int, default=settings.chunk_size)
    parser.add_argument("--chunk-overlap", type=int, default=settings.chunk_overlap)
    parser.add_argument("--keep", type=Path, help="ingest into this store directory and keep it")
    args = parser.parse_args(argv)
    if not any(args.corpus.rglob("*.pdf")):
        parser.error(f"no PDF under {args.corpus}: run `python -m knowledge.corpus build` first")

    embedder = build_embedder(args.embedder)
    embedder.warm_up()  # model loading is not ingestion
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as directory:
        store = EmbeddedStore(args.keep or Path(directory), embedding_model=embedder.model_name)
        pipeline = IngestionPipeline(
            store,
            embedder,
            chunker=SectionChunker(args.chunk_size, args.chunk_overlap),
            catalog=load_document_catalog(),
            progress=False,
        )
        first = pipeline.run([args.corpus])
        again = pipeline.run([args.corpus])
        store.close()

    stages = first.stage_seconds
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} CPUs at the end")
    print(
        f"corpus {args.corpus}: {len(first.ingested)} files, {first.pages} pages, "
        f"{first.chunks} chunks (size {args.chunk_size}, overlap {args.chunk_overlap}), "
        f"{len(first.failed)} failed; embedder {args.embedder}"
    )
    print("| run | seconds | pages/s | read (s) | clean+chunk (s) | embed (s) | store+index (s) |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| first ingestion | {first.seconds:.1f} | {first.pages_per_second:.2f} | "
        f"{stages['read']:.1f} | {stages['chunk']:.1f} | {stages['embed']:.1f} | "
        f"{stages['store']:.1f} |"
    )
    without_embedding = first.seconds - stages["embed"]
    print(
        f"| first ingestion, embedding excluded | {without_embedding:.1f} | "
        f"{first.pages / without_embedding:.1f} | | | | |"
    )
    print(
        f"| second run (all unchanged) | {again.seconds:.2f} | "
        f"({len(again.skipped)} files skipped) | | | | |"
    )
    for failure in first.failed:
        print(f"FAILED {failure.file}: {failure.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
