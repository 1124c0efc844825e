"""Application factory of the web app: its start-up and shutdown, its routers, its error pages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from webapp.api.deps import (
    install_advisor,
    install_catalogue,
    load_catalogue_resources,
    open_advisor_resources,
)
from webapp.api.routes import (
    advisor_api,
    advisor_console,
    categories,
    documents,
    feedback,
    health,
    ops,
    products,
    recommendations,
    site,
)
from webapp.console.pages import ERROR_HANDLERS
from webapp.core.body_limit import BodySizeLimitMiddleware
from webapp.core.config import WebAppSettings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: validate the catalogue and compile the suitability engine, once; then open the
    lead store (schema migrated). Shutdown: close the lead store's connections."""
    settings: WebAppSettings = app.state.settings
    catalogue = load_catalogue_resources()
    install_catalogue(app, catalogue)
    advisor = open_advisor_resources(settings, catalogue.catalogue)
    install_advisor(app, advisor)
    try:
        yield
    finally:
        advisor.engine.dispose()


def create_app(settings: WebAppSettings) -> FastAPI:
    """The app; ValueError when the settings' secrets are not fit for their environment."""
    settings.check_secrets()
    # The API's documentation is public on a developer's machine only (docs/security.md).
    public_docs = settings.is_development
    app = FastAPI(
        title="Vergemont Assurances — assistant",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
        openapi_url="/openapi.json" if public_docs else None,
    )
    app.state.settings = settings
    app.add_middleware(BodySizeLimitMiddleware)
    for router in (
        health.router,
        categories.router,
        products.router,
        recommendations.router,
        site.router,
        documents.router,
        feedback.router,
        advisor_console.router,
        advisor_api.router,
    ):
        app.include_router(router)
    ops.install(app)  # /ready, /metrics, request ids and HTTP metrics
    for error, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(error, handler)
    return app
