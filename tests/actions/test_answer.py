import asyncio
import time

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerQuestion
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit


def run(text, slots=None, entities=None):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionAnswerQuestion().run(
            dispatcher, tracker(slots or {}, text, "ask_product_question", entities), {}
        )
    )
    return events, dispatcher.messages


class TestActionAnswerQuestion:
    def test_answer_with_sources_scoped_to_the_named_product(self, answerer):
        events, [message, card] = run("Le bris de glace est-il couvert par Vergemont Auto ?")
        assert answerer.calls == [
            ("Le bris de glace est-il couvert par Vergemont Auto ?", "VG-AUTO")
        ]
        assert answerer.in_context == [False]  # named: only its documents
        assert events == [SlotSet("product", "VG-AUTO")]
        assert message["text"].startswith("Réponse tirée des documents.")
        assert "CG_VG-AUTO.pdf, page 3" in message["text"]
        assert card["custom"] == {
            "type": "answer",
            "text": "Réponse tirée des documents.",
            "sources": [{"document": "CG_VG-AUTO.pdf", "page": 3, "passage": "Le passage cité."}],
            "mode": "extractive",
            "validated": True,
        }

    def test_product_in_context_scopes_the_question(self, answerer):
        events, _ = run("quel est le délai de carence ?", slots={"product": "VG-ANIMAUX"})
        assert answerer.calls == [("quel est le délai de carence ?", "VG-ANIMAUX")]
        assert answerer.in_context == [True]  # the knowledge base checks the question fits it
        assert events == []

    def test_a_category_word_with_one_product_scopes_the_question(self, answerer):
        run("les chiens de première catégorie sont-ils acceptés par l'assurance animaux ?")
        assert answerer.calls[0][1] == "VG-ANIMAUX"

    def test_learn_more_button_asks_about_the_product_as_a_whole(self, answerer):
        _events, _ = run(
            '/ask_product_question{"product": "VG-PJ"}', slots={"product": "VG-PJ"},
            entities=[{"entity": "product", "value": "VG-PJ"}],
        )  # fmt: skip
        assert answerer.calls == [
            ("Quelles sont les garanties de Vergemont Protection Juridique ?", "VG-PJ")
        ]

    def test_refusal_shows_no_source(self):
        _, [message, card] = run("Les licornes sont-elles assurées ?")
        assert "Source" not in message["text"]
        assert card["custom"]["sources"] == []
        assert card["custom"]["mode"] == "refusal"

    def test_a_broken_knowledge_base_gets_a_polite_sentence(self, services):
        class Broken:
            def answer(
                self, question, product=None, context_product=None, on_sentence=None, hurry=False
            ):
                raise RuntimeError("index corrupted")

        services.knowledge.answerer = Broken()
        _, [message, card] = run("Quel est le délai de renonciation ?")
        assert "pour le moment" in message["text"]
        assert card["custom"]["mode"] == "unavailable"

    def test_a_product_name_in_context_is_resolved_to_its_code(self, answerer):
        events, _ = run("et pour les lunettes ?", slots={"product": "Vergemont Santé Seniors"})
        assert answerer.calls == [("et pour les lunettes ?", "VG-SANTE-SENIOR")]
        assert events == [SlotSet("product", "VG-SANTE-SENIOR")]


def test_other_conversations_are_served_while_a_question_is_answered(answerer, monkeypatch):
    # Retrieval is CPU work of tens of milliseconds: it runs in a thread, so the action server's
    # event loop keeps answering the other conversations' calls meanwhile.
    real_answer = answerer.answer

    def slow_answer(question, product=None, context_product=None, on_sentence=None, hurry=False):
        time.sleep(0.3)
        return real_answer(question, product, context_product, on_sentence, hurry)

    monkeypatch.setattr(answerer, "answer", slow_answer)

    async def scenario():
        ticks = 0
        action = asyncio.create_task(
            ActionAnswerQuestion().run(
                CollectingDispatcher(),
                tracker({}, "Le vol est-il couvert ?", "ask_product_question"),
                {},
            )
        )
        while not action.done():
            await asyncio.sleep(0.02)
            ticks += 1
        await action
        return ticks

    assert asyncio.run(scenario()) >= 5


class TestAQuestionThatStatesASituation:
    def test_an_opening_question_with_facts_starts_the_needs_discovery(self):
        events, messages = run(
            "jsuis freelance, jai pas de mutuelle ni de prevoyance, je fais comment ?"
        )
        assert messages  # answered first
        assert FollowupAction("needs_discovery_form") in events

    def test_a_plain_question_does_not(self):
        events, _ = run("Quel est le délai de carence de l'assurance santé ?")
        assert FollowupAction("needs_discovery_form") not in events

    def test_not_after_a_consent_decision(self):
        events, _ = run("je suis retraité, la mutuelle senior couvre quoi ?", {"consent": False})
        assert FollowupAction("needs_discovery_form") not in events
