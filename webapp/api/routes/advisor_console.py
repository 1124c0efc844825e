"""The advisor console, server-rendered in French under /conseiller/.

Pages work with plain HTML forms (no JavaScript needed); every POST checks the session's CSRF
token. Routes are plain functions (run in worker threads) except the login, which waits for its
password check in a bounded worker pool and is throttled per account and per client address.
Advisors and supervisors see the queue and the leads; only supervisors see the dashboard
(403 otherwise). After a successful POST the browser is redirected (303) to the page it came from
with a short message code; a refused POST re-renders the page with the French reason and the
text the user typed, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from advisor.auth import authenticate
from advisor.errors import AdvisorError, FrozenRecordError, LeadNotFoundError, PermissionDeniedError
from advisor.qualification import LEVELS
from advisor.schemas import AdviceVersion
from advisor.store import LeadFilters
from advisor.workflow import STATUSES, Actor
from product_catalog.categories import CATEGORIES
from webapp.api.deps import advisor_resources, get_feedback_store, status_of
from webapp.console.pages import (
    ConsoleFormDep,
    Refusal,
    console_post,
    feedback_summary,
    info_of,
    page,
    redirect,
    safe_next,
)
from webapp.console.profile import profile_lines
from webapp.console.session import (
    ConsoleSession,
    check_csrf,
    current_actor,
    new_csrf_token,
    read_session,
    set_session_cookie,
)
from webapp.console.wording import AGE_LABELS, CHANNEL_LABELS, PAGE_SIZE, SORT_LABELS
from webapp.core.assets import STATIC_DIR, asset_response

router = APIRouter(prefix="/conseiller", include_in_schema=False)
CONSOLE_STATIC_DIR = STATIC_DIR / "advisor"


# ------------------------------------------------------------------ login


@router.get("", include_in_schema=False)
def console_root() -> RedirectResponse:
    return redirect("/conseiller/prospects")


@router.get("/static/{name}")
def console_asset(name: str) -> Response:
    return asset_response(CONSOLE_STATIC_DIR, name)


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    context = {"next": safe_next(request.query_params.get("suivant")), "info": info_of(request)}
    return page(request, "advisor/login.html", context)


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn's --proxy-headers with
    FORWARDED_ALLOW_IPS naming the proxy, docs/security.md)."""
    return request.client.host if request.client else "unknown"


def locked_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        "Trop de tentatives de connexion infructueuses : par sécurité, la connexion est "
        f"suspendue. Réessayez dans {minutes} {unit}."
    )


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request, form: ConsoleFormDep) -> Response:
    """Async so that waiting for a password check holds no worker thread; every database read and
    the argon2 check itself run in worker threads."""
    resources = advisor_resources(request)
    session = await anyio.to_thread.run_sync(read_session, request)
    username = str(form.get("identifiant", "")).strip().lower()
    password = str(form.get("mot_de_passe", ""))
    target = safe_next(str(form.get("suivant", "")))
    try:
        check_csrf(session, form.get("csrf_token"))
    except PermissionDeniedError as error:
        return page(request, "advisor/login.html", {"error": str(error), "next": ""}, 403, session)
    address = client_address(request)
    context = {"username": username, "next": target}
    wait = await anyio.to_thread.run_sync(resources.throttle.retry_after, username, address)
    if wait is not None:
        locked = page(
            request,
            "advisor/login.html",
            {**context, "error": locked_message(wait)},
            status.HTTP_429_TOO_MANY_REQUESTS,
            session,
        )
        locked.headers["Retry-After"] = str(wait)
        return locked
    actor = await anyio.to_thread.run_sync(
        authenticate, resources.engine, username, password, limiter=resources.password_checks
    )
    if actor is None or actor.id is None:
        await anyio.to_thread.run_sync(resources.throttle.failed, username, address)
        return page(
            request,
            "advisor/login.html",
            {**context, "error": "Identifiant ou mot de passe incorrect."},
            status.HTTP_401_UNAUTHORIZED,
            session,
        )
    await anyio.to_thread.run_sync(resources.throttle.succeeded, username)
    token = await anyio.to_thread.run_sync(resources.sessions.open, actor.id)
    if session.token:  # logged in again over an open session: that one ends
        await anyio.to_thread.run_sync(resources.sessions.revoke, session.token)
    done = redirect(target)
    # A fresh CSRF token at login: a token seen before authentication is never reused.
    set_session_cookie(request, done, ConsoleSession(actor, new_csrf_token(), False, token))
    return done


