"""The data steps of the workflow without a large model: templated generation, page-level
splits, and the export of the committed data sets (`finetune/data/`).

    python -m finetune generate --method templates [--reader]   # generation/triplets.jsonl
    python -m finetune clean                                     # dataset/clean.jsonl
    python -m finetune split [--export]                          # dataset/<split>*.jsonl

`split` puts every triplet in the split of its page (`knowledge/eval/splits.json`'s rule): the
answerable ones in `dataset/{train,dev,test}.jsonl` (and `heldout.jsonl`: dev and test, what the
retriever and LoRA steps read), the refusal ones apart in `*-unanswerable.jsonl` so that no
step takes a question paired with a passage that does not answer it for a retrieval hit.
`--export` writes the generated set to `finetune/data/` with its report, refreshes the
calibration and robustness sets and rebuilds the split manifest.
"""

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.hashing import file_sha256
from finetune.errors import FinetuneError
from finetune.records import Triplet, read_triplets, write_jsonl, write_triplets
from finetune.sources import (
    CALIBRATION_FILE,
    DATA_DIR,
    GENERATED_FILE,
    GENERATED_REPORT_FILE,
    GENERATED_UNANSWERABLE_FILE,
    ROBUSTNESS_FILE,
    handwritten_files,
    load_handwritten,
    page_split,
    questions_to_triplets,
    with_split,
)
from knowledge.eval.splits import SPLITS, Split

logger = logging.getLogger(__name__)

READER_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "artifacts" / "reader"


