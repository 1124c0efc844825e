"""End to end in a real browser: the website widget, the real Rasa server (socket.io channel of
channels/website.py), the action server, the knowledge base and the advisor console.

A prospect opens the website, goes through the needs-discovery conversation in the widget, asks a
product question on the way (one bubble for the answer), gets recommendation cards (one bubble),
opens a cited source (the PDF at its page), rates the recommendation, asks for an advisor and gets
a lead reference; a supervisor then finds the lead in the console. The
knowledge base is built from the real corpus with the deterministic test embedder, the LLM is off
(extractive answers), as in tests/integration/test_conversation_flow.py.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.conftest import build_test_knowledge, stack_settings, start_servers
from tests.webapp.conftest import CHROMIUM, require_chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ANSWERS = {
    "Êtes-vous locataire": "je suis locataire",
    "logements en location": "non",
    "véhicule": "non",
    "projet": "non",
    "situation professionnelle": "salariée",
    "mutuelle santé obligatoire": "oui",
    "situation familiale": "célibataire",
    "personnes sont à votre charge": "aucune",
    "chien ou un chat": "non",
    "budget mensuel": "60 €",
    "contrats d'assurance avez-vous": "aucun",
    "mesure de protection juridique": "non",
    # Asked when the profile makes a savings or retirement product possible.
    "connaissances des placements": "des connaissances de base",
    "placements avez-vous déjà détenus": "des livrets et un peu d'assurance vie",
    "revenus annuels": "nos revenus sont de 35 000 euros",
    "épargne disponible": "environ 5 000 euros",
    "crédits et charges fixes": "je rembourse 700 € par mois",
    "objectif de ce placement": "préserver mon capital",
    "laisser cet argent placé": "10 ans",
    "niveau de risque": "un risque faible",
    "perte sur le capital": "une perte limitée",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("widget-e2e")
    variables = build_test_knowledge(tmp)
    advisor_url = f"sqlite:///{tmp / 'advisor.db'}"
    settings = stack_settings(tmp, advisor_database_url=advisor_url)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        supervisor = start_servers(settings, with_webapp=True)
    try:
        yield f"http://{settings.host}:{settings.webapp_port}", advisor_url
    finally:
        supervisor.stop()


def wait_for_replies(page, before: int, quiet_s: float = 1.5, timeout_s: float = 90) -> list[str]:  # type: ignore[no-untyped-def]
    """Wait until the bot has answered and gone quiet; return the texts of the new bot messages."""
    bots = page.locator(".vg-msg.vg-bot")
    deadline = time.monotonic() + timeout_s
    while bots.count() <= before:
        assert time.monotonic() < deadline, "the assistant did not answer in the widget"
        page.wait_for_timeout(100)
    count, stable_since = bots.count(), time.monotonic()
    while time.monotonic() - stable_since < quiet_s:
        page.wait_for_timeout(100)
        if bots.count() != count:
            count, stable_since = bots.count(), time.monotonic()
    return [
        bots.nth(i).locator(".vg-text").first.inner_text()
        for i in range(before, count)
        if bots.nth(i).locator(".vg-text").count()
    ]


def say(page, message: str) -> list[str]:  # type: ignore[no-untyped-def]
    before = page.locator(".vg-msg.vg-bot").count()
    page.locator("#vg-chat-input").fill(message)
    page.locator("#vg-chat-input").press("Enter")
    return wait_for_replies(page, before)


def bubbles_for(page, message: str) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The bot's bubbles answering one message."""
    bots = page.locator(".vg-msg.vg-bot")
    before = bots.count()
    say(page, message)
    return [bots.nth(i) for i in range(before, bots.count())]


def times_shown(page, words: str) -> int:  # type: ignore[no-untyped-def]
    """How many times the conversation shows these words (closed source lists excluded)."""
    return int(page.locator(".vg-log").inner_text().count(words))


