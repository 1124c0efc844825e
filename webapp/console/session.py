"""Console sessions: a signed cookie with a session token and a per-session CSRF token.

The cookie is signed with itsdangerous (keyed by WEBAPP_SECRET_KEY) and holds the random token of a
server-side session (`advisor.sessions`): each request looks it up, so logging out, deactivating
the user or resetting their password ends it at once, and its lifetime and idle limit are enforced
by the server, not by the cookie. Before login the cookie holds only the CSRF token. Every POST
form carries that token, compared in constant time.

`read_session` reads the database: call it from sync routes (worker threads) only.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature

from advisor.errors import PermissionDeniedError
from advisor.workflow import ROLES, Actor
from webapp.api.deps import advisor_resources

SESSION_COOKIE = "vg_conseiller"


@dataclass(frozen=True)
class ConsoleSession:
    actor: Actor | None
    csrf: str
    is_new: bool
    # The server-side session's token; None before login.
    token: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.actor.id if self.actor else None


class LoginRequiredError(Exception):
    """No valid session: the console redirects to the login page."""


class RoleRequiredError(Exception):
    """Logged in, but without the role the page needs: 403."""


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def _read_cookie(request: Request) -> ConsoleSession:
    resources = advisor_resources(request)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            data = resources.signer.loads(raw, max_age=resources.session_max_age_s)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("csrf"), str):
            token = data.get("sid")
            if isinstance(token, str) and token:
                actor = resources.sessions.user_of(token)
                if actor is not None:
                    return ConsoleSession(actor, data["csrf"], False, token)
                # Ended, expired or revoked: logged out, with a fresh CSRF token.
                return ConsoleSession(None, new_csrf_token(), True)
            return ConsoleSession(None, data["csrf"], False)
    return ConsoleSession(None, new_csrf_token(), True)


def read_session(request: Request) -> ConsoleSession:
    """The request's console session, read once per request."""
    cached = getattr(request.state, "console_session", None)
    if isinstance(cached, ConsoleSession):
        return cached
    session = _read_cookie(request)
    request.state.console_session = session
    return session


def session_cookie_value(request: Request, session: ConsoleSession) -> str:
    signed: str = advisor_resources(request).signer.dumps(
        {"sid": session.token, "csrf": session.csrf}
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
    actor = session.actor
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
