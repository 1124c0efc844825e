"""Dependencies of the API routes: resources built once at start-up and shared by requests."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from product_catalog.engine import SuitabilityEngine
from product_catalog.loader import DEFAULT_INSURER_FILE, DEFAULT_PRODUCTS_DIR, load_catalogue
from product_catalog.schema import Catalogue


@dataclass(frozen=True)
class CatalogueResources:
    catalogue: Catalogue
    engine: SuitabilityEngine


def load_catalogue_resources(
    products_dir: Path = DEFAULT_PRODUCTS_DIR, insurer_file: Path = DEFAULT_INSURER_FILE
) -> CatalogueResources:
    """Validate the catalogue files and compile the engine; CatalogueFileError stops start-up."""
    catalogue = load_catalogue(products_dir, insurer_file)
    return CatalogueResources(catalogue=catalogue, engine=SuitabilityEngine(catalogue))


def install_catalogue(app: FastAPI, resources: CatalogueResources) -> None:
    app.state.catalogue_resources = resources


def _resources(request: Request) -> CatalogueResources:
    resources = getattr(request.app.state, "catalogue_resources", None)
    if not isinstance(resources, CatalogueResources):
        raise RuntimeError("the catalogue is loaded by the app's lifespan; it has not run")
    return resources


def get_catalogue(request: Request) -> Catalogue:
    return _resources(request).catalogue


def get_suitability_engine(request: Request) -> SuitabilityEngine:
    return _resources(request).engine


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
SuitabilityEngineDep = Annotated[SuitabilityEngine, Depends(get_suitability_engine)]
