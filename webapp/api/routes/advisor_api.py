"""REST API of the advisor workflow for the CRM and tools: `Authorization: Bearer <token>`.

Tokens are issued per user (`python -m advisor api-token USER`) and carry that user's role.
Errors answer a JSON `{"detail": "<French message>"}` with 401, 403, 404, 409, 413 or 422.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from advisor.auth import user_by_token
from advisor.errors import AdvisorError
from advisor.store import Actor, LeadFilters
from webapp.api.routes.advisor_deps import (
    MAX_API_BYTES,
    PayloadTooLargeError,
    advisor_resources,
    check_body_size,
    status_of,
)

router = APIRouter(prefix="/api/advisor", tags=["advisor"])


async def api_actor(request: Request) -> Actor:
    check_body_size(request, MAX_API_BYTES)
    if len(await request.body()) > MAX_API_BYTES:
        raise PayloadTooLargeError(MAX_API_BYTES)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    actor = (
        user_by_token(advisor_resources(request).engine, token.strip())
        if scheme.lower() == "bearer"
        else None
    )
    if actor is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Jeton d'API absent ou invalide.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return actor


ActorDep = Annotated[Actor, Depends(api_actor)]


def fail(error: AdvisorError) -> HTTPException:
    return HTTPException(status_of(error), detail=str(error))


class LeadSummaryPublic(BaseModel):
    reference: str
    contact_name: str
    category: str | None
    channel: str
    level: str
    score: int
    status: str
    created_at: datetime
    claimed_by: str | None


class LeadPagePublic(BaseModel):
    items: list[LeadSummaryPublic]
    total: int
    page: int
    per_page: int


class StatusUpdate(BaseModel):
    status: str = Field(max_length=20)


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=5_000)


class AdviceUpdate(BaseModel):
    demands_and_needs: str | None = Field(default=None, max_length=10_000)
    special_situations: str | None = Field(default=None, max_length=10_000)
    advisor_additions: str | None = Field(default=None, max_length=10_000)
    product_reasons: dict[str, Annotated[str, Field(max_length=10_000)]] = Field(
        default_factory=dict, max_length=50
    )


class AdvicePublic(BaseModel):
    version: int
    status: str
    content: dict[str, Any]
    sha256: str | None
    frozen_at: datetime | None
    frozen_by: str | None


def _advice(version: Any) -> AdvicePublic:
    return AdvicePublic(
        version=version.version,
        status=version.status,
        content=version.content,
        sha256=version.sha256,
        frozen_at=version.frozen_at,
        frozen_by=version.frozen_by,
    )


@router.get("/leads")
def list_leads(
    request: Request,
    actor: ActorDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    category: str | None = None,
    channel: str | None = None,
    level: str | None = None,
    age: str | None = None,
    mine: bool = False,
    sort: str = "recent",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> LeadPagePublic:
    filters = LeadFilters(status_, category, channel, level, age, mine, sort, page, per_page)
    try:
        result = advisor_resources(request).store.list_leads(filters, actor)
    except AdvisorError as error:
        raise fail(error) from None
    return LeadPagePublic(
        items=[LeadSummaryPublic(**asdict(item)) for item in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
    )


@router.get("/leads/{reference}")
def get_lead(request: Request, reference: str, actor: ActorDep) -> dict[str, Any]:
    try:
        lead = advisor_resources(request).store.get_lead(reference)
    except AdvisorError as error:
        raise fail(error) from None
    return asdict(lead)


@router.post("/leads/{reference}/claim")
def claim(request: Request, reference: str, actor: ActorDep) -> dict[str, str]:
    try:
        advisor_resources(request).store.claim(reference, actor)
    except AdvisorError as error:
        raise fail(error) from None
    return {"reference": reference.upper(), "status": "claimed", "claimed_by": actor.username}


@router.post("/leads/{reference}/status")
def change_status(
    request: Request, reference: str, update: StatusUpdate, actor: ActorDep
) -> dict[str, str]:
    try:
        advisor_resources(request).store.change_status(reference, actor, update.status)
    except AdvisorError as error:
        raise fail(error) from None
    return {"reference": reference.upper(), "status": update.status}


@router.post("/leads/{reference}/notes", status_code=status.HTTP_201_CREATED)
def add_note(request: Request, reference: str, note: NoteCreate, actor: ActorDep) -> dict[str, str]:
    try:
        advisor_resources(request).store.add_note(reference, actor, note.text)
    except AdvisorError as error:
        raise fail(error) from None
    return {"reference": reference.upper(), "author": actor.username}


@router.post("/leads/{reference}/advice/draft")
def open_draft(request: Request, reference: str, actor: ActorDep) -> AdvicePublic:
    try:
        return _advice(advisor_resources(request).records.open_draft(reference, actor))
    except AdvisorError as error:
        raise fail(error) from None


@router.put("/leads/{reference}/advice/draft")
def save_draft(
    request: Request, reference: str, update: AdviceUpdate, actor: ActorDep
) -> AdvicePublic:
    edits = update.model_dump(exclude_none=True)
    try:
        return _advice(advisor_resources(request).records.save_draft(reference, actor, edits))
    except AdvisorError as error:
        raise fail(error) from None


@router.post("/leads/{reference}/advice/freeze")
def freeze(request: Request, reference: str, actor: ActorDep) -> AdvicePublic:
    try:
        return _advice(advisor_resources(request).records.freeze(reference, actor))
    except AdvisorError as error:
        raise fail(error) from None


@router.get("/leads/{reference}/advice/{version}/pdf")
def advice_pdf(request: Request, reference: str, version: int, actor: ActorDep) -> Response:
    try:
        pdf, digest = advisor_resources(request).records.pdf(reference, version)
    except AdvisorError as error:
        raise fail(error) from None
    return Response(pdf, media_type="application/pdf", headers={"X-Content-SHA256": digest})


@router.get("/dashboard")
def dashboard(request: Request, actor: ActorDep) -> dict[str, Any]:
    if not actor.is_supervisor:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Réservé aux superviseurs.")
    data = advisor_resources(request).store.dashboard()
    return {
        "per_status": data.per_status,
        "total": data.total,
        "conversion_rate": data.conversion_rate,
        "workload": [
            {"advisor": name, "open": open_, "won": won} for name, open_, won in data.workload
        ],
    }
