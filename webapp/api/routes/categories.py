"""Product families of the catalogue."""

from fastapi import APIRouter
from pydantic import BaseModel

from product_catalog.categories import CATEGORIES

router = APIRouter(prefix="/api", tags=["catalogue"])


class CategoryPublic(BaseModel):
    code: str
    label: str
    description: str


@router.get("/categories")
def list_categories() -> list[CategoryPublic]:
    return [
        CategoryPublic(code=c.code, label=c.label, description=c.description) for c in CATEGORIES
    ]