def step_generate_templates(
    ws: Any,
    *,
    limit: int | None = None,
    reader: bool = False,
    reader_threads: int | None = 1,
    max_per_context: int = 5,
    refusal_share: float = 0.25,
) -> dict[str, Any]:
    """Templated pairs over the passages of `contexts.jsonl` (resumable), then refusal pairs;
    all into `generation/triplets.jsonl`, counts into `generation/report.json`."""
    from finetune.generation import (
        ReaderProposer,
        RefusalSettings,
        TemplateDatasetGenerator,
        refusal_triplets,
    )
    from finetune.pipeline import load_contexts, sample_contexts
    from finetune.templates import TemplateWriter, product_names

    started = time.perf_counter()
    every = load_contexts(ws)
    contexts = sample_contexts(every, limit)
    proposer = ReaderProposer(READER_DIR, threads=reader_threads) if reader else None
    runner = TemplateDatasetGenerator(
        ws.root / "generation",
        writer=TemplateWriter(product_names(every), max_per_context=max_per_context),
        proposer=proposer,
        on_progress=lambda i, n: logger.info("templates %d/%d", i, n),
    )
    report = runner.run(contexts)
    answerable = runner.triplets()
    refusals = list(
        refusal_triplets(answerable, every, page_split, RefusalSettings(share=refusal_share))
    )
    written = write_triplets(ws.path("generation", "triplets.jsonl"), [*answerable, *refusals])
    summary: dict[str, Any] = {
        **report.as_dict(),
        "method": "templates",
        "max_per_context": max_per_context,
        "triplets": written,
        "answerable_triplets": len(answerable),
        "refusal_triplets": len(refusals),
        "refusal_share": refusal_share,
        "templates": dict(sorted(Counter(t.provenance.template for t in answerable).items())),
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    if proposer is not None:
        read = [t for t in answerable if "reader_agrees" in t.scores]
        summary["reader"] = {
            "artifact": str(READER_DIR),
            "threshold": proposer.threshold,
            "read": len(read),
            "agrees": sum(1 for t in read if t.scores["reader_agrees"] == 1.0),
            "confident_elsewhere": sum(
                1
                for t in read
                if t.scores["reader_agrees"] == 0.0
                and t.scores["reader_confidence"] >= proposer.threshold
            ),
        }
    ws.write_json(summary, "generation", "report.json")
    return summary


# ---------------------------------------------------------------- splits


def by_split(triplets: Sequence[Triplet]) -> dict[Split, list[Triplet]]:
    groups: dict[Split, list[Triplet]] = {split: [] for split in SPLITS}
    for triplet in triplets:
        p = triplet.provenance
        groups[page_split(p.document, p.page)].append(triplet)
    return groups


def crossing_pages(groups: dict[Split, list[Triplet]]) -> list[str]:
    """Pages found in two splits (a refusal's question page counts too): must be empty."""
    seen: dict[str, set[Split]] = {}
    for split, triplets in groups.items():
        for t in triplets:
            p = t.provenance
            for key in filter(None, (f"{p.document}#{p.page}", p.origin)):
                seen.setdefault(key, set()).add(split)
    return sorted(key for key, splits in seen.items() if len(splits) > 1)


def step_split(
    ws: Any, *, use_handwritten: bool = True, export: bool = False, data_dir: Path = DATA_DIR
) -> dict[str, Any]:
    """Generated (reviewed, else cleaned) and hand-written triplets by the split of their page."""
    from finetune.pipeline import load_contexts

    contexts = load_contexts(ws)
    reviewed = ws.root / "dataset" / "reviewed.jsonl"
    cleaned = ws.root / "dataset" / "clean.jsonl"
    source = reviewed if reviewed.exists() else cleaned
    generated: list[Triplet] = read_triplets(source)[0] if source.exists() else []
    handwritten: list[Triplet] = []
    missing = 0
    if use_handwritten:
        handwritten, missing = questions_to_triplets(
            load_handwritten(handwritten_files()), contexts
        )
    answerable = [t for t in generated if not t.is_refusal] + handwritten
    refusals = [t for t in generated if t.is_refusal]
    groups, refusal_groups = by_split(answerable), by_split(refusals)
    crossing = crossing_pages({s: groups[s] + refusal_groups[s] for s in SPLITS})
    if crossing:
        raise FinetuneError(f"pages on two sides of the split: {', '.join(crossing[:5])}")
    for split in SPLITS:
        write_triplets(ws.path("dataset", f"{split}.jsonl"), groups[split])
        write_triplets(ws.path("dataset", f"{split}-unanswerable.jsonl"), refusal_groups[split])
    write_triplets(ws.path("dataset", "heldout.jsonl"), groups["dev"] + groups["test"])
    write_triplets(
        ws.path("dataset", "heldout-unanswerable.jsonl"),
        refusal_groups["dev"] + refusal_groups["test"],
    )
    summary: dict[str, Any] = {
        "rule": "the split of a triplet is the split of its page (knowledge/eval/splits.json); "
        "held out = dev + test",
        "source": str(source) if source.exists() else None,
        "generated": len(generated),
        "handwritten_without_context": missing,
        "counts": {
            split: {
                "generated": sum(
                    1 for t in groups[split] if t.provenance.source.startswith(("templates", "llm"))
                ),
                "handwritten": sum(
                    1 for t in groups[split] if t.provenance.source.startswith("handwritten")
                ),
                "refusals": len(refusal_groups[split]),
                "pages": len({(t.provenance.document, t.provenance.page) for t in groups[split]}),
            }
            for split in SPLITS
        },
        "train": len(groups["train"]),
        "held_out": len(groups["dev"]) + len(groups["test"]),
    }
    ws.write_json(summary, "dataset", "splits.json")
    if export:
        summary["exported"] = export_data(ws, generated, data_dir)
    return summary


# ---------------------------------------------------------------- export


def export_data(ws: Any, generated: Sequence[Triplet], data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """The generated set into `data_dir` (split written on each line), its report, the
    calibration and robustness sets refreshed, and the split manifest rebuilt."""
    from finetune.eval_data import refresh_robustness, write_calibration_set
    from knowledge.eval import splits

    answerable_path = data_dir / GENERATED_FILE.name
    refusal_path = data_dir / GENERATED_UNANSWERABLE_FILE.name
    answerable = [t for t in generated if not t.is_refusal]
    refusals = [t for t in generated if t.is_refusal]
    write_jsonl(answerable_path, (with_split(t) for t in answerable))
    write_jsonl(refusal_path, (with_split(t) for t in refusals))
    report: dict[str, Any] = {}
    for key, name in (
        ("generation", "generation/report.json"),
        ("cleaning", "dataset/cleaning.json"),
        ("splits", "dataset/splits.json"),
    ):
        path = ws.root / name
        if path.exists():
            report[key] = json.loads(path.read_text(encoding="utf-8"))
    contexts = ws.root / "contexts.json"
    if contexts.exists():
        report["contexts"] = json.loads(contexts.read_text(encoding="utf-8"))
    report["files"] = {
        path.name: {"lines": count, "sha256": file_sha256(path)}
        for path, count in ((answerable_path, len(answerable)), (refusal_path, len(refusals)))
    }
    report["by_split"] = {
        split: {
            "answerable": sum(1 for t in answerable if _split_of(t) == split),
            "refusals": sum(1 for t in refusals if _split_of(t) == split),
        }
        for split in SPLITS
    }
    report["kinds"] = dict(
        sorted(Counter(t.provenance.source.split(":")[-1] for t in answerable).items())
    )
    (data_dir / GENERATED_REPORT_FILE.name).write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    calibration = write_calibration_set(data_dir / CALIBRATION_FILE.name)
    robustness = refresh_robustness(data_dir / ROBUSTNESS_FILE.name)
    if data_dir == DATA_DIR:
        splits.write(splits.build())
    return {
        "generated": len(answerable),
        "refusals": len(refusals),
        "calibration": calibration,
        "robustness": robustness,
        "manifest_rebuilt": data_dir == DATA_DIR,
    }


def _split_of(triplet: Triplet) -> Split:
    return page_split(triplet.provenance.document, triplet.provenance.page)
