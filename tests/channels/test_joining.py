"""One message per answer (channels/joining.py): a text and the payload repeating it, joined."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from channels.joining import MessageJoiner, joined_message

pytestmark = pytest.mark.unit

ANSWER = {"type": "answer", "text": "Le délai est de 30 jours.", "sources": [], "mode": "refusal"}
ANSWER_TEXT = {"text": "Le délai est de 30 jours.\n\nSource : cg.pdf, page 3"}
CARDS = {
    "type": "recommendations",
    "items": [
        {"code": "VG-AUTO", "name": "Vergemont Auto", "category": "auto", "reasons": []},
        {"code": "VG-PJ", "name": "Vergemont Juridique", "category": "protection_juridique"},
    ],
}
CARDS_TEXT = {
    "text": "Voici :\n\n1. Vergemont Auto (Automobile)\n\n2. Vergemont Juridique (Protection)",
    "buttons": [{"title": "Parler à un conseiller", "payload": "/ask_advisor"}],
}


def sent(*messages: dict[str, Any], in_turn: bool = True) -> list[tuple[str, dict[str, Any]]]:
    delivered: list[tuple[str, dict[str, Any]]] = []

    async def deliver(recipient_id: str, message: dict[str, Any]) -> None:
        delivered.append((recipient_id, message))

    async def scenario() -> None:
        joiner = MessageJoiner(deliver)
        if not in_turn:
            for message in messages:
                await joiner.push("user-1", message)
            return
        async with joiner.turn():
            for message in messages:
                await joiner.push("user-1", message)

    asyncio.run(scenario())
    return delivered


class TestJoinedMessage:
    def test_an_answer_payload_joins_the_text_it_repeats(self) -> None:
        joined = joined_message(ANSWER_TEXT, {"custom": ANSWER, "text": None, "buttons": None})
        assert joined == {**ANSWER_TEXT, "custom": ANSWER}

    def test_recommendations_join_the_text_naming_every_product(self) -> None:
        joined = joined_message(CARDS_TEXT, {"custom": CARDS})
        assert joined == {**CARDS_TEXT, "custom": CARDS}

    def test_a_payload_saying_something_else_stays_apart(self) -> None:
        other = {**ANSWER, "text": "Une autre réponse."}
        assert joined_message(ANSWER_TEXT, {"custom": other}) is None
        one_unnamed = {**CARDS, "items": [*CARDS["items"], {"name": "Vergemont Santé"}]}
        assert joined_message(CARDS_TEXT, {"custom": one_unnamed}) is None

    def test_only_a_bare_payload_of_an_answer_or_recommendations_joins(self) -> None:
        assert joined_message(ANSWER_TEXT, {"custom": ANSWER, "text": "Et aussi…"}) is None
        categories = {"type": "categories", "items": [{"label": "Le délai est de 30 jours."}]}
        assert joined_message(ANSWER_TEXT, {"custom": categories}) is None
        assert joined_message({"text": "Bonjour"}, {"text": "Bonjour"}) is None
        with_payload = {**ANSWER_TEXT, "custom": ANSWER}
        assert joined_message(with_payload, {"custom": ANSWER}) is None


class TestMessageJoiner:
    def test_the_text_and_its_payload_leave_as_one_message(self) -> None:
        delivered = sent(ANSWER_TEXT, {"custom": ANSWER})
        assert delivered == [("user-1", {**ANSWER_TEXT, "custom": ANSWER})]

    def test_order_is_kept_and_a_lone_text_leaves_at_the_end_of_the_turn(self) -> None:
        question = {"text": "Quel âge avez-vous ?"}
        delivered = sent(
            {"text": "Bien noté."}, CARDS_TEXT, {"custom": CARDS}, {"custom": ANSWER}, question
        )
        assert [message for _, message in delivered] == [
            {"text": "Bien noté."},
            {**CARDS_TEXT, "custom": CARDS},
            {"custom": ANSWER},  # repeats no text sent before it: shown on its own
            question,
        ]

    def test_a_message_already_holding_its_payload_goes_as_it_is(self) -> None:
        whole = {**ANSWER_TEXT, "custom": ANSWER}
        assert sent(whole, {"custom": ANSWER}) == [
            ("user-1", whole),
            ("user-1", {"custom": ANSWER}),
        ]

    def test_outside_a_turn_nothing_waits(self) -> None:
        # A message sent later on the same channel (a reminder) is not held for a turn's end.
        assert sent({"text": "Rappel"}, in_turn=False) == [("user-1", {"text": "Rappel"})]

    def test_the_end_of_a_failed_turn_still_sends_what_is_held(self) -> None:
        delivered: list[dict[str, Any]] = []

        async def deliver(_: str, message: dict[str, Any]) -> None:
            delivered.append(message)

        async def scenario() -> None:
            joiner = MessageJoiner(deliver)
            async with joiner.turn():
                await joiner.push("user-1", {"text": "Un instant…"})
                raise RuntimeError("the action server stopped")

        with pytest.raises(RuntimeError):
            asyncio.run(scenario())
        assert delivered == [{"text": "Un instant…"}]
