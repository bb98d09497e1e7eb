"""The HTTP side of remindkit: one Starlette app factory, its guards, and a uvicorn runner.

Every app remindkit serves — the content team's studio now, the service's receipts,
metrics and health endpoints later — is built by :func:`create_app` from its routes and
a :class:`GuardPolicy`::

    policy = GuardPolicy(token=secrets.token_urlsafe(32))      # loopback Host, own Origin
    app = create_app(routes, policy)
    serve(app, bind("127.0.0.1", 0))

Needs the ``web`` extra (Starlette, uvicorn). The guards are described in
:mod:`remindkit.web.guards`.
"""

from __future__ import annotations

from remindkit.web.app import DEFAULT_CSP, create_app, error_response
from remindkit.web.guards import DEFAULT_MAX_BODY_BYTES, LOOPBACK_HOSTS, TOKEN_HEADER, GuardPolicy
from remindkit.web.server import Bound, bind, running_server, serve

__all__ = [
    "DEFAULT_CSP",
    "DEFAULT_MAX_BODY_BYTES",
    "LOOPBACK_HOSTS",
    "TOKEN_HEADER",
    "Bound",
    "GuardPolicy",
    "bind",
    "create_app",
    "error_response",
    "running_server",
    "serve",
]
