"""Build the corpus PDFs: `python -m knowledge.corpus build [--out DIR]`, or `... stats`.

`... label QUESTIONS.jsonl...` adds to each evaluation question the other pages of its product
that print its reference answer (`also_answered_on`), from the PDFs built in `--out`.
"""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from knowledge.corpus.alternates import label_questions
from knowledge.corpus.errors import CorpusError
from knowledge.corpus.markdown_source import read_source
from knowledge.corpus.pdf_builder import build_corpus, find_sources, render_pdf

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_SOURCES = PACKAGE_DIR / "sources"
DEFAULT_OUT = PACKAGE_DIR.parents[1] / "build" / "corpus"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.corpus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build every source into PDF files")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    stats = commands.add_parser("stats", help="print the number of pages of each document")
    label = commands.add_parser(
        "label", help="list the other pages that answer each question (also_answered_on)"
    )
    label.add_argument("questions", type=Path, nargs="+", help="questions JSONL files, rewritten")
    label.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the built PDFs")
    for command in (build, stats, label):
        command.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.command == "build":
        return _build(args.sources, args.out)
    if args.command == "label":
        return _label(args.questions, args.out, args.sources)
    return _stats(args.sources)


def _label(questions: list[Path], built: Path, sources: Path) -> int:
    if not any(built.rglob("*.pdf")):
        print(f"No PDF in {built}: run `python -m knowledge.corpus build` first", file=sys.stderr)
        return 2
    for path, count in label_questions(questions, built, sources).items():
        print(f"{path}: {count} questions answered on other pages too")
    return 0


def _build(sources: Path, out: Path) -> int:
    built, failures = build_corpus(sources, out)
    pages = sum(document.pages for document in built)
    print(f"Built {len(built)} documents, {pages} pages, into {out}")
    if failures:
        print(f"{failures} source(s) failed; see the errors above", file=sys.stderr)
    return 1 if failures else 0


def _stats(sources: Path) -> int:
    failures = 0
    total = 0
    count = 0
    for path in find_sources(sources):
        try:
            document = render_pdf(read_source(path))
        except CorpusError as error:
            print(f"error  {error}", file=sys.stderr)
            failures += 1
            continue
        count += 1
        total += document.pages
        print(f"{document.pages:>5}  {document.source.category}/{document.source.pdf_name}")
    print(f"{total:>5}  pages in {count} documents")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
