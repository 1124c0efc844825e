"""The console in a real browser: Debian's chromium driven by Playwright against a real uvicorn.

Log in, filter the queue, open and claim a lead, write and validate its duty of advice, download
the PDF; read a lead's profile in French. `UPDATE_SCREENSHOTS=1` refreshes the screenshots of each
page, docs/screenshots/advisor-*.png (otherwise they go to a temporary folder).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from advisor.auth import create_user
from advisor.database import open_engine
from advisor.handoff import Contact, RecommendedProduct, TranscriptTurn
from advisor.service import SqlHandoffService
from advisor.store import LeadStore
from common.db import utc_now
from tests.advisor.factories import handoff_request
from tests.services import free_port
from tests.webapp.helpers import FULL_PROFILE
from webapp.core.config import WebAppSettings
from webapp.main import create_app

CHROMIUM = Path("/usr/bin/chromium")
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium"
    ),
]

PEOPLE = [
    ("Jeanne Martin", "jeanne.martin@exemple.fr", "website", "asked", 0),
    ("Karim Benali", "karim.benali@exemple.fr", "whatsapp", "recommendation", 2),
    ("Louise Petit", "louise.petit@exemple.fr", "telegram", "special_situation", 5),
    ("Marc Dubois", "marc.dubois@exemple.fr", "website", "misunderstanding", 12),
    ("Nadia Roche", "nadia.roche@exemple.fr", "messenger", "asked", 40),
]
HABITATION = RecommendedProduct(
    code="VG-HAB-LOC",
    name="Vergemont Habitation Locataire",
    category="habitation",
    reasons=["Vous êtes locataire : la responsabilité locative est exigée par le bail."],
)


def seed(url: str) -> str:
    engine = open_engine(url)
    create_user(engine, "alice", "Alice Conseil", "advisor", "mot-de-passe-alice-1")
    create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
    now = utc_now()
    first = ""
    for name, email, channel, reason, days in PEOPLE:
        store = LeadStore(engine, clock=lambda days=days: now - timedelta(days=days, hours=3))
        service = SqlHandoffService(engine)
        service.store = store
        extra = {"recommendations": [HABITATION]} if channel != "website" else {}
        receipt = service.hand_off(
            handoff_request(
                contact=Contact(name=name, email=email, phone="06 12 34 56 78"),
                channel=channel,
                reason=reason,
                transcript=[
                    TranscriptTurn(speaker="user", text="Bonjour, j'aimerais être conseillé."),
                    TranscriptTurn(speaker="bot", text="Bien sûr : parlons de votre situation."),
                ],
                **extra,
            )
        )
        first = first or receipt.lead_reference
    engine.dispose()
    return first


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'advisor.db'}"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, str]]:
    url = database_url
    settings = WebAppSettings(_env_file=None, environment="test", advisor_database_url=url)
    app = create_app(settings)
    port = free_port()
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        pytest.fail("the web app did not start")
    reference = seed(url)
    yield base, reference
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield instance
        instance.close()


def test_advisor_journey_from_login_to_the_frozen_pdf(server, browser, tmp_path):
    base, reference = server
    update = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    screenshots = DOCS_SCREENSHOTS if update else tmp_path
    screenshots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True
    )
    page = context.new_page()

    page.goto(f"{base}/conseiller/prospects")
    assert "/conseiller/connexion" in page.url
    page.screenshot(path=str(screenshots / "advisor-login.png"))
    page.fill("#identifiant", "alice")
    page.fill("#mot_de_passe", "mot-de-passe-alice-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/conseiller/prospects")
    assert page.locator("table.queue tbody tr").count() == len(PEOPLE)

    page.select_option("select[name=canal]", "whatsapp")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**canal=whatsapp**")
    assert page.locator("table.queue tbody tr").count() == 1
    page.select_option("select[name=canal]", "")
    page.select_option("select[name=anciennete]", "24h")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**anciennete=24h**")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1
    assert reference in rows.first.inner_text()
    page.goto(f"{base}/conseiller/prospects")
    page.screenshot(path=str(screenshots / "advisor-queue.png"), full_page=True)

    page.click(f"text={reference}")
    page.click("text=Prendre en charge")
    assert "Vous avez pris ce prospect en charge." in page.inner_text("main")
    assert page.inner_text("#statut") == "Pris en charge"
    page.fill("#texte", "Rappeler en fin de journée. <b>pas de gras</b>")
    page.click("text=Enregistrer la note")
    assert "<b>pas de gras</b>" in page.inner_text("ul.notes")
    page.screenshot(path=str(screenshots / "advisor-lead.png"), full_page=True)

    page.click("text=Devoir de conseil")
    page.click("text=Rédiger le devoir de conseil")
    page.fill("#ajouts", "Le client souhaite la formule intermédiaire ; devis envoyé par e-mail.")
    page.fill("textarea[name='motifs_VG-AUTO']", "Voiture de 2023 : formule intermédiaire adaptée.")
    page.screenshot(path=str(screenshots / "advisor-advice-editor.png"), full_page=True)
    page.click("button[value=valider]")
    assert "validé et figé" in page.inner_text("main")
    shown_hash = page.inner_text("span.hash").removeprefix("SHA-256 ").strip()

    with page.expect_download() as download_info:
        page.click("text=Télécharger le PDF")
    saved = tmp_path / "advice.pdf"
    download_info.value.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == shown_hash
    page.screenshot(path=str(screenshots / "advisor-advice-frozen.png"), full_page=True)

    page.click("text=Se déconnecter")
    page.wait_for_url("**/conseiller/connexion**")
    page.fill("#identifiant", "sophie")
    page.fill("#mot_de_passe", "mot-de-passe-sophie")
    page.click("button[type=submit]")
    page.goto(f"{base}/conseiller/tableau-de-bord")
    assert "Charge par conseiller" in page.inner_text("main")
    assert "Alice Conseil" in page.inner_text("main")
    page.screenshot(path=str(screenshots / "advisor-dashboard.png"), full_page=True)
    context.close()


def test_an_advisor_is_refused_the_dashboard_in_the_browser(server, browser):
    base, _ = server
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/conseiller/connexion")
    page.fill("#identifiant", "alice")
    page.fill("#mot_de_passe", "mot-de-passe-alice-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/conseiller/prospects")
    response = page.goto(f"{base}/conseiller/tableau-de-bord")
    assert response is not None
    assert response.status == 403
    assert "Votre rôle ne donne pas accès à cette page." in page.inner_text("main")
    context.close()


# Codes shown on purpose: the PCS code beside its label, the product families' codes and
# "scooter", which are also the French words.
SHOWN_CODES = ("pcs_code", "current_coverage")


def codes_of(value: object) -> set[str]:
    """The codes a profile holds (its strings), those shown on purpose aside."""
    if isinstance(value, dict):
        return {c for key, item in value.items() if key not in SHOWN_CODES for c in codes_of(item)}
    if isinstance(value, list):
        return {code for item in value for code in codes_of(item)}
    return {value} if isinstance(value, str) else set()


def test_a_lead_profile_reads_in_french(server, browser, database_url):
    base, _ = server
    engine = open_engine(database_url)
    receipt = SqlHandoffService(engine).hand_off(
        handoff_request(
            contact=Contact(name="Paul Girard", email="paul.girard@exemple.fr"),
            profile=FULL_PROFILE,
        )
    )
    engine.dispose()
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{base}/conseiller/connexion")
    page.fill("#identifiant", "alice")
    page.fill("#mot_de_passe", "mot-de-passe-alice-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/conseiller/prospects")
    page.goto(f"{base}/conseiller/prospects/{receipt.lead_reference}")

    profile = page.locator("h2:text-is('Profil') + dl")
    names = profile.locator("dt").all_inner_texts()
    values = [
        v.replace("\u202f", " ").replace("\u00a0", " ")
        for v in profile.locator("dd").all_inner_texts()
    ]
    shown = dict(zip(names, values, strict=True))
    assert shown["Situation familiale"] == "Marié(e)"
    assert shown["Situation professionnelle"] == "Salarié(e)"
    assert shown["Véhicules"] == "Voiture, scooter"
    assert shown["Animaux"] == "Chien de 3 ans, chat de moins d'un an"
    assert shown["Épargne disponible"] == "2 000 €"
    assert shown["Budget mensuel"] == "150 € par mois"
    assert shown["Projets"].startswith("Prêt immobilier (montant 200 000 €, durée 20 ans)")
    assert shown["Objectifs exprimés"].startswith("Protéger votre famille")
    assert shown["Mesure de protection"] == "Aucune"
    assert len(shown) == len(FULL_PROFILE) - 1 + len(FULL_PROFILE["investor"])

    text = profile.inner_text()
    codes = codes_of(FULL_PROFILE) - {"scooter"}
    assert {"married", "employee", "car", "dog", "home_loan", "protect_family"} <= codes
    for code in codes:
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text), code
    for raw in ("{", "[", "_eur", "_years", "True", "False"):
        assert raw not in text
    assert "assistant — Prospect transmis" in page.inner_text("ul.audit")
    context.close()
