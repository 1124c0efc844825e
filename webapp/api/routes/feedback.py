"""Ratings of the assistant's answers, posted by the chat widget.

The ratings live beside the advisor's leads (ADVISOR_DATABASE_URL), in the store
`webapp.api.deps.get_feedback_store` gives; their summary is on the supervisor's dashboard
(webapp/console/pages.py).

Each browser gets a random rater token in an HttpOnly cookie (`vg_avis`, sent only to this route)
with its first rating; a rating can be replaced only with the token it was given with, so knowing
a conversation's ids is not enough to change someone else's rating (409).
"""

import logging
import re
import secrets

from fastapi import APIRouter, HTTPException, Request, Response, status

from feedback.errors import FeedbackStorageError, RatingLockedError
from feedback.schemas import FeedbackCreate, FeedbackReceipt
from webapp.api.deps import FeedbackStoreDep
from webapp.core.config import WebAppSettings

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])
FEEDBACK_PATH = "/api/feedback"
RATER_COOKIE = "vg_avis"
RATER_COOKIE_MAX_AGE_S = 30 * 24 * 3600
_RATER_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
UNAVAILABLE = (
    "Votre avis n'a pas pu être enregistré pour le moment. Merci de réessayer dans un instant."
)
LOCKED = (
    "Ce message a déjà été noté depuis un autre navigateur : cette note ne peut pas être "
    "modifiée ici."
)


def rater_token(request: Request) -> str | None:
    token = request.cookies.get(RATER_COOKIE, "")
    return token if _RATER_TOKEN.fullmatch(token) else None


@router.post(
    FEEDBACK_PATH,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the message had a rating from this browser: it is replaced"},
        409: {"description": "the message was rated from another browser: nothing changed"},
    },
)
def post_feedback(
    feedback: FeedbackCreate, store: FeedbackStoreDep, request: Request, response: Response
) -> FeedbackReceipt:
    """Store the rating of one bot message (1 ☹️ … 5 😁); rating it again from the same browser
    replaces the rating."""
    token = rater_token(request)
    if token is None:
        token = secrets.token_urlsafe(32)
        settings: WebAppSettings = request.app.state.settings
        response.set_cookie(
            RATER_COOKIE,
            token,
            max_age=RATER_COOKIE_MAX_AGE_S,
            path=FEEDBACK_PATH,
            httponly=True,
            samesite="strict",
            secure=not settings.is_development,
        )
    try:
        stored, created = store.record(feedback, rater=token)
    except RatingLockedError:
        raise HTTPException(status_code=status.HTTP_409_CONFLICT, detail=LOCKED) from None
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
