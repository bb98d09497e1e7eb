"""The guards in front of every remindkit HTTP app, as one ASGI middleware.

A request passes, in this order:

1. **Body size**: a declared ``Content-Length`` above the limit is refused before the app
   runs (413); a body streamed without one is counted as it arrives and refused the
   moment it passes the limit.
2. **Host**: the ``Host`` header must name an allowed host (loopback by default), so a
   page on ``attacker.example`` that rebinds its name to 127.0.0.1 is refused (400).
3. **Origin**: a browser request from another origin is refused (403): an ``Origin``
   header must equal the request's own origin (or an allowed one), and a request that
   ``Sec-Fetch-Site`` marks as from another site or origin is refused unless it is the
   user opening a page (a top-level ``GET`` navigation, which cannot read the answer).
4. **Access token** (optional per app): the per-run token from the ``X-Remindkit-Token``
   header, ``Authorization: Bearer``, the app's cookie, or ``?token=`` on a ``GET``. A
   ``GET`` that brings the token in the query is answered with a redirect that stores it
   in an ``HttpOnly``, ``SameSite=Strict`` cookie and drops it from the address bar.

Refusals are small JSON bodies ``{"error": …, "guard": …}``; the app never sees them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_MAX_BODY_BYTES = 1_048_576
TOKEN_HEADER = "x-remindkit-token"
TOKEN_QUERY = "token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FOREIGN_SITES = frozenset({"cross-site", "same-site"})


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardPolicy:
    """What an app lets through.

    ``allowed_hosts``: host names the ``Host`` header may carry (any port); empty allows
    any host (an app behind a reverse proxy that checks it). ``allowed_origins``: origins
    besides the request's own (``http://127.0.0.1:8080``). ``token``: the per-run access
    token, ``None`` for an app whose requests carry their own proof (signed webhooks).
    ``public_paths``: exact paths served without the token (a health check).
    """

    allowed_hosts: frozenset[str] = LOOPBACK_HOSTS
    allowed_origins: frozenset[str] = frozenset()
    token: str | None = None
    cookie_prefix: str = "remindkit_token"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    public_paths: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < 16:
            raise ValueError("an access token needs at least 16 characters")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    guard: str
    message: str


class BodyTooLargeError(Exception):
    """Raised inside ``receive`` when a streamed body passes the limit."""


class RequestGuard:
    """ASGI middleware applying a :class:`GuardPolicy` to every HTTP request."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers, repeated = _headers(scope)
        refusal = (
            self._check_size(headers)
            or self._check_host(headers, repeated)
            or self._check_origin(scope, headers, repeated)
        )
        if refusal is None and self._needs_token(scope):
            if self._query_token_accepted(scope, headers):
                await self._redirect_with_cookie(scope, send)
                return
            if not self._has_token(scope, headers):
                refusal = Refusal(401, "token", "missing or wrong access token")
        if refusal is not None:
            await _refuse(send, refusal)
            return
        await self._call_counted(scope, receive, send)

    # -- body size ------------------------------------------------------------------------
    def _check_size(self, headers: dict[str, str]) -> Refusal | None:
        declared = headers.get("content-length")
        if declared is None:
            return None
        if not declared.isdigit():
            return Refusal(400, "body", "Content-Length is not a number")
        if int(declared) > self.policy.max_body_bytes:
            return self._too_large()
        return None

    def _too_large(self) -> Refusal:
        limit = self.policy.max_body_bytes
        return Refusal(413, "body", f"request body larger than {limit} bytes")

    async def _call_counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.policy.max_body_bytes
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLargeError:
            if started:
                raise
            await _refuse(send, self._too_large())

    # -- host and origin --------------------------------------------------------------------
    def _check_host(self, headers: dict[str, str], repeated: set[str]) -> Refusal | None:
        if not self.policy.allowed_hosts:
            return None
        host = headers.get("host", "")
        if "host" in repeated:
            return Refusal(400, "host", "more than one Host header")
        if host_name(host) not in self.policy.allowed_hosts:
            return Refusal(400, "host", f"Host {host or '(none)'} is not served here")
        return None

    def _check_origin(
        self, scope: Scope, headers: dict[str, str], repeated: set[str]
    ) -> Refusal | None:
        if "origin" in repeated:
            return Refusal(403, "origin", "more than one Origin header")
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
            if origin != own and origin not in self.policy.allowed_origins:
                return Refusal(403, "origin", f"requests from {origin} are not accepted")
            return None
        site = headers.get("sec-fetch-site")
        if site in _FOREIGN_SITES and not _is_navigation(scope, headers):
            return Refusal(403, "origin", "requests from other sites are not accepted")
        return None

    # -- token ------------------------------------------------------------------------------
    def cookie_name(self, scope: Scope) -> str:
        """One cookie per port: cookies ignore ports, and two local apps must not collide."""
        server = scope.get("server") or ("", 0)
        return f"{self.policy.cookie_prefix}_{server[1]}"

    def _needs_token(self, scope: Scope) -> bool:
        return self.policy.token is not None and scope["path"] not in self.policy.public_paths

    def _matches(self, offered: str) -> bool:
        expected = self.policy.token or ""
        return hmac.compare_digest(offered.encode(), expected.encode())

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        return any(self._matches(offered) for offered in self._offered_tokens(scope, headers))

    def _query_token_accepted(self, scope: Scope, headers: dict[str, str]) -> bool:
        """A ``GET`` bringing the right ``?token=`` (the link printed at start-up)."""
        if scope["method"] not in _SAFE_METHODS:
            return False
        offered = _query(scope).get(TOKEN_QUERY)
        return offered is not None and self._matches(offered)

    def _offered_tokens(self, scope: Scope, headers: dict[str, str]) -> list[str]:
        offered = []
        if TOKEN_HEADER in headers:
            offered.append(headers[TOKEN_HEADER])
        kind, _, value = headers.get("authorization", "").partition(" ")
        if kind.lower() == "bearer" and value:
            offered.append(value.strip())
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except CookieError:
            return offered  # a malformed cookie header offers no token
        morsel = cookie.get(self.cookie_name(scope))
        if morsel is not None:
            offered.append(morsel.value)
        return offered

    async def _redirect_with_cookie(self, scope: Scope, send: Send) -> None:
        rest = urlencode({k: v for k, v in _query(scope).items() if k != TOKEN_QUERY})
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        name, token = self.cookie_name(scope), self.policy.token
        cookie = f"{name}={token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def host_name(host: str) -> str:
    """The name of a ``Host`` header without its port: ``[::1]:80`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _headers(scope: Scope) -> tuple[dict[str, str], set[str]]:
    """Header names (lower case) to values, and the names that came more than once."""
    headers: dict[str, str] = {}
    repeated: set[str] = set()
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in headers:
            repeated.add(name)
        headers[name] = raw_value.decode("latin-1")
    return headers, repeated


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _is_navigation(scope: Scope, headers: dict[str, str]) -> bool:
    return scope["method"] == "GET" and headers.get("sec-fetch-mode") == "navigate"


async def _refuse(send: Send, refusal: Refusal) -> None:
    body = json.dumps(
        {"error": refusal.message, "guard": refusal.guard}, ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
