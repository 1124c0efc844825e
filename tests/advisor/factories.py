"""Handoff requests and users as the tests need them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from advisor.handoff import (
    ConsentRecord,
    Contact,
    HandoffRequest,
    RecommendedProduct,
    SourceRef,
    TranscriptTurn,
)

GIVEN_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def handoff_request(**overrides: Any) -> HandoffRequest:
    values: dict[str, Any] = {
        "conversation_id": f"conv-{uuid.uuid4().hex[:10]}",
        "channel": "website",
        "contact": Contact(
            name="Jeanne Martin", email="jeanne.martin@exemple.fr", phone="06 12 34 56 78"
        ),
        "consent": ConsentRecord(text_version="2026-10", given_at=GIVEN_AT, channel="website"),
        "profile": {
            "age": 38,
            "family_situation": "married",
            "employment_status": "employee",
            "housing_status": "tenant",
            "vehicles": [{"kind": "car"}],
            "monthly_budget_eur": 150,
        },
        "recommendations": [
            RecommendedProduct(
                code="VG-AUTO",
                name="Vergemont Auto",
                category="auto",
                reasons=["Vous avez une voiture : l'assurance auto est obligatoire."],
                sources=[
                    SourceRef(
                        document="vg-auto-conditions-generales.pdf",
                        page=3,
                        passage="La responsabilité civile est incluse dans toutes les formules.",
                    )
                ],
            )
        ],
        "catalogue_version": "test-catalogue",
        "reason": "asked",
        "transcript": [
            TranscriptTurn(speaker="user", text="Bonjour, je voudrais assurer ma voiture."),
            TranscriptTurn(speaker="bot", text="Avec plaisir ! Quel véhicule avez-vous ?"),
        ],
    }
    values.update(overrides)
    return HandoffRequest(**values)
