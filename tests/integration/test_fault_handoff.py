"""Fault suite (issue 18): the lead database unreachable at the handoff.

The real Rasa server and action server; the action server reaches its PostgreSQL lead store
through a TCP relay the test cuts (`tests.relay.Relay`, as tests/integration/test_faults.py
does). A person goes through the handoff while the relay is cut: the action server retries
within the turn, then keeps the request in its spool and tells the person, in French, that it
is recorded (no reference: none exists yet). Once the relay is back, the action server's
background task hands the request to the store: the lead appears exactly once, with the
person's details, and asking again finds it rather than making another.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from advisor.database import ensure_schema, open_engine
from common.rasa_api import rest_conversation_id
from stack.services import action_service, rasa_service
from stack.supervisor import Supervisor
from stack.training import model_path
from tests.integration.conftest import stack_settings
from tests.integration.test_faults import (
    POSTGRES,
    START_TIMEOUT_S,
    TECHNICAL_PROBLEM,
    Chat,
    fresh_database,
    texts,
)
from tests.relay import Relay

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPOOL_INTERVAL_S = 1
# What the person answers to each question of the handoff form (matched on the question).
ANSWERS = {
    "Acceptez-vous": "J'accepte",
    "prénom et votre nom": "Camille Martin",
    "joindre": "camille.martin@exemple.fr ou le 06 12 34 56 78",
    "recontacté": "demain matin",
}


@dataclass
class Stack:
    chat: Chat
    relay: Relay
    leads: Engine
    spool: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not model_path().exists():
        pytest.fail(f"no trained Rasa model at {model_path()}: run `make train` first")
    run_dir = tmp_path_factory.mktemp("fault-handoff")
    relay = Relay(target_port=5432)
    relay.open()
    with fresh_database() as name:
        # The schema is made beforehand, straight to PostgreSQL: the test reads the leads there.
        leads = open_engine(f"{POSTGRES}/{name}")
        ensure_schema(leads)
        settings = stack_settings(
            run_dir,
            advisor_database_url=f"postgresql://postgres@127.0.0.1:{relay.port}/{name}",
            knowledge_llm_model="",
        )
        spool = settings.run_dir / "handoff-spool"  # the stack gives each run its own
        actions = action_service(settings)
        assert actions.env["ACTION_SERVER_HANDOFF_SPOOL_DIR"] == str(spool)
        actions.env.update(
            {
                "ACTION_SERVER_HANDOFF_SPOOL_INTERVAL_S": str(SPOOL_INTERVAL_S),
                # No knowledge base (product questions get the polite refusal): a quick start.
                "KNOWLEDGE_STORE": "embedded",
                "KNOWLEDGE_STORE_DIR": str(run_dir / "no-knowledge"),
            }
        )
        supervisor = Supervisor(
            [actions, rasa_service(settings)], run_dir / "logs", START_TIMEOUT_S
        )
        try:
            with supervisor:
                yield Stack(Chat(settings), relay, leads, spool)
        finally:
            relay.cut()
            leads.dispose()


def stored_leads(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT reference, conversation_id, contact_name, contact_email, contact_phone,"
                " preferred_slot FROM advisor_leads"
            )
        )
        return [tuple(row) for row in rows]


def answer_the_handoff_form(chat: Chat, sender: str, until: str) -> list[dict[str, Any]]:
    """From "parler à un conseiller" to the question `until`, unanswered: the replies asking it."""
    replies = chat.say(sender, "Je voudrais parler à un conseiller")
    for _ in range(len(ANSWERS) + 2):
        last = texts(replies)
        if until in last:
            return replies
        question = next((key for key in ANSWERS if key in last), None)
        assert question, f"unexpected reply: {last}"
        replies = chat.say(sender, ANSWERS[question])
    raise AssertionError(f"the form never asked {until!r}: {texts(replies)}")


def test_a_handoff_while_the_database_is_down_is_recorded_and_stored_once_it_is_back(
    stack: Stack,
) -> None:
    chat, sender = stack.chat, "fault-handoff"
    answer_the_handoff_form(chat, sender, until="recontacté")

    stack.relay.cut()
    started = time.monotonic()
    said = texts(chat.say(sender, ANSWERS["recontacté"]))
    turn_s = time.monotonic() - started
    assert "votre demande est bien enregistrée" in said, said
    assert "dès que possible" in said
    assert "VG-" not in said, "a reference promised before any exists"
    assert TECHNICAL_PROBLEM not in said
    assert turn_s < 10, f"the person waited {turn_s:.1f} s"
    assert stored_leads(stack.leads) == []
    assert len(list(stack.spool.glob("*.json"))) == 1

    stack.relay.open()
    deadline = time.monotonic() + 60
    while not stored_leads(stack.leads) and time.monotonic() < deadline:
        time.sleep(0.5)
    [lead] = stored_leads(stack.leads)
    reference, *details = lead
    assert details == [
        rest_conversation_id(sender),
        "Camille Martin",
        "camille.martin@exemple.fr",
        "+33612345678",
        "demain matin",
    ]
    time.sleep(3 * SPOOL_INTERVAL_S)  # a few more rounds of the background task
    assert stored_leads(stack.leads) == [lead]
    assert list(stack.spool.glob("*.json")) == []

    # The person asks again: their request is found, with its reference, not made twice.
    again = texts(chat.say(sender, "Je voudrais parler à un conseiller"))
    assert reference in again, again
    assert stored_leads(stack.leads) == [lead]
