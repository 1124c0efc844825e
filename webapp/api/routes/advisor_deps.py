"""Shared pieces of the advisor console and API: resources, sessions, CSRF, roles, error mapping.

Sessions are a signed cookie (itsdangerous, keyed by WEBAPP_SECRET_KEY) holding the user id and
a per-session CSRF token; the user is re-read from the database on each request, so a deactivated
account loses access at once. Every POST form carries the CSRF token, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine

from advisor.advice import AdviceRecords
from advisor.auth import get_user
from advisor.database import ensure_schema, open_engine
from advisor.errors import (
    AdvisorError,
    ClaimConflictError,
    FrozenRecordError,
    InvalidInputError,
    LeadNotFoundError,
    PermissionDeniedError,
    TransitionError,
)
from advisor.store import ROLES, Actor, LeadStore
from webapp.core.config import WebAppSettings

WEBAPP_DIR = Path(__file__).resolve().parents[2]
TEMPLATES = Jinja2Templates(directory=WEBAPP_DIR / "templates")
SESSION_COOKIE = "vg_conseiller"
SESSION_SALT = "advisor-console-session"
MAX_FORM_BYTES = 64 * 1024
MAX_API_BYTES = 256 * 1024

ERROR_STATUS: dict[type[AdvisorError], int] = {
    LeadNotFoundError: status.HTTP_404_NOT_FOUND,
    ClaimConflictError: status.HTTP_409_CONFLICT,
    TransitionError: status.HTTP_409_CONFLICT,
    FrozenRecordError: status.HTTP_409_CONFLICT,
    PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_of(error: AdvisorError) -> int:
    for kind, code in ERROR_STATUS.items():
        if isinstance(error, kind):
            return code
    return status.HTTP_400_BAD_REQUEST


@dataclass
class AdvisorResources:
    engine: Engine
    store: LeadStore
    records: AdviceRecords
    signer: URLSafeTimedSerializer
    session_max_age_s: int
    secure_cookie: bool


def advisor_resources(request: Request) -> AdvisorResources:
    resources = getattr(request.app.state, "advisor", None)
    if not isinstance(resources, AdvisorResources):
        raise RuntimeError("the advisor console is opened by the app's lifespan; it has not run")
    return resources


def install_advisor_lifespan(app: FastAPI, settings: WebAppSettings) -> None:
    """Open the lead store at start-up (after the catalogue), close it at shutdown."""
    previous: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            engine = open_engine(settings.advisor_database_url)
            ensure_schema(engine)
            catalogue_resources = getattr(application.state, "catalogue_resources", None)
            catalogue = getattr(catalogue_resources, "catalogue", None)
            application.state.advisor = AdvisorResources(
                engine=engine,
                store=LeadStore(engine),
                records=AdviceRecords(engine, catalogue),
                signer=URLSafeTimedSerializer(settings.secret_key, salt=SESSION_SALT),
                session_max_age_s=settings.advisor_session_max_age_s,
                secure_cookie=settings.environment != "local",
            )
            try:
                yield state
            finally:
                engine.dispose()

    app.router.lifespan_context = lifespan


# ------------------------------------------------------------------ console sessions


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int | None
    csrf: str
    is_new: bool


class LoginRequiredError(Exception):
    """No valid session: the console redirects to the login page."""


class RoleRequiredError(Exception):
    """Logged in, but without the role the page needs: 403."""


def read_session(request: Request) -> ConsoleSession:
    resources = advisor_resources(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            data = resources.signer.loads(raw, max_age=resources.session_max_age_s)
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                user_id = data.get("uid")
                return ConsoleSession(
                    user_id if isinstance(user_id, int) else None, data["csrf"], False
                )
        except BadSignature:
            pass
    return ConsoleSession(None, secrets.token_urlsafe(32), True)


def session_cookie_value(request: Request, session: ConsoleSession) -> str:
    signed: str = advisor_resources(request).signer.dumps(
        {"uid": session.user_id, "csrf": session.csrf}
    )
    return signed


def set_session_cookie(request: Request, response: Any, session: ConsoleSession) -> None:
    resources = advisor_resources(request)
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(request, session),
        max_age=resources.session_max_age_s,
        httponly=True,
        samesite="strict",
        secure=resources.secure_cookie,
        path="/",
    )


def current_actor(request: Request, session: ConsoleSession, *roles: str) -> Actor:
    if session.user_id is None:
        raise LoginRequiredError
    actor = get_user(advisor_resources(request).engine, session.user_id)
    if actor is None:
        raise LoginRequiredError
    if actor.role not in (roles or ROLES):
        raise RoleRequiredError
    return actor


def check_csrf(session: ConsoleSession, submitted: object) -> None:
    if (
        session.is_new
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted, session.csrf)
    ):
        raise PermissionDeniedError(
            "Le formulaire a expiré ou ne vient pas de la console : rechargez la page."
        )


def check_body_size(request: Request, limit: int) -> None:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLargeError(limit)


class PayloadTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"La requête dépasse {limit // 1024} Ko.")
        self.limit = limit
