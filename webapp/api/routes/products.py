"""Products of the catalogue."""

from fastapi import APIRouter, HTTPException, Query, status

from product_catalog.categories import CATEGORY_CODES
from product_catalog.errors import UnknownProductError
from product_catalog.schema import Product
from webapp.api.deps import CatalogueDep

router = APIRouter(prefix="/api", tags=["catalogue"])


@router.get("/products")
def list_products(
    catalogue: CatalogueDep,
    category: str | None = Query(default=None, description="only the products of this category"),
) -> list[Product]:
    if category is None:
        return list(catalogue.products)
    if category not in CATEGORY_CODES:
        raise HTTPException(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "loc": ["query", "category"],
                    "msg": f"Catégorie inconnue : {category}.",
                    "type": "unknown_category",
                }
            ],
        )
    return list(catalogue.in_category(category))


@router.get("/products/{code}")
def get_product(code: str, catalogue: CatalogueDep) -> Product:
    try:
        return catalogue.get(code.upper())
    except UnknownProductError:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"Aucun produit ne porte le code « {code} ».",
        ) from None
