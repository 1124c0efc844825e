"""Request body size limits, enforced on the bytes actually received.

`BodySizeLimitMiddleware` wraps the ASGI `receive` of every HTTP request: a body announced larger
than the route's limit (`Content-Length`) is refused before any of it is read, and the bytes that
do arrive are counted as they stream in (a chunked body announces no length), so a request is
stopped as soon as it passes the limit instead of being read whole first. The refusal is
`PayloadTooLargeError`, an HTTP 413 whose French message the app's handler shows as JSON (API) or
as a console page; a route that never reads its body never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024


class PayloadTooLargeError(HTTPException):
    """The request body passes the route's limit: 413, nothing of it was used."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"La requête dépasse la taille autorisée ({limit // KIB} Ko).",
        )
        self.limit = limit

    def __str__(self) -> str:
        return str(self.detail)


@dataclass(frozen=True)
class BodyLimits:
    """Bytes allowed per route: an exact path, or a prefix ending in `/`; else `default`."""

    default: int
    routes: tuple[tuple[str, int], ...]

    def for_path(self, path: str) -> int:
        best: tuple[int, int] | None = None  # (length of the matching prefix, limit)
        for route, limit in self.routes:
            if path == route or path == route.rstrip("/"):
                return limit
            longer = best is None or len(route) > best[0]
            if route.endswith("/") and path.startswith(route) and longer:
                best = (len(route), limit)
        return best[1] if best else self.default


DEFAULT_BODY_LIMITS = BodyLimits(
    default=16 * KIB,
    routes=(
        # A rating: the answer (≤ 20,000 characters), the question (≤ 10,000) and its sources.
        ("/api/feedback", 512 * KIB),
        # A needs profile: a few dozen facts.
        ("/api/recommendations", 32 * KIB),
        # The CRM's calls: a note (≤ 5,000 characters), a duty-of-advice draft.
        ("/api/advisor/", 256 * KIB),
        # The console's forms (the duty-of-advice editor is the largest).
        ("/conseiller/", 64 * KIB),
    ),
)


def _announced_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits = DEFAULT_BODY_LIMITS) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        announced = _announced_length(scope)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if announced is not None and announced > limit:
                raise PayloadTooLargeError(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLargeError as error:
            # Normally answered by the app's handler; this catches a read outside the routes.
            if started:
                raise
            response = JSONResponse({"detail": error.detail}, error.status_code)
            await response(scope, receive, send)
