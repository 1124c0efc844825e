"""Product families of the catalogue."""

from fastapi import APIRouter

from product_catalog.categories import CATEGORIES, Category

router = APIRouter(prefix="/api", tags=["catalogue"])


@router.get("/categories")
def list_categories() -> list[Category]:
    return list(CATEGORIES)
