"""How each messaging app shows the bot's messages (channels/formatting.py)."""

import pytest

from channels.formatting import (
    MESSENGER,
    SLACK,
    TELEGRAM,
    WHATSAPP,
    Option,
    numbered_block,
    render,
    split_text,
)

pytestmark = pytest.mark.unit

ANSWER = {
    "text": "Vous disposez de 30 jours pour renoncer au contrat.",
    "custom": {
        "type": "answer",
        "text": "Vous disposez de 30 jours pour renoncer au contrat.",
        "sources": [
            {
                "document": "vg-epargne-conditions-generales.pdf",
                "page": 4,
                "passage": "Le souscripteur peut renoncer dans un délai de trente jours "
                "calendaires révolus à compter de la date de conclusion.",
                "score": 0.8,
            },
            {"document": "vg-epargne-faq.pdf", "page": 1, "passage": "", "score": 0.5},
        ],
        "mode": "generated",
        "validated": True,
    },
}

RECOMMENDATIONS = {
    "text": "Voici ce que je vous propose.",
    "custom": {
        "type": "recommendations",
        "items": [
            {
                "code": "VG-AUTO",
                "name": "Vergemont Auto",
                "category": "auto",
                "reasons": ["Vous avez une voiture", "Budget respecté"],
                "warnings": ["Franchise de 300 €"],
                "sources": [{"document": "vg-auto-ipid.pdf", "page": 2, "passage": "Garanties"}],
            },
            {
                "code": "VG-PJ",
                "name": "Vergemont Juridique",
                "category": "protection_juridique",
                "reasons": ["Litiges"],
                "warnings": [],
                "sources": [],
            },
        ],
    },
    "buttons": [
        {"title": "En savoir plus", "payload": "/ask_more"},
        {"title": "Parler à un conseiller", "payload": "/request_advisor"},
    ],
}
ADVISOR_BUTTONS = [
    Option("En savoir plus", "/ask_more"),
    Option("Parler à un conseiller", "/request_advisor"),
]


class TestAnswers:
    @pytest.mark.parametrize("profile", [TELEGRAM, MESSENGER, WHATSAPP, SLACK])
    def test_the_answer_and_its_sources_are_one_plain_text(self, profile) -> None:
        reply = render(ANSWER, profile)
        assert len(reply.texts) == 1
        answer, sources = reply.texts[0].split("\n\n")
        assert answer == "Vous disposez de 30 jours pour renoncer au contrat."
        assert sources.startswith(
            "Sources :\n1. vg-epargne-conditions-generales.pdf, page 4 — « Le"
        )
        assert "\n2. vg-epargne-faq.pdf, page 1" in sources
        assert reply.buttons == []
        assert reply.numbered == []

    def test_the_citation_appended_to_the_text_gives_way_to_the_sources(self) -> None:
        # What the action sends: the answer with its citation, for apps that show no payload.
        message = {**ANSWER, "text": f"{ANSWER['text']}\n\nSource : vg-epargne-faq.pdf, page 1"}
        [text] = render(message, TELEGRAM).texts
        assert text.count("30 jours") == 1
        assert "Source : vg-epargne-faq.pdf" not in text
        assert text.startswith("Vous disposez de 30 jours pour renoncer au contrat.\n\nSources :")

    def test_an_answer_without_sources_is_its_text(self) -> None:
        custom = {"type": "answer", "text": "Je ne trouve pas.", "sources": [], "mode": "refusal"}
        assert render({"text": "Je ne trouve pas.", "custom": custom}, WHATSAPP).texts == [
            "Je ne trouve pas."
        ]

    def test_long_passages_are_shortened(self) -> None:
        message = {
            "custom": {
                **ANSWER["custom"],
                "sources": [{"document": "doc.pdf", "page": 1, "passage": "mot " * 200}],
            }
        }
        line = render(message, WHATSAPP).texts[0].split("\n\n")[1]
        assert line.endswith("… »")
        assert len(line) < 300

    def test_an_answer_payload_without_text_still_shows_its_answer(self) -> None:
        reply = render({"custom": ANSWER["custom"]}, TELEGRAM)
        assert reply.texts[0].startswith("Vous disposez de 30 jours pour renoncer au contrat.")

    def test_sources_link_to_the_pdf_page_when_the_documents_have_an_address(self) -> None:
        reply = render(ANSWER, WHATSAPP, documents_url="https://www.vergemont.example/documents/")
        assert (
            "https://www.vergemont.example/documents/vg-epargne-conditions-generales.pdf#page=4"
            in reply.texts[0]
        )

    def test_malformed_sources_are_skipped(self) -> None:
        message = {
            "text": "Réponse.",
            "custom": {
                "type": "answer",
                "sources": [None, "texte", {"page": 2}, {"document": "ok.pdf", "page": "trois"}],
            },
        }
        assert render(message, TELEGRAM).texts == ["Réponse.\n\nSource :\n1. ok.pdf"]


