"""The corpus sources under knowledge/corpus/sources/ agree with the product catalogue."""

from pathlib import Path

import pytest
import yaml

from knowledge.corpus.__main__ import DEFAULT_SOURCES
from knowledge.corpus.markdown_source import read_source

pytestmark = pytest.mark.unit

CATALOGUE_DIR = Path(__file__).resolve().parents[3] / "product_catalog" / "products"


class TestCorpusSources:
    def test_every_catalogue_document_has_a_source(self) -> None:
        expected: set[str] = set()
        for path in CATALOGUE_DIR.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for product in data["products"]:
                expected.update(
                    f"{data['category']}/{document['filename'].removesuffix('.pdf')}.md"
                    for document in product["documents"]
                )
                expected.add(f"{data['category']}/{product['code'].lower()}-faq.md")
        present = {f"{p.parent.name}/{p.name}" for p in DEFAULT_SOURCES.glob("*/*.md")}
        assert sorted(expected - present) == []

    def test_catalogue_titles_kinds_and_codes_are_those_of_the_sources(self) -> None:
        for path in CATALOGUE_DIR.glob("*.yaml"):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for product in data["products"]:
                for document in product["documents"]:
                    stem = document["filename"].removesuffix(".pdf")
                    source = DEFAULT_SOURCES / data["category"] / f"{stem}.md"
                    if not source.exists():
                        continue  # reported by test_every_catalogue_document_has_a_source
                    meta = read_source(source).meta
                    assert (meta.title, meta.kind, meta.product_code) == (
                        document["title"],
                        document["kind"],
                        product["code"],
                    ), source

    def test_every_source_parses_and_agrees_with_its_file_name(self) -> None:
        for path in sorted(DEFAULT_SOURCES.glob("*/*.md")):
            source = read_source(path)
            assert path.stem.startswith(source.meta.product_code.lower()), path
            assert (source.meta.kind == "faq") == path.stem.endswith("-faq"), path
