"""Label the other pages that answer each evaluation question.

A question is written from one page (`document`, `page`), but the same product's FAQ or
information document often states the same facts. `label_questions` adds to each question the
list `also_answered_on` of the other pages of the same product's documents that print the
reference answer's key facts (`answer_check.page_answers`), so that retrieval evaluation can
count those pages as hits too. Pages of other products never count, even with the same wording.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from knowledge.corpus.answer_check import answering_pages, normalise
from knowledge.corpus.markdown_source import read_source
from knowledge.corpus.pdf_builder import find_sources

Pages = dict[str, list[str]]  # PDF file name -> normalised text of each page


def read_built_pages(built_dir: Path) -> Pages:
    """The normalised text of every page of every PDF under `built_dir`, by file name."""
    return {
        path.name: [normalise(page.extract_text()) for page in PdfReader(path).pages]
        for path in sorted(built_dir.rglob("*.pdf"))
    }


def product_documents(sources: Path) -> dict[str, list[str]]:
    """The PDF file names of each product code, from the Markdown sources."""
    documents: dict[str, list[str]] = {}
    for path in find_sources(sources):
        source = read_source(path)
        documents.setdefault(source.meta.product_code, []).append(source.pdf_name)
    return documents


def alternates_for(
    entry: Mapping[str, Any], pages: Pages, documents: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """The other pages of the question's product that answer it, in document and page order."""
    candidates = [
        (document, number, text)
        for document in sorted(documents.get(entry["product_code"], []))
        for number, text in enumerate(pages.get(document, []), start=1)
        if (document, number) != (entry["document"], entry["page"])
    ]
    return [
        {"document": document, "page": number}
        for document, number in answering_pages(candidates, entry["answer"])
    ]


def label_questions(paths: Sequence[Path], built_dir: Path, sources: Path) -> dict[str, int]:
    """Rewrite each questions file with `also_answered_on`; returns the labelled count per file."""
    pages = read_built_pages(built_dir)
    documents = product_documents(sources)
    counts: dict[str, int] = {}
    for path in paths:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        entries = [json.loads(line) for line in lines]
        labelled = 0
        for entry in entries:
            entry.pop("also_answered_on", None)
            others = alternates_for(entry, pages, documents)
            if others:
                entry["also_answered_on"] = others
                labelled += 1
        text = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
        path.write_text(text, encoding="utf-8")
        counts[str(path)] = labelled
    return counts