@router.post("/deconnexion")
def logout(request: Request, form: ConsoleFormDep) -> Response:
    """Ends the server-side session: the cookie it was in opens nothing any more."""
    session = read_session(request)
    try:
        check_csrf(session, form.get("csrf_token"))
    except AdvisorError as error:
        return page(request, "advisor/error.html", {"message": str(error)}, 403, session)
    if session.token:
        advisor_resources(request).sessions.revoke(session.token)
    response = redirect("/conseiller/connexion", "logout")
    set_session_cookie(request, response, ConsoleSession(None, new_csrf_token(), False))
    return response


# ------------------------------------------------------------------ queue


@router.get("/prospects", response_class=HTMLResponse)
def queue(request: Request) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session)
    params = request.query_params
    try:
        page_number = int(params.get("page", "1") or "1")
    except ValueError:
        page_number = 0
    filters = LeadFilters(
        status=params.get("statut") or None,
        category=params.get("categorie") or None,
        channel=params.get("canal") or None,
        level=params.get("niveau") or None,
        age=params.get("anciennete") or None,
        mine=params.get("mes") == "1",
        sort=params.get("tri") or "recent",
        page=page_number,
        per_page=PAGE_SIZE,
    )
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": STATUSES,
        "levels": LEVELS,
        "ages": AGE_LABELS,
        "sorts": SORT_LABELS,
        "categories": CATEGORIES,
        "channels": CHANNEL_LABELS,
        "info": info_of(request),
    }
    try:
        result = advisor_resources(request).store.list_leads(filters, actor)
    except AdvisorError as error:
        return page(
            request,
            "advisor/queue.html",
            {**context, "error": str(error), "result": None},
            status_of(error),
            session,
            actor,
        )
    query = {key: value for key, value in params.items() if key != "page" and value}
    context["result"] = result
    context["page_link"] = lambda number: (
        "/conseiller/prospects?" + urlencode({**query, "page": number})
    )
    return page(request, "advisor/queue.html", context, 200, session, actor)


# ------------------------------------------------------------------ one lead

LEAD_PAGE = "advisor/lead.html"
ADVICE_PAGE = "advisor/advice.html"
# A lead page's own context, made from the lead's duty-of-advice versions.
Extras = Callable[[list[AdviceVersion]], dict[str, Any]]


def lead_view(
    request: Request,
    session: ConsoleSession,
    actor: Actor,
    reference: str,
    template: str,
    extras: Extras,
    error: AdvisorError | None = None,
) -> HTMLResponse:
    """A page about one lead (`LEAD_PAGE` or `ADVICE_PAGE`), with the refusal when there is one;
    a French 404 page for an unknown reference."""
    resources = advisor_resources(request)
    try:
        lead = resources.store.get_lead(reference)
    except LeadNotFoundError as missing:
        return page(request, "advisor/error.html", {"message": str(missing)}, 404, session, actor)
    versions = resources.records.versions(reference)
    context = {
        "lead": lead,
        "profile": profile_lines(lead.profile),
        "versions": versions,
        "error": str(error) if error else None,
        "info": info_of(request),
        "can_work": actor.is_supervisor or lead.claimed_by_id == actor.id,
        **extras(versions),
    }
    status_code = status_of(error) if error else status.HTTP_200_OK
    return page(request, template, context, status_code, session, actor)


def refusal(
    request: Request,
    reference: str,
    template: str,
    extras_of: Callable[[FormData | None, AdvisorError], Extras],
) -> Refusal:
    """The page a refused form came from, with the reason and what `extras_of` keeps of the form."""

    def refused(
        session: ConsoleSession, actor: Actor, error: AdvisorError, form: FormData | None
    ) -> HTMLResponse:
        extras = extras_of(form, error)
        return lead_view(request, session, actor, reference, template, extras, error)

    return refused


def with_note(typed_note: str = "") -> Extras:
    """The lead page's context: the note the user typed, shown again when it was refused."""
    return lambda _versions: {"typed_note": typed_note}


def with_draft(typed: dict[str, Any] | None = None) -> Extras:
    """The advice page's context: the draft, or what the advisor typed when a save was refused."""

    def extras(versions: list[AdviceVersion]) -> dict[str, Any]:
        draft = versions[-1] if versions and not versions[-1].frozen else None
        content = dict(draft.content) if draft else {}
        if typed and draft:  # a refused save shows what the advisor typed, not the stored draft
            content.update({k: v for k, v in typed.items() if k != "product_reasons"})
            content["products"] = [
                {**p, "reasons": typed.get("product_reasons", {}).get(p["code"], p["reasons"])}
                for p in content["products"]
            ]
        return {"draft": draft, "content": content}

    return extras


def no_note(_form: FormData | None, _error: AdvisorError) -> Extras:
    return with_note()


def kept_note(form: FormData | None, _error: AdvisorError) -> Extras:
    return with_note(str(form.get("texte", "")) if form is not None else "")


