"""The catalogue in SQL: Alembic migrations, atomic loading, reading back.

Every test runs on SQLite (unit) and on PostgreSQL on 127.0.0.1:5432 (integration), each in a
database of its own: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards.
"""

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from common.db import Base, engine_from_url
from product_catalog.db import (
    ProductDocumentRow,
    ProductNeedRow,
    load_catalogue_into_database,
    read_products,
    store_catalogue,
    stored_version,
)
from product_catalog.errors import CatalogueFileError, CatalogueStorageError
from product_catalog.schema import Catalogue
from tests.services import require_service

REPOSITORY = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CATALOGUE_TABLES = {"catalogue_products", "catalogue_product_needs", "catalogue_documents"}


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'run' / 'app.db'}"
        return
    require_service("PostgreSQL", 5432)
    schema = f"catalogue_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def alembic(url: str, *arguments: str) -> None:
    """Run an Alembic command as `alembic -x url=URL ...` would, in-process."""
    config = Config(str(REPOSITORY / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    getattr(command, arguments[0])(config, *arguments[1:])


@pytest.fixture
def database(database_url: str) -> Iterator[Engine]:
    alembic(database_url, "upgrade", "head")
    engine = engine_from_url(database_url)
    yield engine
    engine.dispose()


def row_count(engine: Engine, table: type[Base]) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


class TestMigrations:
    def test_upgrade_creates_exactly_the_tables_the_models_describe(self, database: Engine):
        assert set(inspect(database).get_table_names()) >= CATALOGUE_TABLES
        with database.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []

    def test_downgrade_removes_the_tables(self, database_url: str, database: Engine):
        alembic(database_url, "downgrade", "base")
        assert CATALOGUE_TABLES.isdisjoint(inspect(database).get_table_names())


class TestStoreCatalogue:
    def test_stored_catalogue_reads_back_identical(self, database: Engine, catalogue: Catalogue):
        store_catalogue(database, catalogue)
        assert read_products(database) == sorted(catalogue.products, key=lambda p: p.code)
        assert stored_version(database) == catalogue.version

    def test_needs_and_documents_are_stored_as_rows(self, database: Engine, catalogue: Catalogue):
        store_catalogue(database, catalogue)
        assert row_count(database, ProductNeedRow) == sum(len(p.needs) for p in catalogue.products)
        assert row_count(database, ProductDocumentRow) == sum(
            len(p.documents) for p in catalogue.products
        )

    def test_storing_again_replaces_the_previous_catalogue(
        self, database: Engine, catalogue: Catalogue
    ):
        store_catalogue(database, catalogue)
        smaller = catalogue.model_copy(update={"products": catalogue.products[:3], "version": "v2"})
        store_catalogue(database, smaller)
        assert [p.code for p in read_products(database)] == sorted(p.code for p in smaller.products)
        assert stored_version(database) == "v2"

    def test_a_bad_file_changes_nothing(
        self, database: Engine, catalogue: Catalogue, products_copy: Path, insurer_file: Path
    ):
        store_catalogue(database, catalogue)
        auto = products_copy / "auto.yaml"
        auto.write_text(auto.read_text().replace("min_age: 17", "min_age: deux"), encoding="utf-8")
        (products_copy / "gav.yaml").unlink()  # and a whole category gone: still nothing stored

        with pytest.raises(CatalogueFileError, match=r"eligibility\.min_age"):
            load_catalogue_into_database(database, products_copy, insurer_file)

        assert read_products(database) == sorted(catalogue.products, key=lambda p: p.code)
        assert stored_version(database) == catalogue.version

    def test_a_failure_while_writing_rolls_everything_back(
        self, database: Engine, catalogue: Catalogue
    ):
        store_catalogue(database, catalogue)
        first, second = catalogue.products[:2]
        clash = second.model_copy(update={"documents": first.documents})  # same file names
        broken = catalogue.model_copy(update={"products": (first, clash), "version": "broken"})

        with pytest.raises(CatalogueStorageError):
            store_catalogue(database, broken)

        assert len(read_products(database)) == len(catalogue.products)
        assert stored_version(database) == catalogue.version

    def test_unmigrated_database_gives_a_clear_error(self, database_url: str, catalogue: Catalogue):
        engine = engine_from_url(database_url)
        try:
            with pytest.raises(CatalogueStorageError, match="alembic upgrade head"):
                store_catalogue(engine, catalogue)
        finally:
            engine.dispose()

    def test_loading_from_files_stores_them(
        self, database: Engine, products_copy: Path, insurer_file: Path
    ):
        loaded = load_catalogue_into_database(database, products_copy, insurer_file)
        assert stored_version(database) == loaded.version
