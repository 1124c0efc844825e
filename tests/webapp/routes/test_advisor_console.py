"""The advisor console over HTTP: login, roles, CSRF, queue, claim, notes, duty of advice."""

from __future__ import annotations

import html

import pytest

from advisor.auth import create_user
from advisor.database import open_engine
from advisor.handoff import Contact, TranscriptTurn
from advisor.service import open_handoff_service
from advisor.store import LeadStore
from tests.advisor.factories import handoff_request
from tests.webapp.helpers import console_app, csrf_of, log_in, post_form

pytestmark = pytest.mark.unit

HOSTILE = "<script>alert('xss')</script> '; DROP TABLE advisor_leads; --"


@pytest.fixture
def lead_store(sqlite_url):
    engine = open_engine(sqlite_url)
    create_user(engine, "alice", "Alice Conseil", "advisor", "mot-de-passe-alice-1")
    create_user(engine, "bruno", "Bruno Conseil", "advisor", "mot-de-passe-bruno-1")
    create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
    yield LeadStore(engine)
    engine.dispose()


@pytest.fixture
def reference(sqlite_url, lead_store):
    service = open_handoff_service(sqlite_url)
    request = handoff_request(
        contact=Contact(name=HOSTILE[:60], email="eve@exemple.fr"),
        transcript=[TranscriptTurn(speaker="user", text=HOSTILE)],
    )
    receipt = service.hand_off(request)
    service.close()
    return receipt.lead_reference


@pytest.fixture
def client(sqlite_url, lead_store):
    with console_app(sqlite_url) as test_client:
        yield test_client


@pytest.fixture
def alice(client):
    log_in(client, "alice", "mot-de-passe-alice-1")
    return client


class TestLogin:
    def test_pages_redirect_to_the_login_page_without_a_session(self, client):
        response = client.get("/conseiller/prospects")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/conseiller/connexion?suivant=")

    def test_a_wrong_password_is_refused_in_french_and_keeps_the_username(self, client):
        token = csrf_of(client.get("/conseiller/connexion").text)
        response = client.post(
            "/conseiller/connexion",
            data={"csrf_token": token, "identifiant": "alice", "mot_de_passe": "faux"},
        )
        assert response.status_code == 401
        assert "Identifiant ou mot de passe incorrect." in response.text
        assert 'value="alice"' in response.text

    def test_login_without_the_csrf_token_is_refused(self, client):
        client.get("/conseiller/connexion")
        response = client.post(
            "/conseiller/connexion",
            data={"identifiant": "alice", "mot_de_passe": "mot-de-passe-alice-1"},
        )
        assert response.status_code == 403
        assert "formulaire a expiré" in html.unescape(response.text)

    def test_the_session_cookie_is_http_only_and_strict(self, client):
        token = csrf_of(client.get("/conseiller/connexion").text)
        response = client.post(
            "/conseiller/connexion",
            data={
                "csrf_token": token,
                "identifiant": "alice",
                "mot_de_passe": "mot-de-passe-alice-1",
            },
        )
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie

    def test_a_forged_cookie_is_ignored(self, client):
        client.cookies.set("vg_conseiller", "eyJ1aWQiOjF9.forged.signature")
        assert client.get("/conseiller/prospects").status_code == 303

    def test_no_open_redirect_after_login(self, client):
        token = csrf_of(client.get("/conseiller/connexion").text)
        response = client.post(
            "/conseiller/connexion",
            data={
                "csrf_token": token,
                "identifiant": "alice",
                "mot_de_passe": "mot-de-passe-alice-1",
                "suivant": "https://evil.example/",
            },
        )
        assert response.headers["location"] == "/conseiller/prospects"


class TestRoles:
    def test_an_advisor_gets_403_on_the_dashboard(self, alice):
        response = alice.get("/conseiller/tableau-de-bord")
        assert response.status_code == 403
        assert "rôle" in html.unescape(response.text)

    def test_a_supervisor_sees_the_dashboard(self, client, reference):
        log_in(client, "sophie", "mot-de-passe-sophie")
        response = client.get("/conseiller/tableau-de-bord")
        assert response.status_code == 200
        assert "Prospects par statut" in response.text


