"""The chat widget in headless Chromium, against the web app and a scripted socket.io server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.webapp.fake_rasa import (
    ANSWER,
    LONG_WORD,
    RECOMMENDATIONS,
    RECOMMENDATIONS_INTRO,
    RECOMMENDATIONS_NOTE,
    FakeRasa,
)
from tests.webapp.servers import WebAppThread

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def open_chat(page: Page) -> None:
    page.locator(".vg-launcher").click()
    expect(page.locator("#vg-chat-panel")).to_be_visible()


def say(page: Page, text: str) -> None:
    page.locator("#vg-chat-input").fill(text)
    page.locator("#vg-chat-input").press("Enter")


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".vg-msg.vg-bot")


class TestConversation:
    def test_opening_shows_a_french_welcome_and_focuses_the_input(self, page: Page) -> None:
        open_chat(page)
        expect(bot_messages(page).first).to_contain_text("Bonjour")
        expect(page.locator("#vg-chat-input")).to_be_focused()
        expect(page.locator(".vg-launcher")).to_be_hidden()

    def test_typing_indicator_then_reply(self, page: Page, fake_rasa: FakeRasa) -> None:
        fake_rasa.reply_delay_s = 0.8
        try:
            open_chat(page)
            say(page, "Bonjour")
            expect(page.locator(".vg-typing")).to_be_visible()
            expect(bot_messages(page).last).to_have_text(re.compile("Vous avez dit : Bonjour"))
            expect(page.locator(".vg-typing")).to_be_hidden()
        finally:
            fake_rasa.reply_delay_s = 0.15
        assert fake_rasa.messages() == ["Bonjour"]

    def test_recommendation_cards_with_reasons_warnings_and_quick_replies(
        self, page: Page, fake_rasa: FakeRasa
    ) -> None:
        open_chat(page)
        say(page, "Que me recommandez-vous ?")
        cards = page.locator(".vg-card")
        expect(cards).to_have_count(2)
        expect(cards.nth(0).locator(".vg-card-title")).to_have_text("Vergemont Auto Essentiel")
        expect(cards.nth(0).locator(".vg-card-category")).to_have_text("Automobile")
        expect(cards.nth(0).locator(".vg-reasons li")).to_have_count(2)
        expect(cards.nth(0).locator(".vg-warnings")).to_contain_text("Franchise de 300 €")
        page.get_by_role("button", name="En savoir plus").click()
        expect(page.get_by_role("button", name="En savoir plus")).to_be_disabled()
        expect(page.locator(".vg-msg.vg-user").last).to_have_text(re.compile("En savoir plus"))
        expect(bot_messages(page).last).to_contain_text("Vous avez dit : /ask_more")
        assert fake_rasa.messages()[-1] == "/ask_more"

    def test_answer_sources_expand_and_link_to_the_pdf_page(
        self, page: Page, webapp: WebAppThread
    ) -> None:
        open_chat(page)
        say(page, "Quel est le délai de renonciation ?")
        answer = bot_messages(page).last
        expect(answer).to_contain_text("30 jours")
        summary = answer.locator(".vg-sources summary")
        expect(summary).to_have_text("Source")
        passage = answer.locator(".vg-passage")
        expect(passage).to_be_hidden()
        summary.click()
        expect(passage).to_have_text(re.compile("trente jours"))
        expect(answer.locator(".vg-source-page")).to_contain_text("page 3")
        link = answer.locator(".vg-source-link")
        href = link.get_attribute("href")
        assert href == "/documents/vg-test-conditions-generales.pdf#page=3"
        assert link.get_attribute("target") == "_blank"
        pdf = page.request.get(webapp.url + href.split("#")[0])
        assert pdf.status == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")

    def test_advisor_button_asks_for_an_advisor(self, page: Page, fake_rasa: FakeRasa) -> None:
        open_chat(page)
        page.get_by_role("button", name="Parler à un conseiller").click()
        expect(bot_messages(page).last).to_contain_text("Quel est votre nom ?")
        assert fake_rasa.messages() == ["Je souhaite parler à un conseiller"]


class TestOneMessagePerAnswer:
    """The channel sends an answer as one event: the text written for messaging apps and the
    payload the widget shows instead of it."""

    def replies_to(self, page: Page, text: str):  # type: ignore[no-untyped-def]
        open_chat(page)
        before = bot_messages(page).count()
        say(page, text)
        expect(bot_messages(page)).to_have_count(before + 1)
        page.wait_for_timeout(600)  # nothing else follows
        expect(bot_messages(page)).to_have_count(before + 1)
        return bot_messages(page).last

    def test_an_answer_is_one_bubble_that_says_it_once(self, page: Page) -> None:
        answer = self.replies_to(page, "Quel est le délai de renonciation ?")
        expect(answer.locator(".vg-text")).to_have_text(ANSWER["text"])
        assert answer.inner_text().count("30 jours") == 1
        assert "Source :" not in answer.inner_text(), "the citation is the sources list"
        expect(answer.locator(".vg-sources summary")).to_have_text("Source")

    def test_a_recommendation_is_one_bubble_of_cards_between_its_words(self, page: Page) -> None:
        message = self.replies_to(page, "Que me recommandez-vous ?")
        expect(message.locator(".vg-text")).to_have_text(RECOMMENDATIONS_INTRO)
        expect(message.locator(".vg-card")).to_have_count(2)
        expect(message.locator(".vg-note")).to_have_text(RECOMMENDATIONS_NOTE)
        shown = message.inner_text()
        for item in RECOMMENDATIONS["items"]:
            assert shown.count(item["name"]) == 1, item["name"]
            for reason in item["reasons"]:
                assert shown.count(reason) == 1, reason
        expect(message.locator(".vg-quick-reply")).to_have_count(2)
        expect(message.locator(".vg-feedback")).to_have_count(1)


class TestFeedback:
    def test_five_levels_and_the_rating_is_stored_with_the_answer(
        self, page: Page, webapp: WebAppThread
    ) -> None:
        open_chat(page)
        say(page, "Quel est le délai de renonciation ?")
        feedback = bot_messages(page).last.locator(".vg-feedback")
        rates = feedback.locator(".vg-rate")
        expect(rates).to_have_count(5)
        assert rates.all_text_contents() == ["☹️", "😐", "😊", "😄", "😁"]
        feedback.get_by_role("button", name="Très utile").click()
        expect(feedback.locator(".vg-feedback-status")).to_have_text("Merci pour votre avis !")
        expect(feedback.get_by_role("button", name="Très utile")).to_have_attribute(
            "aria-pressed", "true"
        )
        stored = [item for item in webapp.store.iter_all() if item.rating == 4]
        assert stored, "the rating was not stored"
        item = stored[-1]
        assert item.question == "Quel est le délai de renonciation ?"
        assert "30 jours" in item.answer
        assert item.sources[0].page == 3
        assert item.mode == "generated"
        assert item.channel == "website"

    def test_a_failed_save_says_so_and_can_be_retried(self, page: Page) -> None:
        open_chat(page)
        say(page, "Quel est le délai de renonciation ?")
        feedback = bot_messages(page).last.locator(".vg-feedback")
        page.route("**/api/feedback", lambda route: route.fulfill(status=503, body="{}"))
        feedback.get_by_role("button", name="Parfait").click()
        expect(feedback.locator(".vg-feedback-status")).to_contain_text(
            "n’a pas pu être enregistré"
        )
        expect(feedback.get_by_role("button", name="Parfait")).to_have_attribute(
            "aria-pressed", "false"
        )
        page.unroute("**/api/feedback")
        feedback.get_by_role("button", name="Parfait").click()
        expect(feedback.locator(".vg-feedback-status")).to_have_text("Merci pour votre avis !")


class TestHostileContent:
    def test_bot_html_and_scripts_are_shown_as_text_and_long_words_wrap(self, page: Page) -> None:
        open_chat(page)
        say(page, "hostile")
        expect(bot_messages(page).last).to_contain_text(LONG_WORD[:100])
        texts = page.locator(".vg-msg.vg-bot .vg-text").all_text_contents()
        assert any("<script>window.__pwned = 1</script>" in text for text in texts)
        assert page.evaluate("window.__pwned") is None
        assert page.locator(".vg-chat script, .vg-chat img").count() == 0
        scroller = page.locator(".vg-scroller")
        widths = scroller.evaluate("node => [node.scrollWidth, node.clientWidth]")
        assert widths[0] <= widths[1], "a 5,000-character word overflows the conversation"

    def test_user_html_is_shown_as_text(self, page: Page) -> None:
        open_chat(page)
        hostile = '<img src=x onerror="window.__pwned = 3">'
        say(page, hostile)
        expect(page.locator(".vg-msg.vg-user .vg-text").last).to_have_text(hostile)
        expect(bot_messages(page).last).to_contain_text("Vous avez dit : <img")
        assert page.evaluate("window.__pwned") is None


class TestPersistenceAndReconnection:
    def test_a_reload_keeps_the_conversation_and_its_session(
        self, page: Page, fake_rasa: FakeRasa
    ) -> None:
        open_chat(page)
        say(page, "Premier message")
        expect(bot_messages(page).last).to_contain_text("Premier message")
        first_session = fake_rasa.session_requests[-1]
        page.reload()
        expect(page.locator("#vg-chat-panel")).to_be_visible()
        expect(page.locator(".vg-msg.vg-user")).to_have_text([re.compile("Premier message")])
        say(page, "Second message")
        expect(bot_messages(page).last).to_contain_text("Second message")
        assert fake_rasa.session_requests[-1] == first_session
        assert {item["session_id"] for item in fake_rasa.received} == {first_session}

    def test_a_dropped_socket_reconnects_and_queued_messages_are_delivered(
        self, page: Page, fake_rasa: FakeRasa
    ) -> None:
        open_chat(page)
        say(page, "Avant la coupure")
        expect(bot_messages(page).last).to_contain_text("Avant la coupure")
        session = fake_rasa.session_requests[-1]
        fake_rasa.refuse = True
        fake_rasa.drop_all()
        expect(page.locator(".vg-status")).to_contain_text("Connexion perdue")
        say(page, "Pendant la coupure")
        expect(page.locator(".vg-msg.vg-user.vg-pending")).to_have_count(1)
        fake_rasa.refuse = False
        expect(bot_messages(page).last).to_contain_text("Pendant la coupure", timeout=15_000)
        expect(page.locator(".vg-msg.vg-pending")).to_have_count(0)
        expect(page.locator(".vg-msg.vg-user")).to_have_count(2)
        assert fake_rasa.session_requests[-1] == session
        assert fake_rasa.messages() == ["Avant la coupure", "Pendant la coupure"]


class TestAccessibility:
    def test_keyboard_only_use(self, page: Page) -> None:
        page.locator(".vg-launcher").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#vg-chat-input")).to_be_focused()
        page.keyboard.type("Bonjour au clavier")
        page.keyboard.press("Enter")
        expect(bot_messages(page).last).to_contain_text("Bonjour au clavier")
        page.keyboard.press("Escape")
        expect(page.locator("#vg-chat-panel")).to_be_hidden()
        expect(page.locator(".vg-launcher")).to_be_focused()
        expect(page.locator(".vg-launcher")).to_have_attribute("aria-expanded", "false")

    def test_landmarks_for_screen_readers(self, page: Page) -> None:
        open_chat(page)
        expect(page.get_by_role("dialog", name="Assistant Vergemont")).to_be_visible()
        log = page.get_by_role("log")
        expect(log).to_have_attribute("aria-live", "polite")
        expect(page.get_by_label("Votre message")).to_be_visible()
        say(page, "Quel est le délai de renonciation ?")
        expect(page.get_by_role("group", name="Cette réponse vous a-t-elle aidé ?")).to_be_visible()
        expect(bot_messages(page).last.locator(":scope > .vg-sr")).to_have_text("Assistant : ")

    def test_phone_sized_screen_gets_a_full_screen_panel(
        self, browser, webapp: WebAppThread
    ) -> None:  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True)
        page = context.new_page()
        page.goto(webapp.url + "/")
        page.locator(".vg-launcher").click()
        box = page.locator("#vg-chat-panel").bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 375, 667)
        expect(page.locator("#vg-chat-input")).to_be_in_viewport()
        context.close()
