"""Operations endpoints of the web app: readiness and Prometheus metrics, and the request id and
HTTP metrics of every request (`install`).

- `GET /ready`: the catalogue loaded (required) and the database answering `SELECT 1` (reported,
  required only with READINESS_STRICT=true: without it the public pages and the chat widget still
  work, only the advisor console fails); 200 or 503 with one entry per check
  (common/readiness.py). `/health` (health.py) stays the cheap liveness answer.
- `GET /metrics`: Prometheus text (common/metrics.py).
- Every request: `X-Request-ID` taken from the request when it is a plain short id, else made
  here; set for the request's log records and echoed on the response; counted and timed per
  route template (`/api/products/{code}`, never the raw path).

`/ready` and `/metrics` are for the orchestrator and Prometheus, which call the pod directly: a
request that came through a reverse proxy (it carries X-Forwarded-For) gets a 404, so the
public site never shows them even where the proxy forgets to block them.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
from common.logging import clean_request_id, new_request_id, request_context
from common.readiness import Check, NotReadyError, run_checks, strict_from

SERVICE = "webapp"
REQUEST_ID_HEADER = "x-request-id"


def internal_only(request: Request) -> None:
    if "x-forwarded-for" in request.headers:
        raise HTTPException(status_code=404, detail="Not Found")


router = APIRouter(tags=["operations"])


def readiness_checks(app: FastAPI) -> list[Check]:
    def catalogue() -> None:
        if getattr(app.state, "catalogue_resources", None) is None:
            raise NotReadyError("the catalogue is not loaded (start-up not finished)")

    def database() -> None:
        from sqlalchemy import text

        advisor = getattr(app.state, "advisor", None)
        if advisor is None:
            raise NotReadyError("the database is not opened (start-up not finished)")
        with advisor.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return [Check("catalogue", catalogue), Check("database", database, required=False)]


@router.get("/ready", include_in_schema=False)
async def ready(request: Request) -> JSONResponse:
    internal_only(request)
    result = await run_checks(SERVICE, readiness_checks(request.app), strict=strict_from())
    return JSONResponse(result.body, status_code=result.status_code)


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request) -> Response:
    internal_only(request)
    body, content_type = metrics.exposition()
    return Response(content=body, media_type=content_type)


def _endpoint(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestObservation:
    """ASGI middleware: request id (context variable and response header) and HTTP metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = clean_request_id(received) or new_request_id()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            with request_context(request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            endpoint = _endpoint(scope)
            method = str(scope.get("method", ""))
            metrics.HTTP_REQUESTS.labels(SERVICE, method, endpoint, str(status)).inc()
            metrics.HTTP_REQUEST_DURATION.labels(SERVICE, method, endpoint).observe(
                time.perf_counter() - started
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def install(app: FastAPI) -> None:
    """The operations routes and the request observation middleware, on `app`."""
    app.include_router(router)
    app.add_middleware(RequestObservation)
