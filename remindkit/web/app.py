"""``create_app``: the one Starlette app factory behind every remindkit HTTP side.

The studio uses it with a per-run token; the service's receipts, metrics and health
endpoints use it with their own policy (no token where a request is signed, a public
health path). Every app gets the same guards, the same security headers and the same
error answers: a JSON body naming the problem, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Lifespan

from remindkit.web.guards import ASGIApp, GuardPolicy, Message, Receive, RequestGuard, Scope, Send

log = logging.getLogger("remindkit.web")

# JSON endpoints load nothing; an app serving pages passes its own policy per response.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds the security headers to every response; a response's own CSP is kept."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.csp))
                headers += [h for h in _COMMON_HEADERS if h[0] not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    routes: Sequence[BaseRoute],
    policy: GuardPolicy,
    *,
    csp: str = DEFAULT_CSP,
    lifespan: Lifespan[Any] | None = None,
) -> Starlette:
    """A Starlette app serving ``routes`` behind the guards of ``policy``."""
    return Starlette(
        routes=list(routes),
        middleware=[
            Middleware(SecurityHeaders, csp=csp),
            Middleware(RequestGuard, policy=policy),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    """The JSON error every remindkit endpoint answers with: ``{"error": message, ...}``."""
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the server log has the details")
