"""The advisor REST API: bearer tokens, roles, the same rules as the console, JSON errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.auth import create_user, issue_api_token, revoke_api_token, set_active
from advisor.database import open_engine
from advisor.service import open_handoff_service
from tests.advisor.factories import handoff_request
from tests.webapp.helpers import console_app

pytestmark = pytest.mark.unit


@pytest.fixture
def tokens(sqlite_url):
    engine = open_engine(sqlite_url)
    create_user(engine, "alice", "Alice Conseil", "advisor", "mot-de-passe-alice-1")
    create_user(engine, "bruno", "Bruno Conseil", "advisor", "mot-de-passe-bruno-1")
    create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
    issued = {name: issue_api_token(engine, name) for name in ("alice", "bruno", "sophie")}
    engine.dispose()
    return issued


@pytest.fixture
def reference(sqlite_url):
    service = open_handoff_service(sqlite_url)
    receipt = service.hand_off(handoff_request())
    service.close()
    return receipt.lead_reference


@pytest.fixture
def api(sqlite_url, tokens):
    with console_app(sqlite_url) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestApi:
    def test_no_token_or_a_wrong_token_is_401(self, api):
        assert api.get("/api/advisor/leads").status_code == 401
        response = api.get("/api/advisor/leads", headers=auth("vgk_wrong"))
        assert response.status_code == 401
        assert response.json()["detail"] == "Jeton d'API absent, invalide, expiré ou révoqué."

    def test_list_filter_and_read_a_lead(self, api, tokens, reference):
        listing = api.get("/api/advisor/leads", headers=auth(tokens["alice"])).json()
        assert listing["total"] == 1
        assert listing["items"][0]["reference"] == reference
        assert (
            api.get(
                "/api/advisor/leads", params={"status": "won"}, headers=auth(tokens["alice"])
            ).json()["total"]
            == 0
        )
        lead = api.get(f"/api/advisor/leads/{reference}", headers=auth(tokens["alice"])).json()
        assert lead["recommendations"][0]["sources"][0]["page"] == 3

    def test_claim_conflict_is_409(self, api, tokens, reference):
        url = f"/api/advisor/leads/{reference}/claim"
        assert api.post(url, headers=auth(tokens["alice"])).status_code == 200
        refused = api.post(url, headers=auth(tokens["bruno"]))
        assert refused.status_code == 409
        assert "Alice Conseil" in refused.json()["detail"]

    def test_workflow_notes_and_advice_through_the_api(self, api, tokens, reference):
        headers = auth(tokens["alice"])
        base = f"/api/advisor/leads/{reference}"
        api.post(f"{base}/claim", headers=headers)
        assert (
            api.post(f"{base}/status", json={"status": "contacted"}, headers=headers).status_code
            == 200
        )
        assert (
            api.post(f"{base}/status", json={"status": "won"}, headers=headers).status_code == 409
        )
        assert (
            api.post(f"{base}/notes", json={"text": "Rappel lundi."}, headers=headers).status_code
            == 201
        )
        assert api.post(f"{base}/advice/draft", headers=headers).json()["version"] == 1
        saved = api.put(
            f"{base}/advice/draft", json={"advisor_additions": "Vu au téléphone."}, headers=headers
        ).json()
        assert saved["content"]["advisor_additions"] == "Vu au téléphone."
        frozen = api.post(f"{base}/advice/freeze", headers=headers).json()
        assert frozen["status"] == "frozen"
        pdf = api.get(f"{base}/advice/1/pdf", headers=headers)
        assert pdf.headers["x-content-sha256"] == frozen["sha256"]
        assert (
            api.put(
                f"{base}/advice/draft", json={"advisor_additions": "x"}, headers=headers
            ).status_code
            == 409
        )

    def test_the_dashboard_is_for_supervisors_only(self, api, tokens, reference):
        assert api.get("/api/advisor/dashboard", headers=auth(tokens["alice"])).status_code == 403
        data = api.get("/api/advisor/dashboard", headers=auth(tokens["sophie"])).json()
        assert data["per_status"]["new"] == 1

    def test_another_advisor_cannot_change_a_claimed_lead(self, api, tokens, reference):
        base = f"/api/advisor/leads/{reference}"
        api.post(f"{base}/claim", headers=auth(tokens["alice"]))
        response = api.post(
            f"{base}/status", json={"status": "contacted"}, headers=auth(tokens["bruno"])
        )
        assert response.status_code == 403

    def test_oversized_and_invalid_payloads_are_refused(self, api, tokens, reference):
        headers = auth(tokens["alice"])
        base = f"/api/advisor/leads/{reference}"
        too_big = api.post(f"{base}/notes", json={"text": "x" * 300_000}, headers=headers)
        assert too_big.status_code == 413
        too_long = api.post(f"{base}/notes", json={"text": "x" * 6_000}, headers=headers)
        assert too_long.status_code == 422
        assert api.post(f"{base}/notes", json={"texte": "?"}, headers=headers).status_code == 422
        lead = api.get(base, headers=headers).json()
        assert lead["notes"] == []

    def test_a_reference_with_sql_is_just_not_found(self, api, tokens, reference):
        response = api.get("/api/advisor/leads/VG-1' OR '1'='1", headers=auth(tokens["alice"]))
        assert response.status_code == 404


class TestTokenLifecycle:
    def test_an_expired_token_is_refused(self, api, sqlite_url):
        engine = open_engine(sqlite_url)
        long_ago = datetime.now(UTC) - timedelta(days=31)
        token = issue_api_token(engine, "alice", valid_days=30, clock=lambda: long_ago)
        engine.dispose()
        assert api.get("/api/advisor/leads", headers=auth(token)).status_code == 401

    def test_a_revoked_token_or_a_deactivated_user_is_refused(self, api, tokens, sqlite_url):
        assert api.get("/api/advisor/leads", headers=auth(tokens["alice"])).status_code == 200
        assert api.get("/api/advisor/leads", headers=auth(tokens["bruno"])).status_code == 200
        engine = open_engine(sqlite_url)
        assert revoke_api_token(engine, "alice")
        set_active(engine, "bruno", False)
        engine.dispose()
        assert api.get("/api/advisor/leads", headers=auth(tokens["alice"])).status_code == 401
        assert api.get("/api/advisor/leads", headers=auth(tokens["bruno"])).status_code == 401


class TestNotesPermission:
    def test_only_the_claimant_or_a_supervisor_adds_notes(self, api, tokens, reference, sqlite_url):
        base = f"/api/advisor/leads/{reference}"
        note = {"text": "Je passe par là."}
        unclaimed = api.post(f"{base}/notes", json=note, headers=auth(tokens["bruno"]))
        assert unclaimed.status_code == 403
        api.post(f"{base}/claim", headers=auth(tokens["alice"]))
        refused = api.post(f"{base}/notes", json=note, headers=auth(tokens["bruno"]))
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "Seul le conseiller qui a pris ce prospect en charge (ou un superviseur) peut y "
            "ajouter une note."
        )
        assert (
            api.post(f"{base}/notes", json=note, headers=auth(tokens["alice"])).status_code == 201
        )
        assert (
            api.post(f"{base}/notes", json=note, headers=auth(tokens["sophie"])).status_code == 201
        )
        lead = api.get(base, headers=auth(tokens["sophie"])).json()
        assert [n["author"] for n in lead["notes"]] == ["alice", "sophie"]
