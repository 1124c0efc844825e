"""The harnesses' tokens for the Rasa HTTP API, checked by PyJWT as Rasa's sanic-jwt checks them
(the library of the Rasa environment, in a subprocess)."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from common.rasa_api import ADMIN_USERNAME, api_token, auth_headers, tracker_url

pytestmark = pytest.mark.unit

RASA_PYTHON = Path(__file__).resolve().parents[2] / ".venv-rasa" / "bin" / "python"
SECRET = "a-secret-of-this-test-only-0123456789"
# Decodes as sanic-jwt does (HS256 only, expiry checked), prints the payload or the error's name.
DECODE = """
import json, sys, jwt
token, secret, leeway = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    print(json.dumps(jwt.decode(token, secret, algorithms=["HS256"], leeway=leeway)))
except jwt.exceptions.PyJWTError as error:
    print(type(error).__name__)
"""


def decoded(token: str, secret: str = SECRET, leeway: int = 0) -> object:
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", DECODE, token, secret, str(leeway)],
        capture_output=True,
        text=True,
        check=True,
    )
    output = result.stdout.strip()
    return json.loads(output) if output.startswith("{") else output


class TestApiToken:
    def test_a_conversation_token_is_a_user_scoped_to_that_conversation(self) -> None:
        payload = decoded(api_token(SECRET, "persona-dev-01"))
        assert isinstance(payload, dict)
        assert payload["user"] == {"username": "persona-dev-01", "role": "user"}

    def test_without_a_conversation_the_token_is_an_admin(self) -> None:
        payload = decoded(api_token(SECRET))
        assert isinstance(payload, dict)
        assert payload["user"] == {"username": ADMIN_USERNAME, "role": "admin"}

    def test_the_token_is_short_lived(self) -> None:
        now = time.time()
        payload = decoded(api_token(SECRET, lifetime_s=60, now=now))
        assert isinstance(payload, dict)
        assert payload["exp"] - payload["iat"] == 60
        assert decoded(api_token(SECRET, lifetime_s=60, now=now - 120)) == "ExpiredSignatureError"

    def test_another_secret_does_not_verify(self) -> None:
        token = api_token(SECRET)
        assert decoded(token, secret="another-secret-of-this-test-0123456") == (
            "InvalidSignatureError"
        )


def test_the_header_carries_the_token_and_the_url_none() -> None:
    headers = auth_headers(SECRET, "persona-dev-01")
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert isinstance(decoded(token), dict)
    url = tracker_url("http://127.0.0.1:5005", "persona-dev-01")
    assert url == "http://127.0.0.1:5005/conversations/persona-dev-01/tracker"
