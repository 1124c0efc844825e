"""Rasa tracker databases for the erasure and purge tests, written by Rasa itself.

`rasa_tracker_file` runs tests/advisor/rasa_tracker.py in the Rasa environment, so the rows are
exactly those Rasa's SQL tracker store writes. `copy_to_postgresql` copies them into a PostgreSQL
schema (the table as Rasa declares it, `advisor.erasure.EVENTS`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from advisor.erasure import EVENTS

REPOSITORY = Path(__file__).resolve().parents[2]
RASA_PYTHON = REPOSITORY / ".venv-rasa" / "bin" / "python"


def rasa_tracker_file(path: Path, conversations: list[dict[str, Any]]) -> Path:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).with_name("rasa_tracker.py")), str(path),
         json.dumps(conversations)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return path


def copy_to_postgresql(sqlite_file: Path, url: str) -> None:
    source = create_engine(f"sqlite:///{sqlite_file}")
    target = create_engine(url)
    try:
        with source.connect() as reading:
            rows = [dict(row._mapping) for row in reading.execute(select(EVENTS))]
        EVENTS.create(target)
        with target.begin() as writing:
            writing.execute(insert(EVENTS), rows)
    finally:
        source.dispose()
        target.dispose()


def senders(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(EVENTS.c.sender_id).distinct()))
    finally:
        engine.dispose()
