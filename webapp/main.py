"""Application factory of the web app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from webapp.api.deps import install_catalogue, load_catalogue_resources
from webapp.api.routes import (
    advisor_console,
    categories,
    documents,
    feedback,
    health,
    products,
    recommendations,
    site,
)
from webapp.core.config import WebAppSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: validate the catalogue and compile the suitability engine, once."""
    install_catalogue(app, load_catalogue_resources())
    yield


def create_app(settings: WebAppSettings) -> FastAPI:
    app = FastAPI(title="Vergemont Assurances — assistant", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(categories.router)
    app.include_router(products.router)
    app.include_router(recommendations.router)
    app.include_router(site.router)
    app.include_router(documents.router)
    app.include_router(feedback.router)
    advisor_console.mount_advisor(app, settings)
    return app
