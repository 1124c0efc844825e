"""The public demo website of Vergemont Assurances, with the chat widget, and its static files."""

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from product_catalog.categories import CATEGORIES
from webapp.api.deps import CatalogueDep

router = APIRouter(include_in_schema=False)

WEBAPP_DIR = Path(__file__).resolve().parents[2]
TEMPLATES = Jinja2Templates(directory=WEBAPP_DIR / "templates")
SITE_STATIC_DIR = WEBAPP_DIR / "static" / "site"
WIDGET_STATIC_DIR = WEBAPP_DIR / "static" / "widget"
SAFE_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(?:js|css|svg|png|map|txt)$")
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".map": "application/json",
    ".txt": "text/plain",
}


@router.get("/", response_class=HTMLResponse)
def home(request: Request, catalogue: CatalogueDep) -> HTMLResponse:
    """The landing page: the product families, their products and documents, and the widget."""
    families = [
        {"category": category, "products": list(catalogue.in_category(category.code))}
        for category in CATEGORIES
    ]
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(
        request,
        "site/index.html",
        {"families": families, "rasa_url": settings.rasa_public_url.rstrip("/")},
    )


def _asset(directory: Path, name: str) -> FileResponse:
    if not SAFE_ASSET_NAME.fullmatch(name) or ".." in name or not (directory / name).is_file():
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Fichier introuvable.")
    path = directory / name
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/site/{name}")
def site_asset(name: str) -> FileResponse:
    """The website's files; only plain file names of its folder are served."""
    return _asset(SITE_STATIC_DIR, name)


@router.get("/static/widget/{name}")
def widget_asset(name: str) -> FileResponse:
    """The built chat widget (widget/ → `make widget`)."""
    return _asset(WIDGET_STATIC_DIR, name)
