"""Console sessions: a signed cookie with the user id and a per-session CSRF token.

The cookie is signed with itsdangerous (keyed by WEBAPP_SECRET_KEY); the user is re-read from the
database on each request, so a deactivated account loses access at once. Every POST form carries
the CSRF token, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature

from advisor.auth import get_user
from advisor.errors import PermissionDeniedError
from advisor.workflow import ROLES, Actor
from webapp.api.deps import advisor_resources

SESSION_COOKIE = "vg_conseiller"


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int | None
    csrf: str
    is_new: bool


class LoginRequiredError(Exception):
    """No valid session: the console redirects to the login page."""


class RoleRequiredError(Exception):
    """Logged in, but without the role the page needs: 403."""


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


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
    return ConsoleSession(None, new_csrf_token(), True)


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