@router.get("/prospects/{reference}", response_class=HTMLResponse)
def lead_detail(request: Request, reference: str) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session)
    return lead_view(request, session, actor, reference, LEAD_PAGE, with_note())


@router.post("/prospects/{reference}/prise-en-charge")
def claim(request: Request, reference: str, form: ConsoleFormDep) -> Response:
    def act(_form: FormData, actor: Actor) -> str:
        advisor_resources(request).store.claim(reference, actor)
        return "claimed"

    done = f"/conseiller/prospects/{reference}"
    return console_post(request, form, act, done, refusal(request, reference, LEAD_PAGE, no_note))


@router.post("/prospects/{reference}/statut")
def change_status(request: Request, reference: str, form: ConsoleFormDep) -> Response:
    def act(form: FormData, actor: Actor) -> str:
        advisor_resources(request).store.change_status(
            reference, actor, str(form.get("statut", ""))
        )
        return "status"

    done = f"/conseiller/prospects/{reference}"
    return console_post(request, form, act, done, refusal(request, reference, LEAD_PAGE, no_note))


@router.post("/prospects/{reference}/notes")
def add_note(request: Request, reference: str, form: ConsoleFormDep) -> Response:
    def act(form: FormData, actor: Actor) -> str:
        advisor_resources(request).store.add_note(reference, actor, str(form.get("texte", "")))
        return "note"

    done = f"/conseiller/prospects/{reference}"
    return console_post(request, form, act, done, refusal(request, reference, LEAD_PAGE, kept_note))


# ------------------------------------------------------------------ duty of advice


def edits_of(form: FormData) -> dict[str, Any]:
    edits: dict[str, Any] = {
        "demands_and_needs": str(form.get("besoins", "")),
        "special_situations": str(form.get("situations", "")),
        "advisor_additions": str(form.get("ajouts", "")),
    }
    edits["product_reasons"] = {
        key.removeprefix("motifs_"): str(value)
        for key, value in form.items()
        if key.startswith("motifs_")
    }
    return edits


def kept_edits(form: FormData | None, error: AdvisorError) -> Extras:
    """What the advisor typed, unless the version is frozen now (then the stored one shows)."""
    if form is None or isinstance(error, FrozenRecordError):
        return with_draft()
    return with_draft(edits_of(form))


def no_edits(_form: FormData | None, _error: AdvisorError) -> Extras:
    return with_draft()


@router.get("/prospects/{reference}/devoir-de-conseil", response_class=HTMLResponse)
def advice(request: Request, reference: str) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session)
    return lead_view(request, session, actor, reference, ADVICE_PAGE, with_draft())


@router.post("/prospects/{reference}/devoir-de-conseil/brouillon")
def open_draft(request: Request, reference: str, form: ConsoleFormDep) -> Response:
    def act(_form: FormData, actor: Actor) -> str:
        advisor_resources(request).records.open_draft(reference, actor)
        return "draft"

    done = f"/conseiller/prospects/{reference}/devoir-de-conseil"
    return console_post(
        request, form, act, done, refusal(request, reference, ADVICE_PAGE, no_edits)
    )


@router.post("/prospects/{reference}/devoir-de-conseil")
def save_advice(request: Request, reference: str, form: ConsoleFormDep) -> Response:
    def act(form: FormData, actor: Actor) -> str:
        records = advisor_resources(request).records
        records.save_draft(reference, actor, edits_of(form))
        if form.get("action") == "valider":
            records.freeze(reference, actor)
            return "frozen"
        return "saved"

    done = f"/conseiller/prospects/{reference}/devoir-de-conseil"
    return console_post(
        request, form, act, done, refusal(request, reference, ADVICE_PAGE, kept_edits)
    )


@router.get("/prospects/{reference}/devoir-de-conseil/v{version}.pdf")
def advice_pdf(request: Request, reference: str, version: int) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    try:
        pdf, digest = advisor_resources(request).records.pdf(reference, version)
    except AdvisorError as error:
        return page(request, "advisor/error.html", {"message": str(error)}, 404, session, actor)
    filename = f"devoir-de-conseil-{reference.upper()}-v{version}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-SHA256": digest,
            "Cache-Control": "no-store",
        },
    )


# ------------------------------------------------------------------ supervision


@router.get("/tableau-de-bord", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session, "supervisor")
    data = advisor_resources(request).store.dashboard()
    context = {
        "dashboard": data,
        "statuses": STATUSES,
        # advisor/dashboard_extra.html shows it (feedback on the assistant's answers).
        "feedback_summary": feedback_summary(get_feedback_store(request)),
    }
    return page(request, "advisor/dashboard.html", context, 200, session, actor)
