"""Dependencies of the routes: the resources the lifespan builds once and requests share.

The catalogue and its suitability engine; the lead store, the duty-of-advice records, the
console's sessions (signer and server-side store) and login throttle; the API user of a bearer
token and the HTTP status of an advisor error; the ratings store.

Everything here that reads the database is synchronous: FastAPI runs sync dependencies and routes
in its worker threads, never on the event loop.
"""

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, FastAPI, HTTPException, Request, status
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from advisor.advice import AdviceRecords
from advisor.auth import user_by_token
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
from advisor.sessions import SessionStore
from advisor.store import LeadStore
from advisor.throttle import LoginThrottle
from advisor.workflow import Actor
from common.db import engine_from_url
from feedback.store import FeedbackStore
from product_catalog.engine import SuitabilityEngine
from product_catalog.loader import DEFAULT_INSURER_FILE, DEFAULT_PRODUCTS_DIR, load_catalogue
from product_catalog.schema import Catalogue
from webapp.core.config import WebAppSettings

logger = logging.getLogger(__name__)

SESSION_SALT = "advisor-console-session"


_T = TypeVar("_T")


def _installed(request: Request, name: str, kind: type[_T]) -> _T:
    """What the app's lifespan put on `app.state` under `name`; RuntimeError if it has not run."""
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"app.state.{name} is set by the app's lifespan, which has not run")
    return value


# ------------------------------------------------------------------ catalogue


@dataclass(frozen=True)
class CatalogueResources:
    catalogue: Catalogue
    engine: SuitabilityEngine


def load_catalogue_resources(
    products_dir: Path = DEFAULT_PRODUCTS_DIR, insurer_file: Path = DEFAULT_INSURER_FILE
) -> CatalogueResources:
    """Validate the catalogue files and compile the engine; CatalogueFileError stops start-up."""
    catalogue = load_catalogue(products_dir, insurer_file)
    return CatalogueResources(catalogue=catalogue, engine=SuitabilityEngine(catalogue))


def install_catalogue(app: FastAPI, resources: CatalogueResources) -> None:
    app.state.catalogue_resources = resources


def _resources(request: Request) -> CatalogueResources:
    return _installed(request, "catalogue_resources", CatalogueResources)


def get_catalogue(request: Request) -> Catalogue:
    return _resources(request).catalogue


def get_suitability_engine(request: Request) -> SuitabilityEngine:
    return _resources(request).engine


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
SuitabilityEngineDep = Annotated[SuitabilityEngine, Depends(get_suitability_engine)]


# ------------------------------------------------------------------ advisor workflow


@dataclass
class AdvisorResources:
    engine: Engine
    store: LeadStore
    records: AdviceRecords
    signer: URLSafeTimedSerializer
    sessions: SessionStore
    throttle: LoginThrottle
    # At most this many argon2 checks at once, in worker threads: a login flood cannot take every
    # worker thread nor the event loop.
    password_checks: anyio.CapacityLimiter
    session_max_age_s: int
    secure_cookie: bool


def open_advisor_resources(
    settings: WebAppSettings, catalogue: Catalogue | None
) -> AdvisorResources:
    """Open the lead store, its schema at the latest migration; the caller disposes of `engine`."""
    engine = open_engine(
        settings.advisor_database_url,
        connect_timeout_s=settings.database_connect_timeout_s,
        statement_timeout_ms=settings.database_statement_timeout_ms,
    )
    try:
        ensure_schema(engine)
    except OperationalError as error:
        # Served anyway: the public site needs no database, /ready says what is missing, and the
        # requests that need it answer 503 until it is back (migrated by the deployment's job).
        logger.error(
            "the lead database is unreachable at start-up (%s): schema not checked",
            type(error.orig).__name__ if error.orig is not None else "OperationalError",
        )
    return AdvisorResources(
        engine=engine,
        store=LeadStore(engine),
        records=AdviceRecords(engine, catalogue),
        signer=URLSafeTimedSerializer(settings.secret_key, salt=SESSION_SALT),
        sessions=SessionStore(
            engine, settings.advisor_session_max_age_s, settings.advisor_session_idle_s
        ),
        throttle=LoginThrottle(
            engine,
            key=settings.secret_key.encode(),
            window_s=settings.login_window_s,
            max_failures_per_account=settings.login_max_failures_per_account,
            max_failures_per_address=settings.login_max_failures_per_address,
        ),
        password_checks=anyio.CapacityLimiter(settings.password_check_concurrency),
        session_max_age_s=settings.advisor_session_max_age_s,
        secure_cookie=not settings.is_development,
    )


def install_advisor(app: FastAPI, resources: AdvisorResources) -> None:
    app.state.advisor = resources


def advisor_resources(request: Request) -> AdvisorResources:
    return _installed(request, "advisor", AdvisorResources)


AdvisorDep = Annotated[AdvisorResources, Depends(advisor_resources)]

ERROR_STATUS: dict[type[AdvisorError], int] = {
    LeadNotFoundError: status.HTTP_404_NOT_FOUND,
    ClaimConflictError: status.HTTP_409_CONFLICT,
    TransitionError: status.HTTP_409_CONFLICT,
    FrozenRecordError: status.HTTP_409_CONFLICT,
    PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    InvalidInputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def status_of(error: AdvisorError) -> int:
    """The HTTP status of an advisor error, for the API and the console alike."""
    for kind, code in ERROR_STATUS.items():
        if isinstance(error, kind):
            return code
    return status.HTTP_400_BAD_REQUEST


def api_actor(request: Request) -> Actor:
    """The user of the API token (`Authorization: Bearer <token>`); 401 without a valid one
    (unknown, expired or revoked token, deactivated user)."""
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
            detail="Jeton d'API absent, invalide, expiré ou révoqué.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return actor


ApiActorDep = Annotated[Actor, Depends(api_actor)]


# ------------------------------------------------------------------ feedback

_FEEDBACK_STORE_LOCK = threading.Lock()


def install_feedback_store(app: FastAPI, store: FeedbackStore) -> None:
    app.state.feedback_store = store


def get_feedback_store(request: Request) -> FeedbackStore:
    """The ratings store: on the lead store's engine the lifespan opened, else on its own engine
    (created once and kept on the app); tests install their own."""
    store = getattr(request.app.state, "feedback_store", None)
    if isinstance(store, FeedbackStore):
        return store
    with _FEEDBACK_STORE_LOCK:
        store = getattr(request.app.state, "feedback_store", None)
        if not isinstance(store, FeedbackStore):
            advisor = getattr(request.app.state, "advisor", None)
            engine = getattr(advisor, "engine", None)
            if not isinstance(engine, Engine):
                settings: WebAppSettings = request.app.state.settings
                engine = engine_from_url(
                    settings.advisor_database_url,
                    connect_timeout_s=settings.database_connect_timeout_s,
                    statement_timeout_ms=settings.database_statement_timeout_ms,
                )
            store = FeedbackStore(engine)
            install_feedback_store(request.app, store)
    return store


FeedbackStoreDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
