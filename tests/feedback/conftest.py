"""Feedback tests run on SQLite (unit) and on the real PostgreSQL (integration), each on a fresh
database migrated with Alembic to head."""

import argparse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from common.db import engine_from_url
from feedback.schemas import FeedbackCreate
from feedback.store import FeedbackStore
from tests.services import require_service

REPOSITORY = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def alembic(url: str, *arguments: str) -> None:
    config = Config(str(REPOSITORY / "alembic.ini"))
    config.attributes["configure_logger"] = False
    config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
    getattr(command, arguments[0])(config, *arguments[1:])


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'advisor.db'}"
        return
    require_service("PostgreSQL", 5432)
    schema = f"feedback_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    alembic(database_url, "upgrade", "head")
    engine = engine_from_url(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> FeedbackStore:
    return FeedbackStore(engine)


def make_feedback(**overrides: object) -> FeedbackCreate:
    values: dict[str, object] = {
        "conversation_id": "conv-1",
        "message_id": "msg-1",
        "rating": 4,
        "question": "Quel est le délai de renonciation ?",
        "answer": "Vous disposez de 30 jours pour renoncer au contrat.",
        "sources": [
            {
                "document": "vg-epargne-conditions-generales.pdf",
                "page": 3,
                "passage": "Le souscripteur peut renoncer dans un délai de trente jours.",
                "score": 0.82,
            }
        ],
        "mode": "generated",
        "validated": True,
        **overrides,
    }
    return FeedbackCreate.model_validate(values)
