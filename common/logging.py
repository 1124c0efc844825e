"""One logging set-up for the three deployables: readable text, or one JSON object per line.

`LOG_FORMAT=json` makes every record one line of JSON with `time`,
`level`, `logger`, `message`, `service` and `request_id`, plus `exception` when there is one; the
default `text` keeps the familiar `time level logger [request id] message` lines. The action
server (its settings read LOG_FORMAT) and Rasa's ops channel call `configure_logging`; the web app
hands `uvicorn_log_config` to uvicorn. This module also runs in the Rasa server's environment
(Python 3.10, pydantic 1): standard library only.

A request id follows one user turn through the servers. The Rasa server and the action server
derive the same id from what both see: the user message's `message_id` and a keyed tag of the
conversation id (`turn_request_id`, `common.pseudonym.log_tag`). The conversation id itself never
appears, since on the messaging channels it is the user's phone number or account id, and an
unkeyed hash of it would not hide it (every French mobile number can be hashed in seconds): both
servers must share `LOG_HASH_KEY` for their ids to agree, as `python -m stack` arranges. The web
app takes `X-Request-ID` from the request or makes one. `request_id` is a context variable, so
concurrent requests on one event loop each log their own.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from common.pseudonym import log_key, tag

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[str, ...] = get_args(LogFormat)
LOG_FORMAT_VARIABLE = "LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# A request id received from outside (X-Request-ID) is kept only when it is this plain.
MAX_REQUEST_ID_CHARS = 64
_ALLOWED_ID_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
)

_UTC = timezone.utc  # noqa: UP017 (datetime.UTC is 3.11+; Rasa's server runs 3.10)

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def log_format_from(environ: Mapping[str, str] = os.environ) -> LogFormat:
    """LOG_FORMAT of this environment (`text` when unset); a clear error for anything else."""
    value = environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() or "text"
    if value == "json":
        return "json"
    if value == "text":
        return "text"
    raise ValueError(
        f"{LOG_FORMAT_VARIABLE} must be one of {', '.join(LOG_FORMATS)}, not {value!r}"
    )


def sender_hash(sender_id: str, key: bytes | None = None) -> str:
    """The keyed tag of a conversation id in request ids: `common.pseudonym.tag` under `key`,
    by default the logs' key (LOG_HASH_KEY, else one drawn for this process), so it is the
    `log_tag` the actions log. Without the key, trying every phone number finds nothing."""
    return tag(sender_id, log_key() if key is None else key)


def turn_request_id(sender_id: str | None, message_id: str | None) -> str:
    """The id of one user turn, computed alike by the Rasa server (from the user message) and the
    action server (from the tracker it receives): `<sender hash>-<message id>`. A turn without a
    message id (an action triggered by Rasa itself) gets a fresh random suffix."""
    conversation = sender_hash(sender_id) if sender_id else "anonymous"
    message = clean_request_id(message_id) if message_id else None
    return f"{conversation}-{message or 'x' + uuid.uuid4().hex[:12]}"


def clean_request_id(value: str | None) -> str | None:
    """`value` when it is a plain, short id; None for anything else (it came from outside)."""
    if not value or len(value) > MAX_REQUEST_ID_CHARS:
        return None
    return value if set(value) <= _ALLOWED_ID_CHARACTERS else None


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Log records emitted inside carry `request_id` (and the threads started with
    `asyncio.to_thread`, which copies the context)."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` and `service` to every record that passes through a handler."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        record.service = self.service
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, service,
    request_id, and exception (type and traceback) when the record carries one."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, _UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": getattr(record, "service", None) or self.service,
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = {
                "type": record.exc_info[0].__name__,
                "traceback": "".join(traceback.format_exception(*record.exc_info)),
            }
        elif record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(service: str, level: str, log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration: one handler on stderr, on the root logger,
    with the request id filter; the loggers of uvicorn and Sanic propagate to it instead of
    keeping their own formats (their access logs become records like any other)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "service": service}
        if log_format == "json"
        else {"format": TEXT_FORMAT}
    )
    passthrough = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter, "service": service}},
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request_id"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            name: dict(passthrough)
            for name in (
                "uvicorn",
                "uvicorn.error",
                "uvicorn.access",
                "sanic.root",
                "sanic.error",
                "sanic.access",
                "sanic.server",
            )
        },
    }


def configure_logging(service: str, level: str, log_format: LogFormat) -> None:
    """Replace whatever handlers the root logger has with the one of `logging_config`."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    logging.config.dictConfig(logging_config(service, level, log_format))
    # Python's warnings become records too: in JSON, every line of stderr is one object.
    logging.captureWarnings(True)


def uvicorn_log_config(service: str, level: str) -> dict[str, Any]:
    """What `uvicorn.run(log_config=…)` takes, in the format LOG_FORMAT selects."""
    return logging_config(service, level, log_format_from())
