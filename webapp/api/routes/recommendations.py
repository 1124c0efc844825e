"""Recommendations of the suitability engine for a needs profile."""

from fastapi import APIRouter

from product_catalog.engine import RecommendationResult
from product_catalog.profile import NeedsProfile
from webapp.api.deps import SuitabilityEngineDep

router = APIRouter(prefix="/api", tags=["recommendations"])


@router.post("/recommendations")
def recommend(profile: NeedsProfile, engine: SuitabilityEngineDep) -> RecommendationResult:
    """Rank the products for this profile; an invalid profile is answered 422 naming the field.

    Nothing is stored: the same profile always gets the same answer.
    """
    return engine.recommend(profile)
