"""The slot-parsing table (`slot_parser_cases.yml`): one case per row, read as the form reads it.

The rows are scored by `benchmarks.bench_parsing`, which mirrors how the needs-discovery form
keeps an answer; `TestTheMirrorIsTheForm` runs the real form on every row to prove the mirror.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.needs_discovery import ValidateNeedsDiscoveryForm
from actions.slot_parsers import ANSWER_PARSERS
from benchmarks.bench_parsing import (
    FACTS,
    KINDS,
    NEGATIVE_OR_MIXED,
    form_reading,
    load_cases,
    matches,
)
from tests.actions.conftest import tracker

pytestmark = pytest.mark.unit

CASES = load_cases(Path(__file__).with_name("slot_parser_cases.yml"))
ANSWERS = [case for case in CASES if case.slot != FACTS]


@pytest.mark.parametrize("case", CASES, ids=[case.answer for case in CASES])
def test_the_answer_is_read_as_expected(case):
    assert matches(case.expected, form_reading(case.slot, case.answer)), case.note


class TestTheTable:
    def test_it_is_large_and_mostly_hard(self):
        assert len(CASES) >= 200
        hard = [case for case in CASES if case.kind in NEGATIVE_OR_MIXED]
        assert len(hard) * 3 >= len(CASES)

    def test_every_row_names_a_known_slot_and_kind(self):
        assert {case.slot for case in CASES} <= {*ANSWER_PARSERS, FACTS}
        assert {case.kind for case in CASES} == set(KINDS)

    def test_every_question_of_the_form_has_negative_or_mixed_rows(self):
        asked = {case.slot for case in ANSWERS}
        hard = {case.slot for case in ANSWERS if case.kind in NEGATIVE_OR_MIXED}
        assert asked - hard == set()


# Slots already known when the question is asked, so that the answer makes a coherent profile.
BEFORE: dict[str, Any] = {
    "consent": True,
    "consent_at": "2026-11-26T10:00:00+00:00",
    "resides_in_france": True,
    "age": 45,
}
CONTEXT: dict[str, dict[str, Any]] = {
    "age": {"age": None},
    "resides_in_france": {"resides_in_france": None},
    "children_at_school": {"number_of_dependants": 20},
    "pet_age_years": {"pets": ["dog"]},
    "loan_duration_years": {"projects": ["home_loan"]},
}


class TestTheMirrorIsTheForm:
    """`form_reading` keeps what the real form keeps: the form runs on every answer of the table
    and the slot it sets is compared (answers that contradict the profile left aside)."""

    @pytest.mark.parametrize("case", ANSWERS, ids=[case.answer for case in ANSWERS])
    def test_the_form_keeps_what_the_benchmark_scores(self, case):
        slots = {**BEFORE, **CONTEXT.get(case.slot, {}), "requested_slot": case.slot}
        dispatcher = CollectingDispatcher()
        events = asyncio.run(
            ValidateNeedsDiscoveryForm().run(
                dispatcher,
                tracker(slots, case.answer, "inform", active_loop="needs_discovery_form"),
                {},
            )
        )
        if any("pas cohérent" in (message.get("text") or "") for message in dispatcher.messages):
            pytest.skip("the answer contradicts the profile this test starts from")
        kept = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
        assert case.slot in kept
        assert matches(form_reading(case.slot, case.answer), kept[case.slot])
