"""Ingestion throughput on the built corpus: pages per second, with the time of each stage.

Ingests every PDF under `--corpus` (default build/corpus, made by `python -m knowledge.corpus
build`) into a fresh temporary embedded store with the real embedder (no embedding cache), then
re-runs the ingestion to time the incremental path (every file unchanged). Stages: read (pypdf
extraction), chunk (cleaning + chunking), embed, store (SQLite writes + index build).

The corpus is ingested once per `--precision` (default: float32, the baseline, then the
settings' precision, "auto", which is int8 on a CPU without hardware bfloat16), in that order
and in the same process, so the figures compare under the same machine load. "int8" is the
embedder's int8 quantisation (ONNX Runtime, activations quantised on the fly). A precision may
end with "/N": the pipeline hands the embedder N passages at a time (the default, 256, lets it
sort a file's passages by length; "float32/32" is the grouping of earlier versions).

    python -m benchmarks.bench_ingestion [--corpus build/corpus] [--embedder NAME]
        [--precision float32/32 float32 int8 auto]
"""

import argparse
import os
import platform
import tempfile
from pathlib import Path

from knowledge.chunking import SectionChunker
from knowledge.embedders import cpu_has_native_bfloat16
from knowledge.ingestion import IngestionPipeline, IngestionReport
from knowledge.interfaces import Embedder
from knowledge.pipelines import build_embedder
from knowledge.settings import KnowledgeSettings
from knowledge.stores.embedded import EmbeddedStore
from product_catalog.documents import load_document_catalog


def main(argv: list[str] | None = None) -> int:
    settings = KnowledgeSettings()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ingestion")
    parser.add_argument("--corpus", type=Path, default=Path("build/corpus"))
    parser.add_argument("--embedder", default=settings.embedding_model)
    parser.add_argument(
        "--precision",
        nargs="+",
        type=_run_spec,
        default=["float32", settings.embedding_precision],
        help="one ingestion per precision (auto, float32, bfloat16 or int8, optionally /N for "
        "N passages per embedder call), in this order (default: float32 then the settings')",
    )
    parser.add_argument("--chunk-size", type=int, default=settings.chunk_size)
    parser.add_argument("--chunk-overlap", type=int, default=settings.chunk_overlap)
    parser.add_argument("--keep", type=Path, help="ingest into this store directory and keep it")
    args = parser.parse_args(argv)
    if not any(args.corpus.rglob("*.pdf")):
        parser.error(f"no PDF under {args.corpus}: run `python -m knowledge.corpus build` first")
    if args.keep and len(set(args.precision)) > 1:
        parser.error("--keep takes one --precision (a kept store would skip the second run)")

    print(
        f"CPU: {cpu_model()}, {os.cpu_count()} CPUs, hardware bfloat16: "
        f"{'yes' if cpu_has_native_bfloat16() else 'no'}; Python {platform.python_version()}"
    )
    print(
        "| precision | run | seconds | pages/s | read (s) | clean+chunk (s) | embed (s) "
        "| store+index (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    baseline: float | None = None
    for spec in dict.fromkeys(args.precision):  # each once, in order
        precision, _, group = spec.partition("/")
        if precision == "int8":
            embedder = build_embedder(args.embedder, quantization="int8", precision="float32")
        else:  # "auto" as the settings' default: int8 too where the CPU has no bfloat16
            quantization = "auto" if precision == "auto" else "none"
            embedder = build_embedder(args.embedder, quantization, precision=precision)
        embedder.warm_up()  # model loading is not ingestion
        resolved = (
            "int8"
            if getattr(embedder, "quantization", "none") == "int8"
            else getattr(embedder, "precision", precision)
        )
        first, again = _ingest_twice(args, embedder, int(group) if group else None)
        stages = first.stage_seconds
        label = resolved if resolved == precision else f"{precision} ({resolved})"
        label += f", {group} per call" if group else ""
        print(
            f"| {label} | first ingestion, {first.pages} pages, {first.chunks} chunks | "
            f"{first.seconds:.1f} | {first.pages_per_second:.2f} | {stages['read']:.1f} | "
            f"{stages['chunk']:.1f} | {stages['embed']:.1f} | {stages['store']:.1f} |"
        )
        without_embedding = first.seconds - stages["embed"]
        print(
            f"| {label} | embedding excluded | {without_embedding:.1f} | "
            f"{first.pages / without_embedding:.1f} | | | | |"
        )
        print(
            f"| {label} | second run, {len(again.skipped)} files unchanged | "
            f"{again.seconds:.2f} | | | | | |"
        )
        for failure in first.failed:
            print(f"FAILED {failure.file}: {failure.reason}")
        if baseline is None:
            baseline = first.pages_per_second
        else:
            print(
                f"speed-up of {label} over {args.precision[0]}: "
                f"{first.pages_per_second / baseline:.2f}x"
            )
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")
    return 0


def _run_spec(value: str) -> str:
    precision, _, group = value.partition("/")
    if precision not in ("auto", "float32", "bfloat16", "int8"):
        raise argparse.ArgumentTypeError(f"unknown precision {precision!r}")
    if group and (not group.isdigit() or int(group) < 1):
        raise argparse.ArgumentTypeError(f"passages per call must be a positive integer: {group!r}")
    return value


def _ingest_twice(
    args: argparse.Namespace, embedder: Embedder, group: int | None
) -> tuple[IngestionReport, IngestionReport]:
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as directory:
        store = EmbeddedStore(args.keep or Path(directory), embedding_model=embedder.model_name)
        pipeline = IngestionPipeline(
            store,
            embedder,
            chunker=SectionChunker(args.chunk_size, args.chunk_overlap),
            catalog=load_document_catalog(),
            progress=False,
            batch_size=group or IngestionPipeline.DEFAULT_BATCH_SIZE,
        )
        try:
            return pipeline.run([args.corpus]), pipeline.run([args.corpus])
        finally:
            store.close()


def cpu_model() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    raise SystemExit(main())
