"""REST API of the advisor workflow for the CRM and tools: `Authorization: Bearer <token>`.

Tokens are issued per user (`python -m advisor api-token USER`) and carry that user's role.
Errors answer a JSON `{"detail": "<French message>"}` with 401, 403, 404, 409, 413 or 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from advisor.errors import AdvisorError
from advisor.schemas import (
    AdvicePublic,
    AdviceUpdate,
    DashboardPublic,
    LeadPage,
    LeadPublic,
    LeadStatusUpdate,
    NoteCreate,
)
from advisor.store import LeadFilters
from webapp.api.deps import AdvisorDep, ApiActorDep, status_of
from webapp.console.wording import PAGE_SIZE

router = APIRouter(prefix="/api/advisor", tags=["advisor"])


@contextmanager
def answering_errors() -> Iterator[None]:
    """An advisor error becomes the JSON answer `{"detail": "<French message>"}`."""
    try:
        yield
    except AdvisorError as error:
        raise HTTPException(status_of(error), detail=str(error)) from None


@router.get("/leads")
def list_leads(
    advisor: AdvisorDep,
    actor: ApiActorDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    category: str | None = None,
    channel: str | None = None,
    level: str | None = None,
    age: str | None = None,
    mine: bool = False,
    sort: str = "recent",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> LeadPage:
    filters = LeadFilters(status_, category, channel, level, age, mine, sort, page, per_page)
    with answering_errors():
        return advisor.store.list_leads(filters, actor)


@router.get("/leads/{reference}")
def get_lead(reference: str, advisor: AdvisorDep, actor: ApiActorDep) -> LeadPublic:
    with answering_errors():
        return advisor.store.get_lead(reference)


@router.post("/leads/{reference}/claim")
def claim(reference: str, advisor: AdvisorDep, actor: ApiActorDep) -> dict[str, str]:
    with answering_errors():
        advisor.store.claim(reference, actor)
    return {"reference": reference.upper(), "status": "claimed", "claimed_by": actor.username}


@router.post("/leads/{reference}/status")
def change_status(
    reference: str, update: LeadStatusUpdate, advisor: AdvisorDep, actor: ApiActorDep
) -> dict[str, str]:
    with answering_errors():
        advisor.store.change_status(reference, actor, update.status)
    return {"reference": reference.upper(), "status": update.status}


@router.post("/leads/{reference}/notes", status_code=status.HTTP_201_CREATED)
def add_note(
    reference: str, note: NoteCreate, advisor: AdvisorDep, actor: ApiActorDep
) -> dict[str, str]:
    with answering_errors():
        advisor.store.add_note(reference, actor, note.text)
    return {"reference": reference.upper(), "author": actor.username}


@router.post("/leads/{reference}/advice/draft")
def open_draft(reference: str, advisor: AdvisorDep, actor: ApiActorDep) -> AdvicePublic:
    with answering_errors():
        return AdvicePublic.model_validate(advisor.records.open_draft(reference, actor))


@router.put("/leads/{reference}/advice/draft")
def save_draft(
    reference: str, update: AdviceUpdate, advisor: AdvisorDep, actor: ApiActorDep
) -> AdvicePublic:
    edits = update.model_dump(exclude_none=True)
    with answering_errors():
        return AdvicePublic.model_validate(advisor.records.save_draft(reference, actor, edits))


@router.post("/leads/{reference}/advice/freeze")
def freeze(reference: str, advisor: AdvisorDep, actor: ApiActorDep) -> AdvicePublic:
    with answering_errors():
        return AdvicePublic.model_validate(advisor.records.freeze(reference, actor))


@router.get("/leads/{reference}/advice/{version}/pdf")
def advice_pdf(reference: str, version: int, advisor: AdvisorDep, actor: ApiActorDep) -> Response:
    with answering_errors():
        pdf, digest = advisor.records.pdf(reference, version)
    return Response(pdf, media_type="application/pdf", headers={"X-Content-SHA256": digest})


@router.get("/dashboard")
def dashboard(advisor: AdvisorDep, actor: ApiActorDep) -> DashboardPublic:
    if not actor.is_supervisor:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Réservé aux superviseurs.")
    return DashboardPublic.of(advisor.store.dashboard())
