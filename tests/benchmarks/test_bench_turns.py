"""The per-turn latency benchmark's own logic: the journey check, the figures, the trivial bot."""

import argparse
import asyncio
import json

import httpx
import pytest
import yaml

from benchmarks.bench_turns import (
    _conversation,
    _Load,
    _percentile,
    _summary,
    _think_time,
    trivial_config,
)
from benchmarks.journey import SCRIPT
from stack.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

URL = "http://rasa.test/webhooks/rest/webhook"


def _play(handler: httpx.MockTransport) -> _Load:
    """One conversation of the journey against a fake Rasa server, without pauses."""

    async def play() -> _Load:
        load = _Load()
        async with httpx.AsyncClient(transport=handler) as client:
            await _conversation(client, URL, "person-1", load, (0.0, 0.0), check_journey=True)
        return load

    return asyncio.run(play())


def _rasa(replies: dict[str, list[dict[str, object]]], status: int = 200) -> httpx.MockTransport:
    """A fake Rasa REST channel: the replies to some messages, a plain text to the others."""

    def reply(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        return httpx.Response(status, json=replies.get(message, [{"text": "D'accord."}]))

    return httpx.MockTransport(reply)


JOURNEY_REPLIES: dict[str, list[dict[str, object]]] = {
    "oui c'est exact": [{"custom": {"type": "recommendations", "items": []}}],
    "demain matin": [{"text": "C'est enregistré : votre demande porte la référence VG-7K3M9Q."}],
}


class TestConversation:
    def test_a_journey_that_reaches_every_milestone_has_no_error(self):
        load = _play(_rasa(JOURNEY_REPLIES))
        assert load.errors == []
        assert len(load.latencies) == len(SCRIPT)
        assert sorted(load.by_message) == list(range(len(SCRIPT)))

    def test_a_journey_that_never_hands_off_is_an_error(self):
        load = _play(_rasa({"oui c'est exact": JOURNEY_REPLIES["oui c'est exact"]}))
        assert load.errors == ["person-1: the journey never reached the lead reference"]

    def test_a_failed_turn_is_an_error_naming_the_message(self):
        load = _play(_rasa(JOURNEY_REPLIES, status=500))
        assert load.errors[0] == "person-1: 'Bonjour' → HTTP 500"
        assert len(load.latencies) == len(SCRIPT)  # every turn is still timed


class TestFigures:
    def test_percentile_is_a_measured_value(self):
        values = [float(value) for value in range(1, 101)]
        assert _percentile(values, 0.95) == 95.0
        assert _percentile([3.0], 0.95) == 3.0

    def test_summary_rounds_median_p95_and_max(self):
        assert _summary([10.04, 20.0, 30.06]) == {"median_ms": 20.0, "p95_ms": 30.1, "max_ms": 30.1}


class TestThinkTime:
    @pytest.mark.parametrize(
        ("text", "bounds"), [("2:6", (2.0, 6.0)), ("0", (0.0, 0.0)), ("1.5", (1.5, 1.5))]
    )
    def test_bounds_are_read(self, text, bounds):
        assert _think_time(text) == bounds

    @pytest.mark.parametrize("text", ["6:2", "-1:2", "deux"])
    def test_bad_bounds_are_refused(self, text):
        with pytest.raises(argparse.ArgumentTypeError):
            _think_time(text)


def test_the_trivial_bot_has_the_assistant_nlu_pipeline_and_rules_only():
    assistant = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    trivial = yaml.safe_load(trivial_config())
    assert trivial["pipeline"] == assistant["pipeline"]
    assert trivial["policies"] == [{"name": "RulePolicy"}]