class TestQueueAndLead:
    def test_the_queue_lists_and_filters_leads(self, alice, reference):
        page = alice.get("/conseiller/prospects")
        assert reference in page.text
        filtered = alice.get("/conseiller/prospects", params={"statut": "won"})
        assert reference not in filtered.text
        assert "Aucun prospect ne correspond" in filtered.text

    def test_an_unknown_filter_value_gets_a_french_message(self, alice):
        response = alice.get("/conseiller/prospects", params={"tri": "<b>x</b>"})
        assert response.status_code == 422
        assert "Tri inconnu : &lt;b&gt;x&lt;/b&gt;." in response.text

    def test_hostile_transcripts_and_names_are_escaped(self, alice, reference):
        for url in ("/conseiller/prospects", f"/conseiller/prospects/{reference}"):
            text = alice.get(url).text
            assert "<script>alert" not in text
            assert "&lt;script&gt;alert(" in text

    def test_claim_then_a_second_advisor_is_told(self, alice, reference, sqlite_url):
        page = f"/conseiller/prospects/{reference}"
        response = post_form(alice, page, f"{page}/prise-en-charge", {})
        assert response.status_code == 303
        assert "pris ce prospect en charge" in alice.get(response.headers["location"]).text

        with console_app(sqlite_url) as bruno:
            log_in(bruno, "bruno", "mot-de-passe-bruno-1")
            refused = post_form(bruno, page, f"{page}/prise-en-charge", {})
        assert refused.status_code == 409
        assert "déjà été pris en charge par Alice Conseil" in html.unescape(refused.text)

    def test_a_post_without_csrf_changes_nothing(self, alice, reference, lead_store):
        response = alice.post(f"/conseiller/prospects/{reference}/prise-en-charge", data={})
        assert response.status_code == 403
        assert lead_store.get_lead(reference).status == "new"

    def test_a_hostile_note_is_stored_verbatim_and_shown_escaped(
        self, alice, reference, lead_store
    ):
        page = f"/conseiller/prospects/{reference}"
        post_form(alice, page, f"{page}/prise-en-charge", {})
        response = post_form(alice, page, f"{page}/notes", {"texte": HOSTILE})
        assert response.status_code == 303
        assert lead_store.get_lead(reference).notes[0].text == HOSTILE
        text = alice.get(page).text
        assert "<script>alert('xss')" not in text
        assert html.escape(HOSTILE, quote=True) in text or "&lt;script&gt;" in text

    def test_an_oversized_note_is_refused_and_the_typed_text_is_kept(self, alice, reference):
        page = f"/conseiller/prospects/{reference}"
        long_note = "Client très bavard. " * 300
        post_form(alice, page, f"{page}/prise-en-charge", {})
        response = post_form(alice, page, f"{page}/notes", {"texte": long_note})
        assert response.status_code == 422
        assert "dépasse 5000 caractères" in html.unescape(response.text)
        assert long_note.strip()[:200] in html.unescape(response.text)

    def test_an_oversized_request_is_refused_with_413(self, alice, reference):
        page = f"/conseiller/prospects/{reference}"
        response = post_form(alice, page, f"{page}/notes", {"texte": "x" * 100_000})
        assert response.status_code == 413

    def test_status_change_through_the_form(self, alice, reference, lead_store):
        page = f"/conseiller/prospects/{reference}"
        post_form(alice, page, f"{page}/prise-en-charge", {})
        response = post_form(alice, page, f"{page}/statut", {"statut": "contacted"})
        assert response.status_code == 303
        assert lead_store.get_lead(reference).status == "contacted"
        refused = post_form(alice, page, f"{page}/statut", {"statut": "won"})
        assert refused.status_code == 409
        assert lead_store.get_lead(reference).status == "contacted"

    def test_an_unknown_lead_is_a_french_404(self, alice):
        response = alice.get("/conseiller/prospects/VG-ZZZZZZ")
        assert response.status_code == 404
        assert "Aucun prospect ne porte la référence" in html.unescape(response.text)


class TestAdvice:
    def test_draft_edit_validate_and_download(self, alice, reference):
        page = f"/conseiller/prospects/{reference}"
        advice = f"{page}/devoir-de-conseil"
        post_form(alice, page, f"{page}/prise-en-charge", {})
        assert post_form(alice, advice, f"{advice}/brouillon", {}).status_code == 303
        editor = alice.get(advice).text
        assert "Exigences et besoins" in editor
        response = post_form(
            alice,
            advice,
            advice,
            {
                "besoins": "Assurer une voiture récente.",
                "motifs_VG-AUTO": "Formule tous risques conseillée.",
                "situations": "",
                "ajouts": "Rappel prévu.",
                "action": "valider",
            },
        )
        assert response.status_code == 303
        pdf = alice.get(f"{advice}/v1.pdf")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert pdf.headers["x-content-sha256"] in alice.get(advice).text

    def test_validation_with_empty_needs_is_refused_and_keeps_the_typed_text(
        self, alice, reference
    ):
        page = f"/conseiller/prospects/{reference}"
        advice = f"{page}/devoir-de-conseil"
        post_form(alice, page, f"{page}/prise-en-charge", {})
        post_form(alice, advice, f"{advice}/brouillon", {})
        response = post_form(
            alice,
            advice,
            advice,
            {"besoins": "  ", "ajouts": "Mon texte à ne pas perdre", "action": "valider"},
        )
        assert response.status_code == 422
        assert "Mon texte à ne pas perdre" in html.unescape(response.text)


class TestNotesPermission:
    def test_another_advisor_cannot_add_a_note_and_keeps_the_typed_text(
        self, alice, reference, sqlite_url, lead_store
    ):
        page = f"/conseiller/prospects/{reference}"
        post_form(alice, page, f"{page}/prise-en-charge", {})
        with console_app(sqlite_url) as bruno:
            log_in(bruno, "bruno", "mot-de-passe-bruno-1")
            refused = post_form(bruno, page, f"{page}/notes", {"texte": "Note de Bruno"})
        assert refused.status_code == 403
        text = html.unescape(refused.text)
        assert "Seul le conseiller qui a pris ce prospect en charge" in text
        assert "Note de Bruno" in text
        assert lead_store.get_lead(reference).notes == []
