"""The shared logging set-up (common/logging.py): JSON lines, text lines, request ids."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.logging import (
    JsonFormatter,
    RequestIdFilter,
    clean_request_id,
    configure_logging,
    log_format_from,
    logging_config,
    request_context,
    request_id_var,
    sender_hash,
    turn_request_id,
)
from common.pseudonym import KEY_VARIABLE, log_tag

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.unit


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def emitted(log_format: str, emit: object) -> str:
    """What the configured handler writes for the records `emit` logs."""
    stream = io.StringIO()
    config = logging_config("actions", "INFO", log_format)  # type: ignore[arg-type]
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    emit()  # type: ignore[operator]
    return stream.getvalue()


@pytest.mark.usefixtures("restored_logging")
class TestFormats:
    def test_json_is_one_object_per_line_with_the_request_id(self) -> None:
        def emit() -> None:
            with request_context("abc-1"):
                logging.getLogger("actions.answer").info("answered %s", "x\ny")
            logging.getLogger("actions.answer").warning("outside")

        lines = emitted("json", emit).splitlines()
        first, second = (json.loads(line) for line in lines)
        assert len(lines) == 2, "a message with a newline stays on one line"
        assert first["message"] == "answered x\ny"
        assert (first["level"], first["logger"], first["service"]) == (
            "INFO",
            "actions.answer",
            "actions",
        )
        assert first["request_id"] == "abc-1"
        assert first["time"].endswith("+00:00")
        assert second["request_id"] == "-"

    def test_an_exception_keeps_its_type_and_traceback(self) -> None:
        def emit() -> None:
            try:
                raise KeyError("slot")
            except KeyError:
                logging.getLogger("x").exception("failed")

        [line] = emitted("json", emit).splitlines()
        record = json.loads(line)
        assert record["exception"]["type"] == "KeyError"
        assert "raise KeyError" in record["exception"]["traceback"]

    def test_text_lines_show_the_request_id(self) -> None:
        def emit() -> None:
            with request_context("turn-7"):
                logging.getLogger("webapp").warning("slow")

        assert " WARNING webapp [turn-7] slow" in emitted("text", emit)

    def test_servers_loggers_propagate_to_the_one_handler(self) -> None:
        def emit() -> None:
            logging.getLogger("uvicorn.access").warning("GET /health")
            logging.getLogger("sanic.root").warning("Goin' Fast")

        lines = [json.loads(line) for line in emitted("json", emit).splitlines()]
        assert [line["logger"] for line in lines] == ["uvicorn.access", "sanic.root"]

    def test_configure_logging_replaces_existing_handlers_and_captures_warnings(self) -> None:
        logging.basicConfig()
        configure_logging("rasa", "INFO", "json")
        [handler] = logging.getLogger().handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, RequestIdFilter) for f in handler.filters)
        assert logging.getLogger("py.warnings").handlers == []  # they reach the root's handler


class TestSettings:
    def test_log_format_is_text_by_default_and_json_on_request(self) -> None:
        assert log_format_from({}) == "text"
        assert log_format_from({"LOG_FORMAT": " JSON "}) == "json"

    def test_an_unknown_log_format_is_refused_clearly(self) -> None:
        with pytest.raises(ValueError, match="LOG_FORMAT must be one of text, json, not 'xml'"):
            log_format_from({"LOG_FORMAT": "xml"})


class TestRequestIds:
    def test_a_turn_id_hides_the_conversation_id(self) -> None:
        request_id = turn_request_id("whatsapp:+33612345678", "9f2c")
        assert request_id == f"{sender_hash('whatsapp:+33612345678')}-9f2c"
        assert "612345678" not in request_id
        assert sender_hash("a") != sender_hash("b")

    def test_the_conversation_tag_is_keyed_not_a_plain_hash_of_the_number(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Hashing every French mobile number finds an unkeyed hash in seconds: the tag must
        depend on a key the attacker does not hold."""
        phone = "whatsapp:+33612345678"
        monkeypatch.setenv(KEY_VARIABLE, "clé-des-journaux-de-ce-test")
        keyed = turn_request_id(phone, "9f2c").split("-")[0]
        plain = hashlib.sha256(phone.encode()).hexdigest()
        assert keyed == log_tag(phone)
        assert not plain.startswith(keyed)
        monkeypatch.setenv(KEY_VARIABLE, "une-autre-clé-des-journaux")
        assert turn_request_id(phone, "9f2c").split("-")[0] != keyed

    def test_servers_sharing_the_key_derive_the_same_id(self) -> None:
        """The Rasa server and the action server are two processes: with one LOG_HASH_KEY their
        ids of a turn agree; without it each draws its own key and nothing links them."""
        script = (
            "from common.logging import turn_request_id; "
            "print(turn_request_id('whatsapp:+33612345678', 'm1'))"
        )

        def request_id_in_a_new_process(key: str | None) -> str:
            env = {k: v for k, v in os.environ.items() if k != KEY_VARIABLE}
            if key is not None:
                env[KEY_VARIABLE] = key
            result = subprocess.run(
                [sys.executable, "-c", script],
                env=env,
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            return result.stdout.strip()

        key = "clé-partagée-par-les-serveurs"
        shared = [request_id_in_a_new_process(key) for _ in range(2)]
        assert shared[0] == shared[1]
        assert shared[0] == f"{sender_hash('whatsapp:+33612345678', key.encode())}-m1"
        assert request_id_in_a_new_process(None) != request_id_in_a_new_process(None)

    def test_a_turn_id_refuses_an_unsafe_message_id(self) -> None:
        request_id = turn_request_id("s", "x y\nFAKE LOG LINE")
        assert "\n" not in request_id
        assert "FAKE" not in request_id

    def test_outside_ids_are_kept_only_when_plain_and_short(self) -> None:
        assert clean_request_id("req-1:2_3.4") == "req-1:2_3.4"
        assert clean_request_id("a" * 65) is None
        assert clean_request_id("a\r\nSet-Cookie: x") is None
        assert clean_request_id("") is None

    def test_the_context_is_restored_after_a_request(self) -> None:
        with request_context("outer"):
            with request_context("inner"):
                assert request_id_var.get() == "inner"
            assert request_id_var.get() == "outer"
        assert request_id_var.get() is None
