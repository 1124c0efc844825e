"""Chunk size and overlap chosen by measurement: hit@1/hit@4/MRR@4 on the hand-written questions.

For each (size, overlap) the built corpus is ingested into a fresh temporary embedded store and
every questions file of tests/knowledge/questions is evaluated with BM25, dense and hybrid
retrieval, over all documents ("all") and over the question's product only ("product", from
its `product_code` field, as the assistant searches once it knows the product). Passage
embeddings are cached under .run/benchmarks/embeddings (a chunk's text is embedded once whatever
the run), so the sweep can be resumed.

    python -m benchmarks.bench_chunking [--sizes 300:40 500:60 800:100 1200:150] [--modes ...]
"""

import argparse
import tempfile
from pathlib import Path

from benchmarks.embedding_cache import CachedEmbedder
from knowledge.chunking import SectionChunker
from knowledge.eval.datasets import load_questions
from knowledge.eval.retrieval import MODES, evaluate_questions
from knowledge.ingestion import IngestionPipeline
from knowledge.interfaces import RetrievalMode
from knowledge.pipelines import build_embedder
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore
from product_catalog.documents import load_document_catalog


def main(argv: list[str] | None = None) -> int:
    settings = KnowledgeSettings()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_chunking")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--questions", type=Path, nargs="+")
    parser.add_argument("--sizes", nargs="+", default=["300:40", "500:60", "800:100", "1200:150"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--embedder", default=settings.embedding_model)
    parser.add_argument("--alpha", type=float, default=settings.alpha)
    args = parser.parse_args(argv)

    files = args.questions or sorted(Path("tests/knowledge/questions").glob("*.jsonl"))
    questions = [question for file in files for question in load_questions(file)]
    modes: tuple[RetrievalMode, ...] = tuple(args.modes)
    embedder = CachedEmbedder(build_embedder(args.embedder))
    embedder.warm_up()
    catalog = load_document_catalog()
    print(
        f"{len(questions)} questions from {', '.join(f.name for f in files)}; "
        f"corpus {args.corpus}; embedder {args.embedder}; alpha {args.alpha}"
    )
    print("| size:overlap (chars) | chunks | retriever | search | hit@1 | hit@4 | MRR@4 |")
    print("|---|---|---|---|---|---|---|")
    for spec in args.sizes:
        size, overlap = (int(part) for part in spec.split(":"))
        with tempfile.TemporaryDirectory(prefix="bench-chunking-") as directory:
            store = EmbeddedStore(Path(directory))
            report = IngestionPipeline(
                store,
                embedder,
                chunker=SectionChunker(size, overlap),
                catalog=catalog,
                progress=False,
            ).run([args.corpus])
            embedder.save()
            runs = {
                search: evaluate_questions(
                    store,
                    embedder,
                    questions,
                    k=4,
                    modes=modes,
                    alpha=args.alpha,
                    product_filter=search == "product",
                )
                for search in ("all", "product")
            }
            embedder.save()
            store.close()
        for search, metrics in runs.items():
            for mode, values in metrics.items():
                print(
                    f"| {size}:{overlap} | {report.chunks} | {mode} | {search} | "
                    f"{values.hit_at_1:.3f} | {values.hit_at_k:.3f} | {values.mrr_at_k:.3f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
