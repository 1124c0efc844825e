"""Ratings of the assistant's answers, posted by the chat widget; their summary for supervisors.

The feedback table lives beside the advisor's leads (ADVISOR_DATABASE_URL). The store uses the
engine the advisor console opened at start-up (which also brought the schema to the latest
migration); without the console, it opens its own engine on first use. Either way it is created
once and kept on the app; tests install their own.
"""

import logging
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.responses import HTMLResponse

from common.db import engine_from_url
from feedback.errors import FeedbackStorageError
from feedback.models import FeedbackCreate, FeedbackSummary
from feedback.settings import FeedbackSettings
from feedback.store import FeedbackStore

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "templates")
_STORE_LOCK = threading.Lock()
UNAVAILABLE = (
    "Votre avis n'a pas pu être enregistré pour le moment. Merci de réessayer dans un instant."
)


def install_feedback_store(app: FastAPI, store: FeedbackStore) -> None:
    app.state.feedback_store = store


def get_feedback_store(request: Request) -> FeedbackStore:
    store = getattr(request.app.state, "feedback_store", None)
    if isinstance(store, FeedbackStore):
        return store
    with _STORE_LOCK:
        store = getattr(request.app.state, "feedback_store", None)
        if not isinstance(store, FeedbackStore):
            advisor = getattr(request.app.state, "advisor", None)
            engine = getattr(advisor, "engine", None)
            if not isinstance(engine, Engine):
                engine = engine_from_url(FeedbackSettings().database_url)
            store = FeedbackStore(engine)
            install_feedback_store(request.app, store)
    return store


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]


class FeedbackReceipt(BaseModel):
    id: int
    rating: int
    created: bool
    message: str


@router.post(
    "/api/feedback",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the message had a rating already: it is replaced"}},
)
def post_feedback(
    feedback: FeedbackCreate, store: FeedbackStoreDep, response: Response
) -> FeedbackReceipt:
    """Store the rating of one bot message (1 ☹️ … 5 😁); rating it again replaces the rating."""
    try:
        stored, created = store.record(feedback)
    except FeedbackStorageError:
        logger.exception("feedback not stored")
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE, detail=UNAVAILABLE
        ) from None
    if not created:
        response.status_code = status.HTTP_200_OK
    return FeedbackReceipt(
        id=stored.id, rating=stored.rating, created=created, message="Merci pour votre avis !"
    )


def feedback_summary(store: FeedbackStore) -> FeedbackSummary | None:
    """The summary, or None when the database cannot be read (the dashboard says so)."""
    try:
        return store.summary()
    except FeedbackStorageError:
        logger.exception("feedback summary unavailable")
        return None


def render_feedback_summary(request: Request, store: FeedbackStore) -> str:
    """The HTML fragment of the supervisor dashboard (French, escaped by Jinja2)."""
    template = TEMPLATES.get_template("site/feedback_summary.html")
    return template.render(summary=feedback_summary(store), request=request)


def summary_fragment(request: Request, store: FeedbackStore) -> HTMLResponse:
    return HTMLResponse(render_feedback_summary(request, store))
