"""Helpers of the console tests: an app on a given lead store, logging in, reading CSRF tokens, a
needs profile with every fact known."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from webapp.core.config import WebAppSettings
from webapp.main import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# A needs profile as the dialogue dumps it into a lead, every fact known.
FULL_PROFILE: dict[str, Any] = {
    "age": 38,
    "resides_in_france": True,
    "family_situation": "married",
    "number_of_dependants": 2,
    "children_at_school": 1,
    "employment_status": "employee",
    "pcs_code": "37",
    "housing_status": "owner_occupier",
    "rented_out_properties": 1,
    "projects": [
        {"kind": "home_loan", "loan_amount_eur": 200_000, "loan_duration_years": 20},
        {"kind": "savings_goal", "horizon_years": 5, "target_amount_eur": 10_000},
    ],
    "vehicles": [{"kind": "car"}, {"kind": "scooter"}],
    "pets": [{"species": "dog", "age_years": 3}, {"species": "cat", "age_years": 0}],
    "current_coverage": ["auto", "habitation"],
    "employer_health_plan": True,
    "monthly_budget_eur": 150,
    "investor": {
        "knowledge": "basic",
        "experience": "euro_funds",
        "annual_income_eur": 35_000,
        "financial_assets_eur": 2_000,
        "monthly_commitments_eur": 700,
        "objectives": ["capital_preservation", "retirement"],
        "horizon_years": 10,
        "risk_tolerance": "low",
        "loss_capacity": "limited",
    },
    "legal_protection": "none",
    "co_subscription": False,
    "dismembered_ownership": False,
    "goals": ["protect_family", "pet_costs"],
}


def console_app(database_url: str) -> TestClient:
    settings = WebAppSettings(_env_file=None, environment="test", advisor_database_url=database_url)
    return TestClient(create_app(settings), follow_redirects=False)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str) -> None:
    token = csrf_of(client.get("/conseiller/connexion").text)
    response = client.post(
        "/conseiller/connexion",
        data={"csrf_token": token, "identifiant": username, "mot_de_passe": password},
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]):
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})
