"""Shared fixtures of the catalogue tests: the real catalogue, its engine, editable copies."""

import shutil
from pathlib import Path

import pytest

from product_catalog.engine import SuitabilityEngine
from product_catalog.loader import DEFAULT_INSURER_FILE, DEFAULT_PRODUCTS_DIR, load_catalogue
from product_catalog.schema import Catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def engine(catalogue: Catalogue) -> SuitabilityEngine:
    return SuitabilityEngine(catalogue)


@pytest.fixture
def products_copy(tmp_path: Path) -> Path:
    """A writable copy of the product files, to break one on purpose."""
    target = tmp_path / "products"
    shutil.copytree(DEFAULT_PRODUCTS_DIR, target)
    return target


@pytest.fixture
def insurer_file() -> Path:
    return DEFAULT_INSURER_FILE
