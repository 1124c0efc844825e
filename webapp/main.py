"""Application factory of the web app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from webapp.api.deps import install_catalogue, load_catalogue_resources
from webapp.api.routes import categories, health, products, recommendations
from webapp.core.config import WebAppSettings

HOME_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Vergemont Assurances</title></head>
<body><main><h1>Vergemont Assurances</h1>
<p>L'assistant de découverte des besoins et la console des conseillers arrivent bientôt ici.</p>
</main></body></html>"""


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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return HOME_PAGE

    return app