def test_needs_discovery_to_a_lead_in_the_advisor_console(
    stack: tuple[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from advisor.auth import create_user
    from advisor.database import open_engine

    webapp_url, advisor_url = stack
    # UPDATE_SCREENSHOTS=1 refreshes docs/screenshots/widget-e2e-*.png; else a temporary folder.
    screenshots = DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(webapp_url + "/")
        page.locator(".vg-launcher").click()
        expect(page.locator("#vg-chat-panel")).to_be_visible()

        assert say(page, "Bonjour")[0].startswith("Bonjour")
        assert "Acceptez-vous" in say(page, "Je cherche une assurance pour mon appartement")[-1]
        assert say(page, "J'accepte")[-1] == "Résidez-vous en France ?"
        assert say(page, "oui")[-1] == "Quel âge avez-vous ?"
        reply = say(page, "j'ai 42 ans")

        # A product question in the middle of the form: one bubble for the answer (its words
        # once, its sources in the bubble), then the form's question again.
        answer, *rest = bubbles_for(page, "Quel est le délai de carence de l'assurance animaux ?")
        assert [bubble.locator(".vg-text").inner_text() for bubble in rest] == [reply[-1]]
        expect(answer.locator(".vg-feedback")).to_have_count(1)
        words = answer.locator(".vg-text").inner_text()
        assert words
        assert times_shown(page, words) == 1
        assert "Source :" not in answer.inner_text()
        transcript = list(reply)
        for _ in range(25):
            if reply[-1].startswith("Voici ce que j'ai retenu"):
                break
            question = next((key for key in ANSWERS if key in reply[-1]), None)
            assert question, transcript
            reply = say(page, ANSWERS[question])
            transcript += [f"> {ANSWERS[question]}", *reply]
        assert "Âge : 42 ans" in reply[-1]

        # The recommendation: one bubble, each product's reasons shown once (in its card).
        [recommendation] = bubbles_for(page, "oui c'est exact")
        cards = recommendation.locator(".vg-card")
        expect(cards.first).to_be_visible()
        reasons = recommendation.locator(".vg-reasons li").all_inner_texts()
        assert reasons
        assert all(times_shown(page, reason) == 1 for reason in reasons), reasons
        expect(recommendation.locator(".vg-feedback")).to_have_count(1)
        codes = [cards.nth(i).get_attribute("data-code") for i in range(cards.count())]
        assert "VG-HAB-LOC" in codes
        page.screenshot(path=str(screenshots / "widget-e2e-recommendations.png"))

        # Open a cited source: the PDF at its page.
        card = page.locator(".vg-card:has(.vg-sources)").first
        card.locator(".vg-sources summary").click()
        link = card.locator(".vg-source-link").first
        href = link.get_attribute("href")
        assert href is not None
        assert re.fullmatch(r"/documents/[a-z0-9._-]+\.pdf#page=\d+", href), href
        pdf = page.request.get(webapp_url + href.split("#")[0])
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        with context.expect_page() as opened:
            link.click()
        assert opened.value.url.endswith(href)

        # Rate the recommendation.
        message = page.locator(".vg-msg.vg-bot:has(.vg-card)").last
        message.get_by_role("button", name="Très utile").click()
        expect(message.locator(".vg-feedback-status")).to_have_text("Merci pour votre avis !")

        # Ask for an advisor and get a lead reference.
        before = page.locator(".vg-msg.vg-bot").count()
        page.locator(".vg-advisor").click()
        assert "prénom et votre nom" in wait_for_replies(page, before)[-1]
        assert "joindre" in say(page, "Camille Martin")[-1]
        assert "recontacté" in say(page, "camille.martin@exemple.fr")[-1]
        confirmation = say(page, "demain matin")[-1]
        reference = re.search(r"référence (\S+)\.", confirmation)
        assert reference, confirmation
        page.screenshot(path=str(screenshots / "widget-e2e-handoff.png"))

        # The lead is in the advisor console.
        engine = open_engine(advisor_url)
        create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
        with engine.connect() as connection:
            ratings = connection.execute(text("SELECT rating, mode FROM feedback")).all()
        engine.dispose()
        assert [tuple(row) for row in ratings] == [(4, "recommendations")]
        console = context.new_page()
        console.goto(webapp_url + "/conseiller/connexion")
        console.fill('input[name="identifiant"]', "sophie")
        console.fill('input[name="mot_de_passe"]', "mot-de-passe-sophie")
        console.locator('form button[type="submit"]').click()
        console.goto(webapp_url + "/conseiller/prospects")
        expect(console.locator("body")).to_contain_text(reference.group(1))
        context.close()
        browser.close()