class TestRecommendations:
    def test_whatsapp_gets_the_cards_as_text_and_numbered_options_in_one_message(self) -> None:
        reply = render(RECOMMENDATIONS, WHATSAPP)
        assert reply.texts == [
            "Voici ce que je vous propose.\n\n"
            "Contrats proposés :\n"
            "1. *Vergemont Auto* (Automobile)\n"
            "   Pourquoi : Vous avez une voiture ; Budget respecté\n"
            "   Attention : Franchise de 300 €\n"
            "   Source : vg-auto-ipid.pdf, page 2 — « Garanties »\n"
            "2. *Vergemont Juridique* (Protection juridique)\n"
            "   Pourquoi : Litiges\n\n"
            "Répondez par le numéro de votre choix :\n1. En savoir plus\n2. Parler à un conseiller"
        ]
        assert reply.numbered == ADVISOR_BUTTONS
        assert reply.buttons == []

    def test_a_text_that_already_lists_the_products_is_not_followed_by_the_cards(self) -> None:
        # What the action writes for messaging apps: every product, its reasons and the notes.
        text = (
            "Voici les produits qui correspondent à votre situation :\n\n"
            "1. Vergemont Auto (Automobile)\n   • Vous avez une voiture\n\n"
            "2. Vergemont Juridique (Protection juridique)\n   • Litiges\n\n"
            "Ces propositions sont indicatives."
        )
        reply = render({**RECOMMENDATIONS, "text": text}, TELEGRAM)
        assert reply.texts == [text]
        assert reply.buttons == ADVISOR_BUTTONS

    def test_telegram_keeps_its_inline_buttons(self) -> None:
        reply = render(RECOMMENDATIONS, TELEGRAM)
        assert reply.buttons == ADVISOR_BUTTONS
        assert reply.numbered == []
        assert len(reply.texts) == 1
        assert "1. Vergemont Auto (Automobile)" in reply.texts[0]  # no markup in plain text

    def test_slack_keeps_up_to_five_buttons_and_bolds_names(self) -> None:
        reply = render(RECOMMENDATIONS, SLACK)
        assert reply.buttons == ADVISOR_BUTTONS
        assert "1. *Vergemont Auto*" in reply.texts[0]
        six = {
            "text": "Choisissez",
            "buttons": [{"title": f"Choix {i}", "payload": f"/c{i}"} for i in range(6)],
        }
        assert render(six, SLACK).buttons == []
        assert len(render(six, SLACK).numbered) == 6

    def test_messenger_falls_back_to_numbers_when_a_title_is_too_long(self) -> None:
        # Messenger quick replies hold 20 characters at most.
        reply = render(RECOMMENDATIONS, MESSENGER)
        assert reply.buttons == []
        assert reply.numbered == ADVISOR_BUTTONS
        short = {"text": "Oui ?", "buttons": [{"title": "Oui", "payload": "/affirm"}]}
        assert render(short, MESSENGER).buttons == [Option("Oui", "/affirm")]

    def test_telegram_falls_back_when_a_payload_exceeds_64_bytes(self) -> None:
        payload = '/inform{"profession": "' + "é" * 40 + '"}'
        message = {"text": "Vous êtes ?", "buttons": [{"title": "Autre", "payload": payload}]}
        reply = render(message, TELEGRAM)
        assert reply.buttons == []
        assert reply.numbered == [Option("Autre", payload)]


class TestOtherMessages:
    def test_categories_text_is_not_repeated(self) -> None:
        message = {
            "text": "Vergemont Assurances propose :\n• Épargne : assurance vie",
            "custom": {
                "type": "categories",
                "items": [{"code": "epargne", "label": "Épargne", "description": "assurance vie"}],
            },
        }
        assert render(message, WHATSAPP).texts == [message["text"]]
        assert render({"custom": message["custom"]}, WHATSAPP).texts == [
            "• Épargne : assurance vie"
        ]

    def test_unknown_payloads_are_ignored(self) -> None:
        assert render({"custom": {"type": "carousel", "x": 1}}, TELEGRAM).texts == []
        assert render({"text": "Bonjour", "custom": "texte"}, TELEGRAM).texts == ["Bonjour"]

    def test_buttons_without_text_get_a_question(self) -> None:
        message = {"buttons": [{"title": "Oui", "payload": "/affirm"}]}
        assert render(message, TELEGRAM).texts == ["Que souhaitez-vous faire ?"]

    def test_invalid_buttons_are_dropped(self) -> None:
        message = {"text": "?", "buttons": [{"title": "", "payload": "/x"}, {"title": "Ok"}, "x"]}
        reply = render(message, WHATSAPP)
        assert reply.numbered == []
        assert reply.texts == ["?"]


class TestSplitting:
    def test_texts_longer_than_the_limit_are_split_at_line_ends(self) -> None:
        text = "\n".join(f"Ligne {i} " + "x" * 80 for i in range(60))
        parts = render({"text": text}, WHATSAPP).texts
        assert len(parts) > 1
        assert all(len(part) <= WHATSAPP.max_text for part in parts)
        assert all(part.startswith("Ligne") for part in parts)
        assert "".join(parts).replace("\n", "") == text.replace("\n", "")

    def test_a_5000_character_word_is_cut(self) -> None:
        parts = split_text("A" * 5000, 1600)
        assert [len(p) for p in parts] == [1600, 1600, 1600, 200]

    def test_numbered_block(self) -> None:
        assert (
            numbered_block([Option("Oui", "/a")])
            == "Répondez par le numéro de votre choix :\n1. Oui"
        )
