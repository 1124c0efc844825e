"""Train and measure the abstention model (knowledge/abstention.py).

    python -m knowledge.eval.abstention [--store-dir DIR] [--report docs/knowledge-eval.md]

Data, by the page-level split manifest (knowledge/eval/splits.json) and files of other writers:
- fitted on the team's answerable questions of the *train* pages and a new writer's
  (`tests/knowledge/questions/train-fresh.jsonl`), asked with their product as the chat asks
  them, against the unanswerable questions written for training only
  (`tests/knowledge/unanswerable/train*.jsonl`, all documents);
- decision threshold chosen on the *dev* pages' answerable questions, the team's and a new
  writer's (`questions/dev-fresh.jsonl`): the highest whose false abstention stays at or below
  MAX_DEV_FALSE_ABSTENTION; the dev abstention is measured on the manifest's dev unanswerable
  questions, on `dev-extra.jsonl` and on `dev-fresh.jsonl` (other writers', by kind: near misses
  about a product sold, products not sold, the company, off topic);
- measured once on the *test* split, against the former rule (a best sentence sharing too few
  words) in the same run.

Writes knowledge/artifacts/abstention/model.json, or model-int8.json when the store's vectors
are int8 (KNOWLEDGE_EMBEDDING_QUANTIZATION=int8 and a store ingested so), with its provenance and,
with --report, its
section of the report.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from common.hashing import file_sha256
from knowledge.abstention import (
    FEATURES,
    SELECTOR_FEATURES,
    AbstentionModel,
    fit_logistic,
    model_file,
    signals,
)
from knowledge.errors import DatasetError, KnowledgeError
from knowledge.eval.datasets import Question, load_questions
from knowledge.eval.report import SECTION_MARKER, write_section
from knowledge.eval.splits import (
    MANIFEST,
    REPO,
    Manifest,
    Split,
    data_file_name,
    page_rule,
    question_lines,
)
from knowledge.extractive import extractive_answer
from knowledge.interfaces import SearchFilters
from knowledge.pipelines import selector_candidates, selector_precision, selector_weights_sha256
from knowledge.qa.train import git_commit
from knowledge.rerank.reranker import SentenceSelector
from knowledge.retrieval import StoreRetriever
from knowledge.settings import ABSTENTION_DIR

logger = logging.getLogger(__name__)

UNANSWERABLE_DIR = REPO / "tests/knowledge/unanswerable"
QUESTIONS_DIR = REPO / "tests/knowledge/questions"
TRAIN_UNANSWERABLE = (
    UNANSWERABLE_DIR / "train.jsonl",
    UNANSWERABLE_DIR / "train-extra.jsonl",
    UNANSWERABLE_DIR / "train-fresh.jsonl",
)
# Dev only and test only, beside the manifest's dev and test splits of `questions.jsonl`.
DEV_UNANSWERABLE_EXTRA = UNANSWERABLE_DIR / "dev-extra.jsonl"
TEST_UNANSWERABLE_EXTRA = UNANSWERABLE_DIR / "test-extra.jsonl"
# New writers' answerable questions in real people's variety (texting, long stories, slang),
# beside the manifest's: the train file's join the fit, the dev file's the threshold choice.
# They are the abstention model's only (the manifest, and so the selector's and the reader's
# splits, do not list them); each question's page must lie in the file's split.
TRAIN_ANSWERABLE_FRESH = QUESTIONS_DIR / "train-fresh.jsonl"
DEV_ANSWERABLE_FRESH = QUESTIONS_DIR / "dev-fresh.jsonl"
DEV_UNANSWERABLE_FRESH = UNANSWERABLE_DIR / "dev-fresh.jsonl"
SECTION = f"{SECTION_MARKER}python -m knowledge.eval.abstention -->"
SECTION_INT8 = f"{SECTION_MARKER}python -m knowledge.eval.abstention, int8 vectors -->"
# The product asks for at most 10 % of answerable questions refused; half of it on dev leaves
# room for the difference between dev (50 questions) and what people ask.
MAX_DEV_FALSE_ABSTENTION = 0.05
TOP_K = 4
# The former rule, AnswerService.min_retrieval_overlap's default.
OVERLAP_RULE = 0.3
# The selector's score of a question with no sentence to choose from (below any it gives).
NO_SCORE = -10.0


def _questions(manifest: Manifest, split: str) -> list[Question]:
    from knowledge.qa.evaluate import questions_by_split

    return questions_by_split(manifest, split)  # type: ignore[arg-type]


def fresh_questions(path: Path, split: Split) -> list[Question]:
    """The answerable questions of a new writer's file, each on a page of `split` (a page of
    another split is an error: it would leak held-out pages into the fit or the choice)."""
    questions = load_questions(path)
    for number, question in enumerate(questions, start=1):  # the file's line numbers
        found = page_rule(question.document, question.page)
        if found != split:
            raise DatasetError(
                str(path), number, f"page {question.document}#{question.page} is in {found}"
            )
    return [question for question in questions if question.answer]


def observe(
    retriever: StoreRetriever,
    question: str,
    product: str | None,
    selector: SentenceSelector | None = None,
) -> tuple[tuple[float, ...], float]:
    """The model's signals for one question (SELECTOR_FEATURES with a selector, FEATURES
    without), and the former rule's overlap, as AnswerService computes them (same retrieval,
    same extraction, same selection)."""
    filters = SearchFilters(product_code=product) if product else None
    chunks = retriever.retrieve(question, top_k=TOP_K, filters=filters)
    _, extract = extractive_answer(question, chunks)
    similarity = retriever.similarity(question, filters) or 0.0
    unknown = retriever.unknown_share(question, filters)
    score = None
    if selector is not None:
        # Nothing to choose from scores as the lowest choice (the service refuses it anyway).
        chosen = selector.choose(question, chunks, 0.0) if extract else None
        score = chosen.selector_score if chosen and chosen.selector_score is not None else NO_SCORE
    values = signals(question, chunks, extract, similarity, unknown, score)
    return values, (extract.overlap if extract else 0.0)


def _observe_all(
    retriever: StoreRetriever,
    answerable: Sequence[Question],
    unanswerable: Sequence[str],
    selector: SentenceSelector | None,
) -> list[tuple[tuple[float, ...], float, int]]:
    rows = [(*observe(retriever, q.question, q.product_code, selector), 1) for q in answerable]
    rows += [(*observe(retriever, text, None, selector), 0) for text in unanswerable]
    return rows


def choose_threshold(model: AbstentionModel, rows: Sequence[tuple[Any, float, int]]) -> float:
    """The highest threshold whose false abstention on `rows`' answerable questions stays at or
    below MAX_DEV_FALSE_ABSTENTION (the probabilities themselves are the candidates)."""
    answerable = sorted(model.probability(values) for values, _, label in rows if label == 1)
    allowed = math.floor(MAX_DEV_FALSE_ABSTENTION * len(answerable))
    # Abstaining below the (allowed+1)-th lowest probability refuses exactly `allowed` of them.
    return round(answerable[allowed] - 1e-6, 6) if answerable else 0.5


def rates(decisions: Sequence[tuple[bool, int]]) -> dict[str, Any]:
    """False abstention on the answerable questions, abstention on the unanswerable ones, with
    95 % Wilson intervals."""
    answerable = [abstained for abstained, label in decisions if label == 1]
    unanswerable = [abstained for abstained, label in decisions if label == 0]
    return {
        "answerable": len(answerable),
        "false_abstention": _rate(sum(answerable), len(answerable)),
        "unanswerable": len(unanswerable),
        "abstention": _rate(sum(unanswerable), len(unanswerable)),
    }


def by_kind(
    decisions: Sequence[tuple[bool, int]], questions: Sequence[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """`rates` of each kind of question (`unanswerable_file`'s order)."""
    kinds = sorted({kind for _, kind in questions})
    return {
        kind: rates([d for d, (_, k) in zip(decisions, questions, strict=True) if k == kind])
        for kind in kinds
    }


def _rate(k: int, n: int) -> dict[str, float | int]:
    if n == 0:
        return {"k": 0, "n": 0, "rate": 0.0, "low": 0.0, "high": 0.0}
    z, p = 1.96, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {
        "k": k,
        "n": n,
        "rate": round(p, 4),
        "low": round(max(0.0, centre - half), 4),
        "high": round(min(1.0, centre + half), 4),
    }


def _mean_rouge(
    retriever: StoreRetriever,
    questions: Sequence[Question],
    model: AbstentionModel | None,
    selector: SentenceSelector | None = None,
    selector_model: AbstentionModel | None = None,
) -> float:
    """ROUGE-L of the chat's default answer (sentence extraction, chosen by `selector` when
    given) against the reference answers, a refusal scoring what its sentence shares with the
    reference."""
    from knowledge.answering import AnswerService
    from knowledge.eval.answers import rouge_l
    from knowledge.validation import AnswerValidator

    service = AnswerService(
        retriever,
        AnswerValidator(),
        abstention=model,
        sentence_selector=selector,
        selector_abstention=selector_model,
    )
    scores = [
        rouge_l(service.answer(q.question, q.product_code).text, q.answer or "") for q in questions
    ]
    return round(sum(scores) / max(1, len(scores)), 4)


def unanswerable_file(path: Path) -> list[tuple[str, str]]:
    """(question, kind) of an unanswerable question file; kind "" when the file has none."""
    return [
        (str(item["question"]), str(item.get("kind") or ""))
        for item in question_lines(path)
        if str(item["question"]).strip()
    ]


def _unanswerable_training() -> list[str]:
    return [question for path in TRAIN_UNANSWERABLE for question, _ in unanswerable_file(path)]


def _open(store_dir: Path) -> tuple[Any, StoreRetriever, Any, SentenceSelector | None]:
    """The settings, the retriever, the store of `store_dir` (KNOWLEDGE_* for the rest) and the
    sentence selector the service would use (None when it is off)."""
    from knowledge.pipelines import build_sentence_selector, open_built_retriever
    from knowledge.settings import KnowledgeSettings

    settings = KnowledgeSettings(store_dir=store_dir, llm_model="")
    retriever, store = open_built_retriever(settings)
    return settings, retriever, store, build_sentence_selector(settings)


def check(store_dir: Path, model_dir: Path) -> dict[str, Any]:
    """The models of `model_dir` as they are (with and without the selector's score), measured
    on the test split over the store of `store_dir` (e.g. one embedded in int8 on a CPU without
    bfloat16); nothing is written."""
    _, retriever, store, selector = _open(store_dir)
    quantization = str(getattr(retriever.embedder, "quantization", "none"))
    manifest = Manifest.load(MANIFEST)
    test = _observe_all(
        retriever, _questions(manifest, "test"), manifest.unanswerable("test"), selector
    )
    embedder = getattr(retriever.embedder, "model_name", "")
    store.close()
    result: dict[str, Any] = {"embedder": embedder}
    for with_selector in (False, True) if selector else (False,):
        model = AbstentionModel.load(model_dir, quantization, with_selector)
        size = len(model.features)
        decisions = [(not model.answers(values[:size]), label) for values, _, label in test]
        result[model_file(quantization, with_selector)] = rates(decisions)
    return result


def _fit(
    train: Sequence[tuple[tuple[float, ...], float, int]],
    dev: Sequence[tuple[tuple[float, ...], float, int]],
    features: tuple[str, ...],
) -> AbstentionModel:
    """Fitted on `train`'s first len(features) signals, threshold chosen on `dev`."""
    size = len(features)
    weights, bias, means, scales = fit_logistic(
        [values[:size] for values, _, _ in train], [label for _, _, label in train]
    )
    model = AbstentionModel(weights, bias, means, scales, 0.5, features)
    cut = [(values[:size], overlap, label) for values, overlap, label in dev]
    return replace(model, threshold=choose_threshold(model, cut))


def run(store_dir: Path, out: Path, command: str) -> list[dict[str, Any]]:
    """Fit on train, choose the threshold on dev, measure on test, save: the model without the
    selector's score and, when the selector is on, the model with it. Returns their
    provenances, in that order."""
    manifest = Manifest.load(MANIFEST)
    settings, retriever, store, selector = _open(store_dir)
    chunks = store.count()
    started = time.monotonic()

    def observed(answerable: Sequence[Question], unanswerable: Sequence[str]) -> list[Any]:
        return _observe_all(retriever, answerable, unanswerable, selector)

    train = observed(
        _questions(manifest, "train") + fresh_questions(TRAIN_ANSWERABLE_FRESH, "train"),
        _unanswerable_training(),
    )
    dev_fresh_questions = fresh_questions(DEV_ANSWERABLE_FRESH, "dev")
    fresh_unanswerable = unanswerable_file(DEV_UNANSWERABLE_FRESH)
    dev_fresh = observed(dev_fresh_questions, [question for question, _ in fresh_unanswerable])
    # The threshold is chosen on the team's dev questions and the new writer's together.
    dev = observed(_questions(manifest, "dev"), manifest.unanswerable("dev"))
    dev += [row for row in dev_fresh if row[2] == 1]
    extra = unanswerable_file(DEV_UNANSWERABLE_EXTRA)
    dev_extra = observed([], [question for question, _ in extra])
    test_questions = _questions(manifest, "test")
    test = observed(test_questions, manifest.unanswerable("test"))
    held_out = unanswerable_file(TEST_UNANSWERABLE_EXTRA)
    test_extra = observed([], [question for question, _ in held_out])
    base = _fit(train, dev, FEATURES)
    fitted = [base] + ([_fit(train, dev, SELECTOR_FEATURES)] if selector else [])
    rouge = {
        "overlap_rule": _mean_rouge(retriever, test_questions, None),
        "model": _mean_rouge(retriever, test_questions, base),
    }
    if selector:
        rouge["selector_model"] = _mean_rouge(retriever, test_questions, base, selector, fitted[-1])
    embedder = str(getattr(retriever.embedder, "model_name", settings.embedding_model))
    quantization = str(getattr(retriever.embedder, "quantization", "none"))
    store.close()

    def rule_decisions(rows: Sequence[tuple[Any, float, int]]) -> list[tuple[bool, int]]:
        return [(overlap < OVERLAP_RULE, label) for _, overlap, label in rows]

    data: dict[str, Any] = {
        "manifest": {"file": data_file_name(MANIFEST), "sha256": file_sha256(MANIFEST)},
        "train_unanswerable": [
            {"file": data_file_name(path), "sha256": file_sha256(path)}
            for path in TRAIN_UNANSWERABLE
        ],
        "unanswerable_extra": [
            {"file": data_file_name(path), "sha256": file_sha256(path)}
            for path in (DEV_UNANSWERABLE_EXTRA, DEV_UNANSWERABLE_FRESH, TEST_UNANSWERABLE_EXTRA)
        ],
        "answerable_fresh": [
            {"file": data_file_name(path), "sha256": file_sha256(path)}
            for path in (TRAIN_ANSWERABLE_FRESH, DEV_ANSWERABLE_FRESH)
        ],
        "train": "own answerable questions of the train pages + train-fresh.jsonl's + the "
        "training files",
        "dev": "own answerable questions of the dev pages + dev-fresh.jsonl's (threshold) + the "
        "dev unanswerable questions; dev_extra and dev_fresh: the dev-only files of other "
        "writers, measured",
        "test_extra": "the test-only unanswerable file of a fourth writer, measured once",
        "test": "own answerable questions of the test pages + the test unanswerable ones",
        "retrieval": f"hybrid top {TOP_K}, answerable questions with their product filter, "
        "unanswerable ones on all documents",
        "store": {"embedding_model": settings.embedding_model, "chunks": chunks},
        "embedder": embedder,
        "quantization": quantization,
    }
    provenances = []
    for model in fitted:
        size = len(model.features)

        def decisions(
            rows: Sequence[tuple[Any, float, int]], model: AbstentionModel = model, size: int = size
        ) -> list[tuple[bool, int]]:
            return [(not model.answers(values[:size]), label) for values, _, label in rows]

        metrics = {
            "train": rates(decisions(train)),
            "dev": rates(decisions(dev)),
            "dev_extra": rates(decisions(dev_extra)),
            "dev_extra_by_kind": by_kind(decisions(dev_extra), extra),
            "dev_fresh": rates(decisions(dev_fresh)),
            "dev_fresh_by_kind": by_kind(
                decisions([row for row in dev_fresh if row[2] == 0]), fresh_unanswerable
            ),
            "test_extra": rates(decisions(test_extra)),
            "test_extra_by_kind": by_kind(decisions(test_extra), held_out),
            "test": rates(decisions(test)),
            "test_overlap_rule": rates(rule_decisions(test)),
            "dev_overlap_rule": rates(rule_decisions(dev)),
            "test_rouge_l_answerable": rouge,
        }
        more: dict[str, Any] = {}
        if model.reads_selector:
            more["selector"] = {
                "artifact": data_file_name(settings.sentence_selector_dir),
                "sha256": selector_weights_sha256(settings),
                "quantization": settings.sentence_selector_quantization,
                "precision": selector_precision(settings),
                "candidates": selector_candidates(settings),
                "quantity_bonus": settings.sentence_selector_quantity_bonus,
            }
        provenance = {
            "command": command,
            "git_commit": git_commit(),
            "trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {"cpu": _cpu(), "python": platform.python_version()},
            "seconds": round(time.monotonic() - started, 1),
            "features": list(model.features),
            "fit": "L2-regularised logistic regression (lambda 1, Newton), standardised signals",
            "threshold_rule": (
                f"highest threshold with dev false abstention <= {MAX_DEV_FALSE_ABSTENTION}"
            ),
            "data": data | more,
            "metrics": metrics,
        }
        replace(model, provenance=provenance).save(out, quantization)
        provenances.append(provenance)
    return provenances


def _cpu() -> str:
    from benchmarks.bench_ingestion import cpu_model

    return cpu_model()


def _cell(rate: dict[str, Any]) -> str:
    return (
        f"{100 * rate['rate']:.1f} % [{100 * rate['low']:.1f}–{100 * rate['high']:.1f}] "
        f"({rate['k']}/{rate['n']})"
    )


def _name(model: AbstentionModel) -> str:
    if model.reads_selector:
        return "with the selector's score (when the selector runs: the default)"
    return "without the selector's score (selector off or busy)"


def markdown(provenances: Sequence[dict[str, Any]], models: Sequence[AbstentionModel]) -> str:
    """The report's section for the models of one quantization (`run`'s order)."""
    provenance = provenances[0]
    metrics = provenance["metrics"]
    fresh = "dev_fresh" in metrics  # fitted since the new writers' files exist
    quantization = provenance["data"]["quantization"]
    rows = [("former rule: best sentence overlap < 0.3", metrics["test_overlap_rule"])]
    rows += [
        (f"abstention model {_name(model)}", fitted["metrics"]["test"])
        for fitted, model in zip(provenances, models, strict=True)
    ]
    described = "; ".join(
        f"`knowledge/artifacts/abstention/"
        f"{model_file(quantization, m.reads_selector)}` "
        f"(signals {', '.join(m.features)}; weights {list(m.weights)}, "
        f"threshold {m.threshold})"
        for m in models
    )
    lines = [
        SECTION_INT8 if quantization == "int8" else SECTION,
        "",
        "## Abstention: when the documents do not answer"
        + (" (int8 vectors)" if quantization == "int8" else ""),
        "",
        f"Generated by `{provenance['command']}` on {provenance['trained_at']}; machine: "
        f"{provenance['machine']['cpu']}; vectors of `{provenance['data']['embedder']}`. "
        f"Models: {described}. Fitted on the {metrics['train']['answerable']} "
        "answerable questions of the train pages (the team's"
        + (" and `tests/knowledge/questions/train-fresh.jsonl`" if fresh else "")
        + f") and the {metrics['train']['unanswerable']} "
        "unanswerable training questions (`tests/knowledge/unanswerable/train*.jsonl`); "
        f"thresholds chosen on the {metrics['dev']['answerable']} answerable questions of the "
        "dev pages (the team's"
        + (" and `questions/dev-fresh.jsonl`" if fresh else "")
        + f"; {provenance['threshold_rule']}); measured once on the test split. "
        "Answerable questions are asked with their product, unanswerable ones on all "
        "documents; intervals: 95 % Wilson.",
        "",
        "| test split | false abstention (answerable) | abstention (unanswerable) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {_cell(r['false_abstention'])} | {_cell(r['abstention'])} |"
        for name, r in rows
    ]
    rouge = metrics["test_rouge_l_answerable"]
    selected = (
        f", {rouge['selector_model']} with the selector choosing the sentence and the model with "
        "its score"
        if "selector_model" in rouge
        else ""
    )
    lines += [
        "",
        f"ROUGE-L of the chat's answer (sentence extraction) on the "
        f"{metrics['test']['answerable']} answerable test questions: {rouge['overlap_rule']} "
        f"by word overlap with the former rule, {rouge['model']} with the model without the "
        f"selector's score{selected} (a false abstention scores what the refusal shares with "
        "the reference).",
        "",
    ]
    sets = (
        ("dev_extra", DEV_UNANSWERABLE_EXTRA, "dev-only unanswerable questions of another writer"),
        (
            "dev_fresh",
            DEV_UNANSWERABLE_FRESH,
            "dev-only unanswerable questions of a new writer in real people's variety",
        ),
        (
            "test_extra",
            TEST_UNANSWERABLE_EXTRA,
            "test-only unanswerable questions of a fourth writer, never used to fit or choose",
        ),
    )
    for fitted, model in zip(provenances, models, strict=True):
        found = fitted["metrics"]
        dev = found["dev"]
        lines += [
            f"Model {_name(model)}. Dev split (where the threshold was chosen): false "
            f"abstention {_cell(dev['false_abstention'])}, abstention {_cell(dev['abstention'])}.",
            "",
        ]
        for key, path, what in sets:
            if key not in found:  # models fitted before these files existed have none
                continue
            kinds = ", ".join(
                f"{kind} {_cell(rate['abstention'])}"
                for kind, rate in found[f"{key}_by_kind"].items()
            )
            answered = found[key]
            wrongly = (
                f" (the same writer's answerable questions, asked with their product: false "
                f"abstention {_cell(answered['false_abstention'])})"
                if answered["answerable"]
                else ""
            )
            lines += [
                f"- The {what} (`{data_file_name(path)}`, all documents): abstention "
                f"{_cell(answered['abstention'])}; by kind: {kinds}{wrongly}.",
            ]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.settings import KnowledgeSettings

    parser = argparse.ArgumentParser(
        prog="python -m knowledge.eval.abstention", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store-dir", type=Path, default=KnowledgeSettings().store_dir)
    parser.add_argument("--out", type=Path, default=ABSTENTION_DIR)
    parser.add_argument("--report", type=Path, help="markdown report to write the section into")
    parser.add_argument(
        "--check",
        action="store_true",
        help="measure the model in --out on the test split over --store-dir, write nothing",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # The embedding variables decide the vectors, hence which model is fitted, and the selector's
    # decide its score: part of the command.
    variables = " ".join(
        f"{name}={value}"
        for name, value in sorted(os.environ.items())
        if name.startswith(("KNOWLEDGE_EMBEDDING_", "KNOWLEDGE_SENTENCE_SELECTOR_"))
    )
    command = f"{variables} python -m knowledge.eval.abstention ".lstrip() + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.check:
        try:
            checked = check(args.store_dir, args.out)
        except KnowledgeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for name, rate in checked.items():
            if name != "embedder":
                print(
                    f"{checked['embedder']}, {name}: false abstention "
                    f"{_cell(rate['false_abstention'])}, abstention {_cell(rate['abstention'])}"
                )
        return 0
    try:
        provenances = run(args.store_dir, args.out, command.strip())
    except KnowledgeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    quantization = provenances[0]["data"]["quantization"]
    models = [
        AbstentionModel.load(args.out, quantization, "selector_score" in fitted["features"])
        for fitted in provenances
    ]
    for fitted, model in zip(provenances, models, strict=True):
        test = fitted["metrics"]["test"]
        print(
            f"{model_file(quantization, model.reads_selector)} test: false "
            f"abstention {_cell(test['false_abstention'])}, abstention {_cell(test['abstention'])}"
        )
    if args.report:
        write_section(args.report, markdown(provenances, models))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
