"""The catalogue's document map: which product, category, title and kind each document has."""

import pytest

from product_catalog.documents import DocumentCatalog, DocumentInfo, load_document_catalog

pytestmark = pytest.mark.unit


def test_the_catalogue_maps_every_document_file_to_its_product() -> None:
    catalog = load_document_catalog()

    info = catalog.lookup("vg-auto-conditions-generales.pdf")
    assert info is not None
    assert (info.product_code, info.category, info.kind) == (
        "VG-AUTO",
        "auto",
        "conditions_generales",
    )
    assert all(name.endswith(".pdf") for name in catalog.documents)


def test_a_document_named_after_a_product_code_belongs_to_that_product() -> None:
    catalog = DocumentCatalog.of(
        [
            DocumentInfo("vg-hab-cg.pdf", "VG-HAB", "habitation"),
            DocumentInfo("vg-hab-loc-cg.pdf", "VG-HAB-LOC", "habitation"),
        ]
    )

    faq = catalog.lookup("vg-hab-loc-faq.pdf")

    assert faq is not None
    assert (faq.product_code, faq.category) == ("VG-HAB-LOC", "habitation")
    assert catalog.lookup("autre-faq.pdf") is None
