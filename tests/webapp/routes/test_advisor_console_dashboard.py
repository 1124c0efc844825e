"""The feedback summary inside the supervisor dashboard of the advisor console."""

import html
from pathlib import Path

import pytest

from advisor.auth import create_user
from common.db import engine_from_url
from feedback.store import FeedbackStore
from tests.feedback.conftest import alembic, make_feedback
from tests.webapp.helpers import console_app, log_in

pytestmark = pytest.mark.unit


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    alembic(url, "upgrade", "head")
    engine = engine_from_url(url)
    create_user(engine, "sophie", "Sophie Superviseure", "supervisor", "mot-de-passe-sophie")
    create_user(engine, "alice", "Alice Conseil", "advisor", "mot-de-passe-alice-1")
    store = FeedbackStore(engine)
    store.record(make_feedback(message_id="a", rating=5))
    store.record(make_feedback(message_id="b", rating=1, question="<b>Pourquoi ?</b>"))
    engine.dispose()
    return url


def test_the_supervisor_sees_the_feedback_summary(database_url: str) -> None:
    with console_app(database_url) as client:
        log_in(client, "sophie", "mot-de-passe-sophie")
        page = client.get("/conseiller/tableau-de-bord")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Avis sur les réponses de l'assistant" in text
    assert "2</strong> avis" in text
    assert "note moyenne" in text
    assert "<b>Pourquoi ?</b>" not in page.text  # escaped, listed among the poor answers
    assert "&lt;b&gt;Pourquoi ?&lt;/b&gt;" in page.text


def test_an_advisor_does_not_see_it(database_url: str) -> None:
    with console_app(database_url) as client:
        log_in(client, "alice", "mot-de-passe-alice-1")
        page = client.get("/conseiller/tableau-de-bord")
    assert page.status_code == 403
    assert "Avis sur les réponses" not in html.unescape(page.text)
