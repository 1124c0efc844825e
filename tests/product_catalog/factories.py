"""Builders of needs profiles for the catalogue tests."""

from typing import Any

from product_catalog.profile import NeedsProfile

COMPLETE_INVESTOR: dict[str, Any] = {
    "knowledge": "basic",
    "experience": "euro_funds",
    "annual_income_eur": 45_000,
    "financial_assets_eur": 25_000,
    "monthly_commitments_eur": 600,
    "objectives": ["growth", "transmission"],
    "horizon_years": 12,
    "risk_tolerance": "moderate",
    "loss_capacity": "limited",
}


def profile(**facts: Any) -> NeedsProfile:
    """A validated profile of someone living in France, unless the facts say otherwise."""
    return NeedsProfile.model_validate({"resides_in_france": True, **facts})


def investor(**overrides: Any) -> dict[str, Any]:
    """A complete investor section with some facts changed (None removes a fact)."""
    return {**COMPLETE_INVESTOR, **overrides}
