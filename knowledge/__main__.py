"""Command line of the knowledge base.

    python -m knowledge ingest PATH... [--store-dir DIR]
    python -m knowledge ask "question" [--product CODE] [--json]
    python -m knowledge eval --questions FILE.jsonl [--store-dir DIR] [--json]
    python -m knowledge eval --squad FILE.json [--json]

Settings come from the environment (KNOWLEDGE_*, see knowledge/settings.py); options override
them. Exit status: 0 success, 1 failure while running (a file not ingested, a store error),
2 bad arguments or input files, with one line on stderr saying why.
"""

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from knowledge.errors import DatasetError, KnowledgeError
from knowledge.interfaces import ScoredChunk, SearchFilters

PROG = "python -m knowledge"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage dump), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Knowledge base of Vergemont Assurances' documents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def store_dir(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--store-dir", type=Path, help="embedded store directory (default .run/knowledge)"
        )

    ingest = commands.add_parser("ingest", help="ingest documents (files or directories)")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    store_dir(ingest)
    ingest.add_argument("--chunk-size", type=int, help="chunk size in characters")
    ingest.add_argument("--chunk-overlap", type=int, help="chunk overlap in characters")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")

    ask = commands.add_parser("ask", help="answer a question from the documents, with sources")
    ask.add_argument("question")
    ask.add_argument("--product", metavar="CODE", help="only this product's documents")
    ask.add_argument("--category", help="only this category's documents")
    ask.add_argument("--document", metavar="FILE", help="only this document")
    ask.add_argument("--mode", choices=["bm25", "dense", "hybrid"], help="retrieval mode")
    ask.add_argument("--top-k", type=int, help="number of passages (default 4)")
    ask.add_argument(
        "--passages", action="store_true", help="only show the retrieved passages, no answer"
    )
    store_dir(ask)
    ask.add_argument("--json", action="store_true", help="print the result as JSON")

    evaluate = commands.add_parser("eval", help="measure retrieval: hit@1, hit@k, MRR@k")
    data = evaluate.add_mutually_exclusive_group(required=True)
    data.add_argument("--questions", type=Path, metavar="FILE.jsonl", help="hand-written questions")
    data.add_argument("--squad", type=Path, metavar="FILE.json", help="SQuAD-format data (PIAF)")
    store_dir(evaluate)
    evaluate.add_argument("--k", type=int, default=4, help="cut-off rank (default 4)")
    evaluate.add_argument(
        "--modes", nargs="+", choices=["bm25", "dense", "hybrid"], help="retrievers to evaluate"
    )
    evaluate.add_argument("--alpha", type=float, help="hybrid weight of dense search (0..1)")
    evaluate.add_argument("--fusion", choices=["relative_score", "rrf"], help="hybrid fusion")
    evaluate.add_argument("--limit", type=int, help="evaluate the first N questions only")
    evaluate.add_argument(
        "--product-filter",
        action="store_true",
        help="search only each question's product (its product_code field)",
    )
    evaluate.add_argument(
        "--hit",
        choices=["page", "answering-page"],
        default="page",
        help="page: a hit is the page the question was written from (default); answering-page: "
        "also the other pages of the product that print the answer (also_answered_on)",
    )
    evaluate.add_argument(
        "--judgments",
        type=Path,
        metavar="FILE.jsonl",
        help="(--questions, with --hit answering-page) people's relevance judgments: the pages "
        "judged to answer a question count as hits too",
    )
    evaluate.add_argument(
        "--report",
        type=Path,
        metavar="FILE.md",
        help="(--questions) write a markdown report with every search scope and hit rule, "
        "and a PNG chart beside it",
    )
    evaluate.add_argument(
        "--answers",
        action="store_true",
        help="(--questions) also answer every question and score it against its reference "
        "answer (ROUGE-L); uses the configured LLM (KNOWLEDGE_LLM_MODEL, empty: extractive)",
    )
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bars")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from knowledge.settings import KnowledgeSettings

    overrides: dict[str, Any] = {}
    for option, name in (
        ("store_dir", "store_dir"),
        ("chunk_size", "chunk_size"),
        ("chunk_overlap", "chunk_overlap"),
        ("alpha", "alpha"),
        ("fusion", "fusion"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            overrides[name] = value
    return KnowledgeSettings(**overrides)


def _usage_error(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


# ---------------------------------------------------------------- commands


def _ingest(args: argparse.Namespace) -> int:
    from knowledge.pipelines import build_ingestion
    from product_catalog.documents import load_document_catalog
    from product_catalog.loader import DEFAULT_PRODUCTS_DIR

    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        _usage_error(f"no such file or directory: {', '.join(missing)}")
    settings = _settings(args)
    catalog = load_document_catalog(settings.catalog_dir or DEFAULT_PRODUCTS_DIR)
    pipeline = build_ingestion(settings, catalog=catalog, progress=not args.no_progress)
    pipeline.warm_up()
    try:
        result = pipeline.run(args.paths)
    finally:
        pipeline.store.close()
    if args.json:
        payload = {
            "ingested": result.ingested,
            "skipped": result.skipped,
            "removed": result.removed,
            "failed": [{"file": f.file, "reason": f.reason} for f in result.failed],
            "pages": result.pages,
            "chunks": result.chunks,
            "seconds": round(result.seconds, 3),
            "pages_per_second": round(result.pages_per_second, 2),
            "stage_seconds": {k: round(v, 3) for k, v in result.stage_seconds.items()},
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for failure in result.failed:
            print(f"FAILED {failure.file}: {failure.reason}")
        print(result.summary())
    return 1 if result.failed else 0


def _passage(rank: int, item: ScoredChunk) -> dict[str, Any]:
    chunk = item.chunk
    return {
        "rank": rank,
        "score": round(item.score, 4),
        "document": chunk.document,
        "page": chunk.page,
        "section": chunk.section,
        "product_code": chunk.product_code,
        "category": chunk.category,
        "chunk_id": chunk.chunk_id,
        "text": chunk.text,
    }


def _ask(args: argparse.Namespace) -> int:
    from knowledge.pipelines import build_retriever

    if not args.question.strip():
        _usage_error("the question is empty")
    if args.top_k is not None and args.top_k < 1:
        _usage_error("--top-k must be at least 1")
    settings = _settings(args)
    retriever = build_retriever(settings, mode=args.mode)
    retriever.warm_up()
    if not args.passages:
        try:
            return _answer(args, settings, retriever)
        finally:
            retriever.store.close()
    filters = SearchFilters(
        product_code=args.product, category=args.category, document=args.document
    )
    try:
        found = retriever.retrieve(
            args.question, top_k=args.top_k or settings.top_k, filters=filters
        )
    finally:
        retriever.store.close()
    passages = [_passage(rank, item) for rank, item in enumerate(found, start=1)]
    if args.json:
        payload = {
            "question": args.question,
            "mode": retriever.mode,
            "filters": {k: v for k, v in vars(filters).items() if v is not None},
            "passages": passages,
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    if not passages:
        print("No passage found.")
    for passage in passages:
        where = f"{passage['document']}, page {passage['page']}"
        if passage["section"]:
            where += f" — {passage['section']}"
        print(f"{passage['rank']}. {where}  (score {passage['score']:.3f})")
        print(textwrap.indent(textwrap.fill(passage["text"], width=96), "   "))
    return 0


def _answer(args: argparse.Namespace, settings: Any, retriever: Any) -> int:
    from knowledge.pipelines import build_answer_service

    answer = build_answer_service(settings, retriever).answer(args.question, product=args.product)
    if args.json:
        payload = {
            "question": args.question,
            "answer": {
                "text": answer.text,
                "mode": answer.mode,
                "validated": answer.validated,
                "validation_score": answer.validation_score,
                "notes": list(answer.notes),
            },
            "sources": [
                {"document": s.document, "page": s.page, "score": s.score, "passage": s.passage}
                for s in answer.sources
            ],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    flag = "" if answer.validated else " — réponse du modèle indisponible ou écartée"
    print(f"Réponse ({answer.mode}{flag}) :")
    print(textwrap.indent(textwrap.fill(answer.text, width=96), "   "))
    for rank, source in enumerate(answer.sources, start=1):
        print(f"[{rank}] {source.document}, page {source.page}  (score {source.score:.3f})")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from knowledge.eval import datasets, retrieval
    from knowledge.pipelines import settings_embedder

    data_file: Path = args.questions or args.squad
    if not data_file.is_file():
        _usage_error(f"no such file: {data_file}")
    if args.k < 1 or (args.limit is not None and args.limit < 1):
        _usage_error("--k and --limit must be at least 1")
    if args.judgments and (args.squad or args.hit != "answering-page"):
        _usage_error("--judgments goes with --questions and --hit answering-page")
    if args.judgments and not args.judgments.is_file():
        _usage_error(f"no such file: {args.judgments}")
    settings = _settings(args)
    modes = tuple(args.modes or retrieval.MODES)
    embedder = None
    if any(mode != "bm25" for mode in modes):
        embedder = settings_embedder(settings)
        embedder.warm_up()
    options: dict[str, Any] = {
        "k": args.k,
        "modes": modes,
        "alpha": settings.alpha,
        "fusion": settings.fusion,
        "progress": not args.no_progress,
        "distinct_pages": settings.distinct_pages,
    }
    try:
        if args.squad:
            metrics = retrieval.evaluate_squad(args.squad, embedder, limit=args.limit, **options)
            context: dict[str, Any] = {"data": str(args.squad)}
        else:
            questions = datasets.load_questions(args.questions)[: args.limit]
            if args.judgments:
                judgments = datasets.load_judgments(args.judgments)
                if args.limit:  # judgments of the questions left out are not errors then
                    asked = {question.question for question in questions}
                    judgments = [j for j in judgments if j.question in asked]
                questions = datasets.with_judgments(questions, judgments)
            metrics, context = _eval_questions(args, settings, embedder, questions, options)
    except DatasetError as exc:
        _usage_error(str(exc))
    context.update(
        embedding_model=settings.embedding_model if embedder else None,
        alpha=settings.alpha,
        fusion=settings.fusion,
    )
    if args.json:
        print(json.dumps(retrieval.report(metrics, **context), ensure_ascii=False, indent=2))
    else:
        first = next(iter(metrics.values()))
        print(f"{first.questions} questions, k={first.k}, {context['data']}")
        print(retrieval.as_table(metrics))
    return 0


def _eval_questions(
    args: argparse.Namespace,
    settings: Any,
    embedder: Any,
    questions: list[Any],
    options: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    from knowledge.eval import retrieval
    from knowledge.eval.answers import evaluate_answers
    from knowledge.eval.report import retrieval_runs, write_report
    from knowledge.pipelines import build_answer_service, build_retriever
    from knowledge.stores import create_store

    store = create_store(settings)
    store.warm_up()
    try:
        if store.count() == 0:
            raise KnowledgeError(
                f"the store in {settings.store_dir} is empty: run `{PROG} ingest` first"
            )
        hit: retrieval.HitRule = "page" if args.hit == "page" else "answering_page"
        metrics = retrieval.evaluate_questions(
            store, embedder, questions, product_filter=args.product_filter, hit=hit, **options
        )
        context: dict[str, Any] = {
            "data": str(args.questions),
            "store_dir": str(settings.store_dir),
            "product_filter": args.product_filter,
            "hit": args.hit,
            "judgments": str(args.judgments) if args.judgments else None,
        }
        answers = None
        if args.answers:
            retriever = build_retriever(settings, store=store, embedder=embedder)
            service = build_answer_service(settings, retriever)
            answers = evaluate_answers(
                service,
                questions,
                product_filter=args.product_filter,
                progress=options["progress"],
            )
            context["answers"] = answers.as_dict()
        if args.report:
            runs = retrieval_runs(store, embedder, questions, **options)
            report_context = {
                **context,
                "embedding_model": getattr(embedder, "model_name", None),
                "alpha": settings.alpha,
                "fusion": settings.fusion,
                "llm_model": settings.llm_model,
                "answers_product_filter": args.product_filter,
            }
            written = write_report(args.report, runs, answers, report_context)
            context["report"] = [str(path) for path in written]
    finally:
        store.close()
    return metrics, context


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    commands = {"ingest": _ingest, "ask": _ask, "eval": _eval}
    try:
        return commands[args.command](args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        _usage_error(f"invalid settings: {problems}")
    except KnowledgeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
