"""How harnesses (tests, benchmarks, simulators, the stack's health check) reach the Rasa server on
loopback, always with a credential in an `Authorization: Bearer` header, never in the URL:

- the HTTP API (`/status`, `/conversations/<id>/tracker`): a short-lived HS256 JSON Web Token;
- the REST channel (`/webhooks/rest/webhook`, channels/rest.py): the shared secret
  RASA_REST_TOKEN (`rest_headers`). Its conversations live under `rest:<sender>` in the tracker
  store (`rest_conversation_id`), apart from every other channel's.

The stack starts Rasa with `--jwt-secret` (stack/services.py). Rasa checks the signature and reads
the payload's `user`: role `admin` opens every endpoint, role `user` only the conversation whose id
is its `username`. Standard library only, so that the tests of both environments can import it.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

# Long enough for one request, or for one health poll; a new token is signed for each.
TOKEN_LIFETIME_S = 300
ADMIN_USERNAME = "harness"


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _compact_json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def sign_hs256(claims: Mapping[str, object], secret: str) -> str:
    """A JWT (RFC 7519) of `claims`, signed with HMAC-SHA256 under `secret`."""
    header = _base64url(_compact_json({"alg": "HS256", "typ": "JWT"}))
    signing_input = f"{header}.{_base64url(_compact_json(claims))}"
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_base64url(signature)}"


def api_token(
    secret: str,
    conversation_id: str | None = None,
    lifetime_s: int = TOKEN_LIFETIME_S,
    now: float | None = None,
) -> str:
    """A token for one conversation's endpoints (role `user`), or for every endpoint (role
    `admin`, e.g. `/status`) when `conversation_id` is None; it expires after `lifetime_s`."""
    issued = int(time.time() if now is None else now)
    user = (
        {"username": ADMIN_USERNAME, "role": "admin"}
        if conversation_id is None
        else {"username": conversation_id, "role": "user"}
    )
    return sign_hs256({"user": user, "iat": issued, "exp": issued + lifetime_s}, secret)


def auth_headers(secret: str, conversation_id: str | None = None) -> dict[str, str]:
    """The `Authorization` header for one request (see `api_token`)."""
    return {"Authorization": f"Bearer {api_token(secret, conversation_id)}"}


def tracker_url(base_url: str, conversation_id: str) -> str:
    """The tracker of one conversation (`GET`, with `auth_headers(secret, conversation_id)`)."""
    return f"{base_url}/conversations/{conversation_id}/tracker"


REST_NAMESPACE = "rest"


def rest_headers(token: str) -> dict[str, str]:
    """The `Authorization` header of a REST channel request (`token`: RASA_REST_TOKEN)."""
    return {"Authorization": f"Bearer {token}"}


def rest_conversation_id(sender: str) -> str:
    """The tracker key of the REST channel's `sender`: read its tracker with
    `tracker_url(base, rest_conversation_id(sender))` and
    `auth_headers(secret, rest_conversation_id(sender))`."""
    return f"{REST_NAMESPACE}:{sender}"
