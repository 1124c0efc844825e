"""Ratings of the assistant's answers, posted by the chat widget.

The ratings live beside the advisor's leads (ADVISOR_DATABASE_URL), in the store
`webapp.api.deps.get_feedback_store` gives; their summary is on the supervisor's dashboard
(webapp/console/pages.py).
"""

import logging

from fastapi import APIRouter, HTTPException, Response, status

from feedback.errors import FeedbackStorageError
from feedback.schemas import FeedbackCreate, FeedbackReceipt
from webapp.api.deps import FeedbackStoreDep

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feedback"])
UNAVAILABLE = (
    "Votre avis n'a pas pu être enregistré pour le moment. Merci de réessayer dans un instant."
)


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
