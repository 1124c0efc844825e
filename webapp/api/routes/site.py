"""The public demo website of Vergemont Assurances, with the chat widget, and its static files."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from product_catalog.categories import CATEGORIES
from webapp.api.deps import CatalogueDep
from webapp.core.assets import STATIC_DIR, TEMPLATES, asset_response

router = APIRouter(include_in_schema=False)

SITE_STATIC_DIR = STATIC_DIR / "site"
WIDGET_STATIC_DIR = STATIC_DIR / "widget"


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


@router.get("/static/site/{name}")
def site_asset(name: str) -> FileResponse:
    """The website's files; only plain file names of its folder are served."""
    return asset_response(SITE_STATIC_DIR, name)


@router.get("/static/widget/{name}")
def widget_asset(name: str) -> FileResponse:
    """The built chat widget (widget/ → `make widget`)."""
    return asset_response(WIDGET_STATIC_DIR, name)
