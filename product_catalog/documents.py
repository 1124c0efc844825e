"""Which product each document belongs to: the map the knowledge base's ingestion receives.

Each product lists its documents (`kind`, `title`, `filename`) and has its file's category. A
document the catalogue does not list but whose file name starts with a product code in lower
case followed by a hyphen ("vg-hab-loc-faq.pdf") belongs to that product. The files are read
with the catalogue's own loader, one at a time: a file or product that does not validate is
logged and left out (its documents are then ingested without product metadata) instead of
refusing the whole catalogue as `load_catalogue` does.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from product_catalog.errors import CatalogueProblem
from product_catalog.loader import DEFAULT_PRODUCTS_DIR, load_product_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentInfo:
    filename: str
    product_code: str
    category: str
    title: str = ""
    kind: str = ""


@dataclass(frozen=True)
class DocumentCatalog:
    """Product metadata of documents, by file name."""

    documents: dict[str, DocumentInfo] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)  # product code → category

    @classmethod
    def of(cls, documents: Iterable[DocumentInfo]) -> "DocumentCatalog":
        listed = {info.filename: info for info in documents}
        return cls(listed, {info.product_code: info.category for info in listed.values()})

    def lookup(self, filename: str) -> DocumentInfo | None:
        """The listed document, or the product whose code prefixes the file name."""
        if filename in self.documents:
            return self.documents[filename]
        lowered = filename.lower()
        codes = [code for code in self.products if lowered.startswith(f"{code.lower()}-")]
        if not codes:
            return None
        code = max(codes, key=len)  # "vg-hab-loc-…" belongs to VG-HAB-LOC, not to a VG-HAB
        return DocumentInfo(filename=filename, product_code=code, category=self.products[code])


def load_document_catalog(products_dir: Path = DEFAULT_PRODUCTS_DIR) -> DocumentCatalog:
    """Every document of every valid product, and every such product's category."""
    documents: list[DocumentInfo] = []
    for path in sorted(products_dir.glob("*.yaml")):
        problems: list[CatalogueProblem] = []
        _, products = load_product_file(path, problems)
        for problem in problems:
            logger.warning(
                "catalogue entry skipped",
                extra={"file": problem.file, "product": problem.product, "error": problem.message},
            )
        documents.extend(
            DocumentInfo(
                document.filename, product.code, product.category, document.title, document.kind
            )
            for product in products
            for document in product.documents
        )
    return DocumentCatalog.of(documents)
