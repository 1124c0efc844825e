"""The catalogue in the application database (SQLite by default, PostgreSQL supported).

The YAML files stay the source of truth; `store_catalogue` replaces the stored catalogue with a
validated one inside a single transaction, so readers see the old catalogue or the new one, never a
mix, and a failure leaves the old one untouched. The tables are created by the Alembic migrations.
"""

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Boolean,
    Engine,
    Float,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.db import Base
from product_catalog.errors import CatalogueStorageError
from product_catalog.loader import DEFAULT_INSURER_FILE, DEFAULT_PRODUCTS_DIR, load_catalogue
from product_catalog.schema import Catalogue, Product

JsonDocument = JSON().with_variant(JSONB(), "postgresql")


class ProductRow(Base):
    """One product; `definition` holds the whole validated product, the other columns index it."""

    __tablename__ = "catalogue_products"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), index=True)
    pitch: Mapped[str] = mapped_column(Text)
    is_investment: Mapped[bool] = mapped_column(Boolean)
    unit_linked: Mapped[bool | None] = mapped_column(Boolean)
    risk_indicator_min: Mapped[int | None] = mapped_column(SmallInteger)
    risk_indicator_max: Mapped[int | None] = mapped_column(SmallInteger)
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)
    price_min: Mapped[float] = mapped_column(Float)
    price_max: Mapped[float] = mapped_column(Float)
    price_unit: Mapped[str] = mapped_column(String(20))
    catalogue_version: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class ProductNeedRow(Base):
    __tablename__ = "catalogue_product_needs"

    product_code: Mapped[str] = mapped_column(
        ForeignKey("catalogue_products.code", ondelete="CASCADE"), primary_key=True
    )
    need_code: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class ProductDocumentRow(Base):
    """A contractual document, by the file name the knowledge base stores it under."""

    __tablename__ = "catalogue_documents"

    filename: Mapped[str] = mapped_column(String(200), primary_key=True)
    product_code: Mapped[str] = mapped_column(
        ForeignKey("catalogue_products.code", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))


def _product_row(product: Product, version: str) -> ProductRow:
    suitability = product.suitability
    return ProductRow(
        code=product.code,
        name=product.name,
        category=product.category,
        pitch=product.pitch,
        is_investment=product.is_investment,
        unit_linked=None if suitability is None else suitability.unit_linked,
        risk_indicator_min=None if suitability is None else suitability.risk_indicator.min,
        risk_indicator_max=None if suitability is None else suitability.risk_indicator.max,
        min_age=product.eligibility.min_age,
        max_age=product.eligibility.max_age,
        price_min=product.price.min,
        price_max=product.price.max,
        price_unit=product.price.unit,
        catalogue_version=version,
        definition=product.model_dump(mode="json"),
    )


def _dependent_rows(product: Product) -> list[ProductNeedRow | ProductDocumentRow]:
    rows: list[ProductNeedRow | ProductDocumentRow] = [
        ProductNeedRow(product_code=product.code, need_code=need) for need in product.needs
    ]
    rows.extend(
        ProductDocumentRow(
            filename=document.filename,
            product_code=product.code,
            kind=document.kind,
            title=document.title,
        )
        for document in product.documents
    )
    return rows


def store_catalogue(engine: Engine, catalogue: Catalogue) -> None:
    """Replace the stored catalogue with this one, atomically."""
    try:
        with Session(engine) as session, session.begin():
            for table in (ProductDocumentRow, ProductNeedRow, ProductRow):
                session.execute(delete(table))
            session.add_all(_product_row(p, catalogue.version) for p in catalogue.products)
            session.flush()  # products before the rows that reference them
            session.add_all(row for p in catalogue.products for row in _dependent_rows(p))
    except SQLAlchemyError as error:
        raise CatalogueStorageError(
            f"cannot store the catalogue ({type(error).__name__}); is the database migrated "
            "(alembic upgrade head)?"
        ) from error


def load_catalogue_into_database(
    engine: Engine,
    products_dir: Path = DEFAULT_PRODUCTS_DIR,
    insurer_file: Path = DEFAULT_INSURER_FILE,
) -> Catalogue:
    """Validate every file first (CatalogueFileError leaves the database as it was), then store."""
    catalogue = load_catalogue(products_dir, insurer_file)
    store_catalogue(engine, catalogue)
    return catalogue


def read_products(engine: Engine) -> list[Product]:
    """The stored products, validated again, in code order."""
    try:
        with Session(engine) as session:
            definitions = session.scalars(select(ProductRow.definition).order_by(ProductRow.code))
            return [Product.model_validate(definition) for definition in definitions]
    except SQLAlchemyError as error:
        raise CatalogueStorageError(
            f"cannot read the catalogue ({type(error).__name__})"
        ) from error
    except ValidationError as error:
        raise CatalogueStorageError("the stored catalogue no longer matches the schema") from error


def stored_version(engine: Engine) -> str | None:
    """The version of the stored catalogue, None when none is stored."""
    try:
        with Session(engine) as session:
            return session.scalars(select(ProductRow.catalogue_version).limit(1)).first()
    except SQLAlchemyError as error:
        raise CatalogueStorageError(
            f"cannot read the catalogue ({type(error).__name__})"
        ) from error
