"""The HTTP probes' suite (`tests/security/probes.py`) without servers: its data, how a probe's
outcome is judged and counted, and the signatures its controls compute as the services do."""

import base64
import hashlib
import hmac
from typing import Any

import pytest

from tests.security.probes import (
    PROBES,
    OpenDoorError,
    Probe,
    Result,
    hub_signature,
    markdown,
    report,
    run_probe,
    twilio_signature,
)

pytestmark = pytest.mark.unit


def probe(probe_id: str, category: str, check: Any) -> Probe:
    return Probe(probe_id, category, "an attack", "refused", check)


def held(_target: Any) -> str:
    return "refused"


def open_door(_target: Any) -> str:
    raise OpenDoorError("200 'bienvenue'")


def broken(_target: Any) -> str:
    raise KeyError("location")


class TestTheSuite:
    def test_every_probe_has_an_id_a_category_and_an_expected_outcome(self) -> None:
        assert len({p.id for p in PROBES}) == len(PROBES) >= 30
        assert all(p.category and p.attack and p.expected for p in PROBES)

    def test_the_issues_points_are_all_probed(self) -> None:
        ids = {p.id for p in PROBES}
        assert {
            "rest-no-token",
            "rest-sender-phone",
            "telegram-no-secret",
            "telegram-set-webhook",
            "twilio-signature",
            "messenger-signature",
            "socketio-origin",
            "socketio-made-up-session",
            "rasa-api",
            "console-dev-key",
            "console-after-logout",
            "login-flood-account",
            "login-flood-responsive",
            "body-chunked-feedback",
            "body-chunked-recommendations",
            "body-chunked-login",
            "notes-other-advisor",
            "api-docs",
            "api-tokens",
            "deactivated-user",
            "feedback-overwrite",
            "feedback-csv-formulas",
        } <= ids


class TestJudging:
    def test_an_open_door_and_a_broken_probe_both_fail(self) -> None:
        target: Any = None
        assert run_probe(target, probe("a", "REST", held)).held
        opened = run_probe(target, probe("b", "REST", open_door))
        assert (opened.held, opened.observed) == (False, "200 'bienvenue'")
        crashed = run_probe(target, probe("c", "REST", broken))
        assert not crashed.held
        assert crashed.observed.startswith("the probe failed: KeyError")

    def test_the_report_counts_per_category_and_lists_the_open_doors(self) -> None:
        results = [
            Result(probe("a", "REST", held), True, "401", 1.0),
            Result(probe("b", "REST", held), False, "200", 2.0),
            Result(probe("c", "Telegram", held), True, "403", 0.5),
        ]
        result = report(results)
        assert (result["probes"], result["held"], result["seconds"]) == (3, 2, 3.5)
        assert result["categories"] == {
            "REST": {"probes": 2, "held": 1},
            "Telegram": {"probes": 1, "held": 1},
        }
        assert result["failures"] == [{"id": "b", "expected": "refused", "observed": "200"}]
        text = markdown(result)
        assert "| REST | 2 | 1 |" in text
        assert "| **total** | 3 | 2 |" in text
        assert "- b: expected refused; observed 200" in text


class TestSignatures:
    def test_twilios_signature_covers_the_url_and_the_sorted_parameters(self) -> None:
        # Twilio's documented example (auth token 12345); its RequestValidator gives the same.
        url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        params = {
            "CallSid": "CA1234567890ABCDE",
            "Caller": "+12349013030",
            "Digits": "1234",
            "From": "+12349013030",
            "To": "+18005551212",
        }
        assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        assert twilio_signature("12345", url, {**params, "Digits": "1235"}) != (
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        )

    def test_metas_signature_is_the_hmac_of_the_raw_body(self) -> None:
        body = b'{"object": "page"}'
        expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
        assert hub_signature("sha256", "secret", body) == f"sha256={expected}"
        assert hub_signature("sha1", "secret", body).startswith("sha1=")
        assert base64.b64decode(twilio_signature("k", "u", {}))  # valid base64
