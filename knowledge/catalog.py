"""Which product a document belongs to, read from the product catalogue's YAML files.

Each product of `product_catalog/products/*.yaml` lists its documents (`kind`, `title`,
`filename`); the file's top-level `category` applies to all its products. A document the
catalogue does not list but whose file name starts with a product code in lower case followed by
a hyphen ("vg-hab-loc-faq.pdf") belongs to that product. The YAML is read directly, so the
knowledge base does not depend on the catalogue's models; a file it cannot read is logged and
skipped (its documents are ingested without product metadata).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent.parent / "product_catalog" / "products"


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


def load_document_catalog(directory: Path = DEFAULT_CATALOG_DIR) -> DocumentCatalog:
    """Every document of every product, and every product's category."""
    catalog: dict[str, DocumentInfo] = {}
    products: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            logger.warning("catalogue file skipped", extra={"file": str(path), "error": str(exc)})
            continue
        if not isinstance(data, dict):
            continue
        category = str(data.get("category", ""))
        for product in data.get("products") or []:
            if not isinstance(product, dict):
                continue
            if product.get("code"):
                products[str(product["code"])] = category
            for document in product.get("documents") or []:
                if not isinstance(document, dict) or not document.get("filename"):
                    continue
                info = DocumentInfo(
                    filename=str(document["filename"]),
                    product_code=str(product.get("code", "")),
                    category=category,
                    title=str(document.get("title", "")),
                    kind=str(document.get("kind", "")),
                )
                catalog[info.filename] = info
    return DocumentCatalog(catalog, products)
