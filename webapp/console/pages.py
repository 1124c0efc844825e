"""How the console answers: pages, redirects after a form, refusals, and its error pages.

Every page is rendered with the console's wording, the session's CSRF token and headers that keep
it out of caches and frames. A form is read by the `ConsoleFormDep` dependency (async, so that the
route itself can be a plain function run in a worker thread: the database and the PDF rendering
never run on the event loop) and handled by `console_post`: session, CSRF, the change, then a 303
redirect with a message code; a refused change re-renders the page with the French reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from advisor.errors import AdvisorError
from advisor.workflow import Actor
from feedback.errors import FeedbackStorageError
from feedback.schemas import FeedbackSummary
from feedback.store import FeedbackStore
from webapp.console.session import (
    ConsoleSession,
    LoginRequiredError,
    RoleRequiredError,
    check_csrf,
    current_actor,
    read_session,
    set_session_cookie,
)
from webapp.console.wording import COMMON, MESSAGES
from webapp.core.assets import TEMPLATES
from webapp.core.body_limit import PayloadTooLargeError

logger = logging.getLogger(__name__)

# Re-renders the page a form came from with the refusal (and, with the form, what was typed).
Refusal = Callable[[ConsoleSession, Actor, AdvisorError, FormData | None], HTMLResponse]


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    session: ConsoleSession | None = None,
    actor: Actor | None = None,
) -> HTMLResponse:
    session = session or read_session(request)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {**COMMON, **context, "csrf": session.csrf, "actor": actor},
        status_code=status_code,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
        },
    )
    if session.is_new:
        set_session_cookie(request, response, session)
    return response


def redirect(url: str, message: str | None = None) -> RedirectResponse:
    target = f"{url}?{urlencode({'info': message})}" if message else url
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


async def console_form(request: Request) -> FormData:
    """The posted form (its size bounded by `webapp.core.body_limit`)."""
    return await request.form()


ConsoleFormDep = Annotated[FormData, Depends(console_form)]


def console_post(
    request: Request,
    form: FormData,
    act: Callable[[FormData, Actor], str],
    done: str,
    refused: Refusal,
) -> Response:
    """A console form: the user's session and CSRF token, then `act`, which makes the change and
    returns the message code; a redirect to `done` follows, or `refused` on an advisor error."""
    session = read_session(request)
    actor = current_actor(request, session)
    try:
        check_csrf(session, form.get("csrf_token"))
    except AdvisorError as error:
        return refused(session, actor, error, None)
    try:
        message = act(form, actor)
    except AdvisorError as error:
        return refused(session, actor, error, form)
    return redirect(done, message)


def info_of(request: Request) -> str | None:
    return MESSAGES.get(request.query_params.get("info", ""))


def safe_next(target: str | None) -> str:
    """Only a path of the console itself: never an open redirect."""
    if target and target.startswith("/conseiller/") and not target.startswith("//"):
        return target
    return "/conseiller/prospects"


# ------------------------------------------------------------------ error pages


async def login_required(request: Request, _error: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        "/conseiller/connexion?" + urlencode({"suivant": target}),
        status_code=status.HTTP_303_SEE_OTHER,
    )


# Plain functions: Starlette runs them in a worker thread (the page reads the session).
def role_required(request: Request, _error: Exception) -> Response:
    return page(
        request,
        "advisor/error.html",
        {"message": "Votre rôle ne donne pas accès à cette page."},
        status.HTTP_403_FORBIDDEN,
    )


def payload_too_large(request: Request, error: Exception) -> Response:
    """413: as a console page for the console, in JSON otherwise."""
    if not request.url.path.startswith("/conseiller/"):
        return JSONResponse({"detail": str(error)}, status.HTTP_413_CONTENT_TOO_LARGE)
    return page(request, "advisor/error.html", {"message": str(error)}, 413)


ERROR_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Any]] = {
    LoginRequiredError: login_required,
    RoleRequiredError: role_required,
    PayloadTooLargeError: payload_too_large,
}


# ------------------------------------------------------------------ ratings on the dashboard


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
