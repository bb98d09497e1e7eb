"""A loopback Google: the OAuth token endpoint for service accounts and FCM HTTP v1.

- ``POST /token`` takes the signed JWT a service account sends
  (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``), verifies its RS256
  signature with the public half of the key :func:`service_account_key` made, and answers
  an access token, or ``400 invalid_grant`` as Google does for a key it does not know.
- ``POST /v1/projects/{project}/messages:send`` needs that token (``401 UNAUTHENTICATED``
  otherwise) and answers ``{"name": "projects/…/messages/…"}``, or, for a device token
  scripted with :meth:`FakeFcm.script`, FCM's documented error body with its ``FcmError``
  detail (``UNREGISTERED``, ``INVALID_ARGUMENT``, ``QUOTA_EXCEEDED``, ``UNAVAILABLE``,
  ``INTERNAL``, ``SENDER_ID_MISMATCH``, ``THIRD_PARTY_AUTH_ERROR``), a given number of times.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
PROJECT_ID = "hemiao-fake"

# FCM error code → (HTTP status, canonical status, message), as FCM's v1 docs list them.
FCM_ERRORS: dict[str, tuple[int, str, str]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages."),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}


def service_account_key(path: Path, token_uri: str, project_id: str = PROJECT_ID) -> str:
    """Write a service-account key file with a new RSA key and ``token_uri``; returns the
    public key (PEM) for :class:`FakeFcm`."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": project_id,
                "private_key_id": secrets.token_hex(20),
                "private_key": private,
                "client_email": f"remindkit@{project_id}.iam.gserviceaccount.com",
                "client_id": "100000000000000000000",
                "token_uri": token_uri,
            }
        ),
        encoding="utf-8",
    )
    return public


@dataclass(slots=True)
class FakeFcm:
    """The app's state: the accepted public keys, tokens issued, scripts, what arrived."""

    public_keys: list[str] = field(default_factory=list)
    project_id: str = PROJECT_ID
    messages: list[dict[str, object]] = field(default_factory=list)
    token_requests: int = 0
    scripts: dict[str, tuple[str, int | None, float | None]] = field(default_factory=dict)
    _tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(
        self,
        device_token: str,
        error: str,
        *,
        times: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer ``error`` (a key of :data:`FCM_ERRORS`) for ``device_token``."""
        if error not in FCM_ERRORS:
            raise ValueError(f"unknown FCM error {error!r}")
        with self._lock:
            self.scripts[device_token] = (error, times, retry_after)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.scripts.clear()
            self.token_requests = 0

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self._token, methods=["POST"]),
                Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
            ]
        )

    async def _token(self, request: Request) -> Response:
        import jwt  # noqa: PLC0415 - PyJWT comes with firebase-admin

        form = dict(parse_qsl((await request.body()).decode()))
        with self._lock:
            self.token_requests += 1
        assertion = form.get("assertion", "")
        for public in self.public_keys:
            try:
                jwt.decode(assertion, public, algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE)
            except jwt.PyJWTError:
                continue
            token = "ya29.fake-" + secrets.token_urlsafe(16)
            with self._lock:
                self._tokens.add(token)
            return JSONResponse({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})
        return JSONResponse(
            {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
            status_code=400,
        )

    async def _send(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self._tokens:
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if request.path_params["project"] != self.project_id:
            return _error(403, "PERMISSION_DENIED", "Permission denied on the project.")
        payload = await request.json()
        message = payload.get("message", {})
        with self._lock:
            self.messages.append(message)
            number = len(self.messages)
            scripted = self._take(str(message.get("token", "")))
        if scripted is not None:
            error, retry_after = scripted
            status, canonical, text = FCM_ERRORS[error]
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
            return _error(status, canonical, text, fcm_code=error, headers=headers)
        return JSONResponse({"name": f"projects/{self.project_id}/messages/{number}"})

    def _take(self, device_token: str) -> tuple[str, float | None] | None:
        found = self.scripts.get(device_token)
        if found is None:
            return None
        error, times, retry_after = found
        if times is not None:
            if times <= 1:
                del self.scripts[device_token]
            else:
                self.scripts[device_token] = (error, times - 1, retry_after)
        return error, retry_after


def _error(
    status: int,
    canonical: str,
    message: str,
    *,
    fcm_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]
        if fcm_code
        else []
    )
    body = {"error": {"code": status, "message": message, "status": canonical, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)
