"""PIAF paragraph retrieval: BM25, dense and hybrid (alpha and fusion swept), hit@1/hit@4/MRR@4.

Every paragraph of the SQuAD-format file is one passage in a temporary embedded store; a question
is hit when its own paragraph is in the top k. Embeddings are cached under
.run/benchmarks/embeddings, so a second run only searches.

    python -m benchmarks.bench_piaf [--data FILE] [--embedder NAME] [--alphas 0.3 0.5 0.7]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.embedding_cache import CachedEmbedder
from knowledge.eval.datasets import load_squad
from knowledge.eval.retrieval import evaluate_store, index_passages
from knowledge.interfaces import Fusion
from knowledge.pipelines import build_embedder
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore

DEFAULT_DATA = Path("/work/shared/benchmarks/piaf/piaf-v1.0.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_piaf")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embedder", default=KnowledgeSettings().embedding_model)
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--fusions", nargs="+", default=["relative_score", "rrf"])
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=50, help="hybrid candidates per search")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    data = load_squad(args.data)
    embedder = CachedEmbedder(build_embedder(args.embedder))
    embedder.warm_up()
    golds = [lambda chunk, gold=gold: chunk.chunk_id == gold for gold in data.gold]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="piaf-") as directory:
        store = EmbeddedStore(Path(directory), hybrid_candidates=args.candidates)
        started = time.perf_counter()
        index_passages(store, embedder, data.passages, progress=True)
        indexing_s = time.perf_counter() - started
        embedder.save()
        started = time.perf_counter()
        base = evaluate_store(
            store, embedder, data.questions, golds, k=args.k, modes=("bm25", "dense"), progress=True
        )
        embedder.save()
        rows += [{"retriever": m, **metrics.as_dict()} for m, metrics in base.items()]
        fusion: Fusion
        for fusion in args.fusions:
            for alpha in args.alphas:
                hybrid = evaluate_store(
                    store,
                    embedder,
                    data.questions,
                    golds,
                    k=args.k,
                    modes=("hybrid",),
                    alpha=alpha,
                    fusion=fusion,
                )["hybrid"]
                rows.append({"retriever": f"hybrid {fusion} alpha={alpha}", **hybrid.as_dict()})
        search_s = time.perf_counter() - started
        store.close()
    if args.json:
        print(json.dumps({"data": str(args.data), "embedder": args.embedder, "rows": rows}))
        return 0
    print(f"PIAF {args.data.name}: {len(data.passages)} passages, {len(data.questions)} questions")
    print(f"embedder {args.embedder}; indexing {indexing_s:.1f} s; queries+search {search_s:.1f} s")
    print(f"| retriever | hit@1 | hit@{args.k} | MRR@{args.k} |\n|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['retriever']} | {row['hit@1']:.3f} | {row[f'hit@{args.k}']:.3f} | "
            f"{row[f'mrr@{args.k}']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
