from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from common.db import engine_from_url
from feedback.store import FeedbackStore
from tests.feedback.conftest import alembic, make_feedback
from webapp.api.deps import install_feedback_store
from webapp.console.pages import render_feedback_summary
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit


def body(**overrides: Any) -> dict[str, Any]:
    return make_feedback(**overrides).model_dump(mode="json")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    url = f"sqlite:///{tmp_path / 'advisor.db'}"
    alembic(url, "upgrade", "head")
    engine = engine_from_url(url)
    yield FeedbackStore(engine)
    engine.dispose()


@pytest.fixture
def client(store: FeedbackStore) -> Iterator[TestClient]:
    app = create_app(WebAppSettings(_env_file=None, environment="test"))
    install_feedback_store(app, store)
    with TestClient(app) as test_client:
        yield test_client


class TestPostFeedback:
    def test_a_rating_is_stored_and_acknowledged_in_french(
        self, client: TestClient, store: FeedbackStore
    ) -> None:
        response = client.post("/api/feedback", json=body(rating=5))
        assert response.status_code == 201
        assert response.json()["message"] == "Merci pour votre avis !"
        assert [item.rating for item in store.iter_all()] == [5]

    def test_changing_ones_mind_replaces_the_rating(
        self, client: TestClient, store: FeedbackStore
    ) -> None:
        client.post("/api/feedback", json=body(rating=5))
        response = client.post("/api/feedback", json=body(rating=2))
        assert response.status_code == 200
        assert response.json()["created"] is False
        assert [item.rating for item in store.iter_all()] == [2]

    def test_another_browser_cannot_overwrite_a_rating(
        self, client: TestClient, store: FeedbackStore
    ) -> None:
        first = client.post("/api/feedback", json=body(rating=5))
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "path=/api/feedback" in cookie
        with TestClient(client.app) as stranger:
            refused = stranger.post("/api/feedback", json=body(rating=1))
            assert refused.status_code == 409
            assert refused.json()["detail"] == (
                "Ce message a déjà été noté depuis un autre navigateur : cette note ne peut pas "
                "être modifiée ici."
            )
            stranger.cookies.set("vg_avis", "forged-" + "x" * 40, path="/api/feedback")
            assert stranger.post("/api/feedback", json=body(rating=1)).status_code == 409
        assert [item.rating for item in store.iter_all()] == [5]
        assert client.post("/api/feedback", json=body(rating=4)).status_code == 200
        assert [item.rating for item in store.iter_all()] == [4]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"rating": 9}, "rating"),
            ({"rating": "beaucoup"}, "rating"),
            ({"answer": ""}, "answer"),
            ({"conversation_id": ""}, "conversation_id"),
            ({"channel": "fax"}, "channel"),
            ({"sources": [{"page": 2}]}, "document"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field_and_keeps_earlier_ratings(
        self, client: TestClient, store: FeedbackStore, change: dict[str, Any], field: str
    ) -> None:
        client.post("/api/feedback", json=body(message_id="kept", rating=4))
        response = client.post("/api/feedback", json={**body(), **change})
        assert response.status_code == 422
        assert field in response.text
        assert [(item.message_id, item.rating) for item in store.iter_all()] == [("kept", 4)]

    def test_an_unavailable_database_is_answered_503_in_french(self, tmp_path: Path) -> None:
        app = create_app(WebAppSettings(_env_file=None, environment="test"))
        install_feedback_store(
            app, FeedbackStore(engine_from_url(f"sqlite:///{tmp_path / 'unmigrated.db'}"))
        )
        with TestClient(app) as client:
            response = client.post("/api/feedback", json=body())
        assert response.status_code == 503
        assert "réessayer" in response.json()["detail"]


class TestSummaryFragment:
    def request(self) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    def test_hostile_questions_are_escaped(self, store: FeedbackStore) -> None:
        store.record(make_feedback(rating=1, question="<script>alert('x')</script> ?"))
        html = render_feedback_summary(self.request(), store)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "1</strong> avis" in html
        assert "Pas du tout utile" in html

    def test_empty_and_unavailable_states_are_said(
        self, store: FeedbackStore, tmp_path: Path
    ) -> None:
        assert "Aucun avis pour l'instant" in render_feedback_summary(self.request(), store)
        broken = FeedbackStore(engine_from_url(f"sqlite:///{tmp_path / 'none.db'}"))
        assert "ne peuvent pas être lus" in render_feedback_summary(self.request(), broken)
