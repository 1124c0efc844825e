"""Short keyed tags of identifiers (conversation ids, phone numbers) for logs and reports.

A conversation id is personal data on the messaging channels (`whatsapp:+33612345678`), and a plain
hash of it is not a pseudonym: every French mobile number can be hashed in seconds and looked up.
`tag` is an HMAC-SHA256 under a secret key, cut to 12 hexadecimal characters: stable for one key
(the lines of one conversation can be followed), useless without the key.

`log_tag` uses `LOG_HASH_KEY` from the environment when it is set (shared by the replicas, so their
logs can be joined), otherwise a random key drawn once per process: tags then hold within one
process's logs only, and nothing outside that process can link them to a number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

TAG_CHARS = 12
KEY_VARIABLE = "LOG_HASH_KEY"

_process_key: bytes | None = None


def tag(value: str, key: bytes) -> str:
    """`value`'s keyed tag: 12 hex characters of HMAC-SHA256(key, value)."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:TAG_CHARS]


def log_key() -> bytes:
    """The key of `log_tag`: LOG_HASH_KEY, else a random key kept for this process's lifetime."""
    global _process_key
    configured = os.environ.get(KEY_VARIABLE, "")
    if configured:
        return configured.encode("utf-8")
    if _process_key is None:
        _process_key = secrets.token_bytes(32)
    return _process_key


def log_tag(value: str | None) -> str:
    """The tag to log in place of `value` (`-` when there is none)."""
    return tag(value, log_key()) if value else "-"
