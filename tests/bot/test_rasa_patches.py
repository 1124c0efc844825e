"""The changes to Rasa's code (bot/rasa_patches.py) behave as Rasa's own code does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches

VALID = [
    {"events": [], "responses": []},
    {},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "age", "value": 35},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
            {"event": "bot", "text": "Très bien.", "data": {"buttons": []}},
        ],
        "responses": [{"text": "Bonjour", "buttons": [{"title": "Oui", "payload": "/affirm"}]}],
    },
]
INVALID = [
    {"events": "slot"},
    {"events": [{"name": "age"}]},
    {"events": [{"event": "slot", "name": 3}]},
    {"responses": "Bonjour"},
    {"responses": ["Bonjour"]},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("validate_needs_discovery_form", EndpointConfig("http://127.0.0.1:1"))


@pytest.mark.parametrize("response", VALID)
def test_a_valid_response_passes_as_with_rasa(action, response):
    assert rasa_patches.RASA_VALIDATE_ACTION_RESULT(action, response) is True
    assert rasa_patches._validate_action_result(action, response) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_response_fails_with_rasa_error(action, response):
    with pytest.raises(ValidationError) as rasa_error:
        rasa_patches.RASA_VALIDATE_ACTION_RESULT(action, response)
    with pytest.raises(ValidationError) as our_error:
        rasa_patches._validate_action_result(action, response)
    assert our_error.value.message == rasa_error.value.message
    assert list(our_error.value.path) == list(rasa_error.value.path)


def test_the_rasa_server_gets_them_with_the_tracker_store():
    import bot.tracker_store  # noqa: F401 (what endpoints.yml makes the Rasa server import)

    assert RemoteAction._validate_action_result is rasa_patches._validate_action_result
    rasa_patches.install()  # twice: no change
    assert RemoteAction._validate_action_result is rasa_patches._validate_action_result
