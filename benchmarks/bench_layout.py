"""Hard-layout PDFs: pypdf's plain extraction against the layout-aware reader, in one run.

Generates the layout set (`tests/knowledge/layout/`: documents of known text in one, two and
three columns, with tables, footnotes, hyphenated line ends, running headers and footers and
annex numbering, drawn in reading order or not) into a temporary directory, reads every
document with both readers followed by the cleaner, as ingestion does, and prints per group:

- reading order: 1 − word-level edit distance to the gold text / gold words;
- paragraphs whole: a paragraph's piece on a page found with its words contiguous and in order;
- table rows whole: a line holding exactly one row's cells, the rows in table order;
- footnotes apart: a line holding exactly one footnote (number aside);
- headings whole: "Article 4.2 — …", "Annexe 2 — …" on one line of their own.

Then the time to read and clean the 90-page booklet with each reader, per page (the best of
`--repeat` runs, so that other jobs on the machine weigh less).

    python -m benchmarks.bench_layout [--repeat 3] [--keep DIR]
"""

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench_ingestion import cpu_model
from knowledge.cleaning import TextCleaner
from knowledge.interfaces import Page
from knowledge.readers import PdfReader
from tests.knowledge.layout.builder import DocumentSpec, build
from tests.knowledge.layout.measures import Scores, score_document
from tests.knowledge.layout.specs import BOOKLET, HELD_OUT, LAYOUT_SET, VARIANTS

GROUPS: tuple[tuple[str, Sequence[DocumentSpec]], ...] = (
    ("development set (5 documents, 38 pages)", LAYOUT_SET),
    ("variants (4 documents, 32 pages)", VARIANTS),
    ("held out (4 documents, 40 pages)", HELD_OUT),
    ("90-page booklet", (BOOKLET,)),
)
READERS = (("pypdf plain extraction", False), ("layout reader", True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_layout")
    parser.add_argument("--repeat", type=int, default=3, help="timed reads of the booklet")
    parser.add_argument("--keep", type=Path, help="write the generated PDFs here and keep them")
    args = parser.parse_args(argv)

    print(
        f"CPU: {cpu_model()}, {os.cpu_count()} CPUs, AMX: {'yes' if _has_amx() else 'no'}; "
        f"Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f} (1 min) at the start"
    )
    with tempfile.TemporaryDirectory(prefix="bench-layout-") as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        print(
            "\n| documents | reader | reading order | paragraphs whole | table rows whole "
            "| footnotes apart | headings whole |"
        )
        print("|---|---|---|---|---|---|---|")
        for label, specs in GROUPS:
            built = [build(spec, directory) for spec in specs]
            for name, layout in READERS:
                total = Scores()
                for path, gold in built:
                    total.add(score_document(gold, _read(path, layout)))
                print(f"| {label} | {name} | {_row(total)} |")
        booklet = directory / f"{BOOKLET.name}.pdf"
        print("\n| 90-page booklet, read + clean | ms per page | pages per second |")
        print("|---|---|---|")
        for name, layout in READERS:
            seconds = min(_timed(booklet, layout) for _ in range(args.repeat))
            pages = BOOKLET.pages
            print(f"| {name} | {1000 * seconds / pages:.1f} | {pages / seconds:.0f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f} (1 min) at the end")
    return 0


def _read(path: Path, layout: bool) -> list[Page]:
    return TextCleaner().clean(PdfReader(layout=layout).read(path))


def _timed(path: Path, layout: bool) -> float:
    start = time.perf_counter()
    _read(path, layout)
    return time.perf_counter() - start


def _row(scores: Scores) -> str:
    counts = (scores.paragraphs, scores.rows, scores.footnotes, scores.headings)
    shares = " | ".join(f"{c.share:.3f} ({c.found}/{c.total})" for c in counts)
    return f"{scores.order:.3f} | {shares}"


def _has_amx() -> bool:
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
