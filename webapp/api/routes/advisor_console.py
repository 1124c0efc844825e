"""The advisor console, server-rendered in French under /conseiller/.

Pages work with plain HTML forms (no JavaScript needed); every POST checks the session's CSRF
token. Advisors and supervisors see the queue and the leads; only supervisors see the dashboard
(403 otherwise). After a successful POST the browser is redirected (303) to the page it came from
with a short message code; a refused POST re-renders the page with the French reason and the
text the user typed, so nothing is lost.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from advisor.advice import AdviceVersion
from advisor.auth import authenticate
from advisor.errors import AdvisorError, FrozenRecordError, LeadNotFoundError
from advisor.qualification import LEVEL_LABELS, LEVELS
from advisor.store import AGES, SORTS, STATUS_LABELS, STATUSES, Actor, LeadFilters
from product_catalog.categories import CATEGORIES
from webapp.api.routes import advisor_api
from webapp.api.routes.advisor_deps import (
    MAX_FORM_BYTES,
    TEMPLATES,
    WEBAPP_DIR,
    ConsoleSession,
    LoginRequiredError,
    PayloadTooLargeError,
    RoleRequiredError,
    advisor_resources,
    check_body_size,
    check_csrf,
    current_actor,
    install_advisor_lifespan,
    read_session,
    set_session_cookie,
    status_of,
)
from webapp.api.routes.feedback import feedback_summary, get_feedback_store
from webapp.api.routes.site import _asset
from webapp.core.config import WebAppSettings

router = APIRouter(prefix="/conseiller", include_in_schema=False)
STATIC_DIR = WEBAPP_DIR / "static" / "advisor"

CHANNEL_LABELS = {
    "website": "Site web",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "messenger": "Messenger",
    "slack": "Slack",
    "rest": "API",
    "other": "Autre",
}
AGE_LABELS = {
    "24h": "Moins de 24 h",
    "7j": "1 à 7 jours",
    "30j": "7 à 30 jours",
    "plus": "Plus de 30 jours",
}
SORT_LABELS = {"recent": "Plus récents", "ancien": "Plus anciens", "score": "Meilleur score"}
MESSAGES = {
    "claimed": "Vous avez pris ce prospect en charge.",
    "status": "Le statut a été mis à jour.",
    "note": "La note a été ajoutée.",
    "saved": "Le brouillon a été enregistré.",
    "frozen": "Le devoir de conseil a été validé et figé.",
    "draft": "Un brouillon est ouvert.",
    "logout": "Vous êtes déconnecté.",
}
CATEGORY_LABELS = {category.code: category.label for category in CATEGORIES}
COMMON = {
    "status_labels": STATUS_LABELS,
    "level_labels": LEVEL_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "category_labels": CATEGORY_LABELS,
}


def mount_advisor(app: FastAPI, settings: WebAppSettings) -> None:
    """Everything of the advisor workflow: console pages, REST API, lead store lifespan."""
    install_advisor_lifespan(app, settings)
    app.include_router(router)
    app.include_router(advisor_api.router)

    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, _error: LoginRequiredError) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            "/conseiller/connexion?" + urlencode({"suivant": target}),
            status_code=status.HTTP_303_SEE_OTHER,
        )

    @app.exception_handler(RoleRequiredError)
    async def _role(request: Request, _error: RoleRequiredError) -> Response:
        return page(
            request,
            "advisor/error.html",
            {"message": "Votre rôle ne donne pas accès à cette page."},
            status.HTTP_403_FORBIDDEN,
        )

    @app.exception_handler(PayloadTooLargeError)
    async def _too_large(request: Request, error: PayloadTooLargeError) -> Response:
        if request.url.path.startswith("/api/"):
            from fastapi.responses import JSONResponse

            return JSONResponse({"detail": str(error)}, status.HTTP_413_CONTENT_TOO_LARGE)
        return page(request, "advisor/error.html", {"message": str(error)}, 413)


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


async def checked_form(request: Request, session: ConsoleSession) -> FormData:
    check_body_size(request, MAX_FORM_BYTES)
    if len(await request.body()) > MAX_FORM_BYTES:
        raise PayloadTooLargeError(MAX_FORM_BYTES)
    form = await request.form()
    check_csrf(session, form.get("csrf_token"))
    return form


def info_of(request: Request) -> str | None:
    return MESSAGES.get(request.query_params.get("info", ""))


def safe_next(target: str | None) -> str:
    """Only a path of the console itself: never an open redirect."""
    if target and target.startswith("/conseiller/") and not target.startswith("//"):
        return target
    return "/conseiller/prospects"


# ------------------------------------------------------------------ login


@router.get("", include_in_schema=False)
def console_root() -> RedirectResponse:
    return redirect("/conseiller/prospects")


@router.get("/static/{name}")
def console_asset(name: str) -> Response:
    return _asset(STATIC_DIR, name)


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    context = {"next": safe_next(request.query_params.get("suivant")), "info": info_of(request)}
    return page(request, "advisor/login.html", context)


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    session = read_session(request)
    try:
        form = await checked_form(request, session)
    except AdvisorError as error:
        return page(request, "advisor/login.html", {"error": str(error), "next": ""}, 403)
    username = str(form.get("identifiant", "")).strip().lower()
    password = str(form.get("mot_de_passe", ""))
    actor = authenticate(advisor_resources(request).engine, username, password)
    target = safe_next(str(form.get("suivant", "")))
    if actor is None:
        return page(
            request,
            "advisor/login.html",
            {
                "error": "Identifiant ou mot de passe incorrect.",
                "username": username,
                "next": target,
            },
            status.HTTP_401_UNAUTHORIZED,
            session,
        )
    response = redirect(target)
    # A fresh CSRF token at login: a token seen before authentication is never reused.
    set_session_cookie(request, response, ConsoleSession(actor.id, _new_token(), False))
    return response


def _new_token() -> str:
    import secrets

    return secrets.token_urlsafe(32)


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    session = read_session(request)
    try:
        await checked_form(request, session)
    except AdvisorError as error:
        return page(request, "advisor/error.html", {"message": str(error)}, 403)
    response = redirect("/conseiller/connexion", "logout")
    set_session_cookie(request, response, ConsoleSession(None, _new_token(), False))
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


def lead_page(
    request: Request,
    session: ConsoleSession,
    actor: Actor,
    reference: str,
    error: str | None = None,
    status_code: int = 200,
    typed_note: str = "",
) -> HTMLResponse:
    resources = advisor_resources(request)
    try:
        lead = resources.store.get_lead(reference)
    except LeadNotFoundError as missing:
        return page(request, "advisor/error.html", {"message": str(missing)}, 404, session, actor)
    versions = resources.records.versions(reference)
    context = {
        "lead": lead,
        "versions": versions,
        "error": error,
        "typed_note": typed_note,
        "info": info_of(request),
        "can_work": actor.is_supervisor or lead.claimed_by_id == actor.id,
    }
    return page(request, "advisor/lead.html", context, status_code, session, actor)


@router.get("/prospects/{reference}", response_class=HTMLResponse)
def lead_detail(request: Request, reference: str) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session)
    return lead_page(request, session, actor, reference)


@router.post("/prospects/{reference}/prise-en-charge")
async def claim(request: Request, reference: str) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    try:
        await checked_form(request, session)
        advisor_resources(request).store.claim(reference, actor)
    except AdvisorError as error:
        return lead_page(request, session, actor, reference, str(error), status_of(error))
    return redirect(f"/conseiller/prospects/{reference}", "claimed")


@router.post("/prospects/{reference}/statut")
async def change_status(request: Request, reference: str) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    try:
        form = await checked_form(request, session)
        advisor_resources(request).store.change_status(
            reference, actor, str(form.get("statut", ""))
        )
    except AdvisorError as error:
        return lead_page(request, session, actor, reference, str(error), status_of(error))
    return redirect(f"/conseiller/prospects/{reference}", "status")


@router.post("/prospects/{reference}/notes")
async def add_note(request: Request, reference: str) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    text = ""
    try:
        form = await checked_form(request, session)
        text = str(form.get("texte", ""))
        advisor_resources(request).store.add_note(reference, actor, text)
    except AdvisorError as error:
        return lead_page(
            request, session, actor, reference, str(error), status_of(error), typed_note=text
        )
    return redirect(f"/conseiller/prospects/{reference}", "note")


# ------------------------------------------------------------------ duty of advice


def advice_page(
    request: Request,
    session: ConsoleSession,
    actor: Actor,
    reference: str,
    error: str | None = None,
    status_code: int = 200,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    resources = advisor_resources(request)
    try:
        lead = resources.store.get_lead(reference)
    except LeadNotFoundError as missing:
        return page(request, "advisor/error.html", {"message": str(missing)}, 404, session, actor)
    versions = resources.records.versions(reference)
    draft: AdviceVersion | None = versions[-1] if versions and not versions[-1].frozen else None
    content = dict(draft.content) if draft else {}
    if typed and draft:  # a refused save shows what the advisor typed, not the stored draft
        content.update({k: v for k, v in typed.items() if k != "product_reasons"})
        content["products"] = [
            {**p, "reasons": typed.get("product_reasons", {}).get(p["code"], p["reasons"])}
            for p in content["products"]
        ]
    context = {
        "lead": lead,
        "versions": versions,
        "draft": draft,
        "content": content,
        "error": error,
        "info": info_of(request),
        "can_work": actor.is_supervisor or lead.claimed_by_id == actor.id,
    }
    return page(request, "advisor/advice.html", context, status_code, session, actor)


@router.get("/prospects/{reference}/devoir-de-conseil", response_class=HTMLResponse)
def advice(request: Request, reference: str) -> HTMLResponse:
    session = read_session(request)
    actor = current_actor(request, session)
    return advice_page(request, session, actor, reference)


@router.post("/prospects/{reference}/devoir-de-conseil/brouillon")
async def open_draft(request: Request, reference: str) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    try:
        await checked_form(request, session)
        advisor_resources(request).records.open_draft(reference, actor)
    except AdvisorError as error:
        return advice_page(request, session, actor, reference, str(error), status_of(error))
    return redirect(f"/conseiller/prospects/{reference}/devoir-de-conseil", "draft")


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


@router.post("/prospects/{reference}/devoir-de-conseil")
async def save_advice(request: Request, reference: str) -> Response:
    session = read_session(request)
    actor = current_actor(request, session)
    edits: dict[str, Any] | None = None
    records = advisor_resources(request).records
    try:
        form = await checked_form(request, session)
        edits = edits_of(form)
        records.save_draft(reference, actor, edits)
        if form.get("action") == "valider":
            records.freeze(reference, actor)
            return redirect(f"/conseiller/prospects/{reference}/devoir-de-conseil", "frozen")
    except AdvisorError as error:
        typed = None if isinstance(error, FrozenRecordError) else edits
        return advice_page(request, session, actor, reference, str(error), status_of(error), typed)
    return redirect(f"/conseiller/prospects/{reference}/devoir-de-conseil", "saved")


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


__all__ = ["AGES", "SORTS", "mount_advisor", "router"]
