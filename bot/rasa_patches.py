"""Changes to Rasa 3.6's own code that make a turn cheaper without changing what it does.

One so far: Rasa checks every response of the action server against its JSON schema with
`jsonschema.validate`, which first checks the schema itself against the JSON Schema metaschema,
on every call, then builds a validator; for the project's responses that check of a constant
schema is about 60 % of the call's cost (docs/benchmarks.md, issue 20). `install()` replaces
`RemoteAction._validate_action_result` by the same check against a validator built once per
class (the same validator class, the same errors); a response that fails it is handed to Rasa's
own method, which raises Rasa's error.

The Rasa server installs it when it loads the project's tracker store (bot/tracker_store.py,
named in endpoints.yml), the one project module every deployment of the server imports.
tests/bot/test_rasa_patches.py compares it with Rasa's own method on valid and invalid responses.
"""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from rasa.core.actions.action import RemoteAction

# Rasa's method: the failing responses go through it, and the tests compare with it.
RASA_VALIDATE_ACTION_RESULT = RemoteAction._validate_action_result


_VALIDATORS: dict[type[RemoteAction], Any] = {}


def _validator(action_class: type[RemoteAction]) -> Any:
    """The validator of the response schema of this action class, its schema checked once."""
    if action_class not in _VALIDATORS:
        schema = action_class.action_response_format_spec()
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        _VALIDATORS[action_class] = validator_class(schema)
    return _VALIDATORS[action_class]


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result`, against a validator built once.

    A response that fails goes through Rasa's own method, which raises its own error.
    """
    if best_match(_validator(type(self)).iter_errors(result)) is None:
        return True
    return bool(RASA_VALIDATE_ACTION_RESULT(self, result))


def install() -> None:
    """Puts the changes in place (once; installing again changes nothing)."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
