"""A loopback Twilio: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``.

Answers as Twilio's API documents it: ``201`` with a message resource, or an error body
``{"code", "message", "more_info", "status"}``. Basic auth is checked against the account
SID and token it was made with (``401`` / ``20003`` otherwise). ``script(to, ...)`` makes
messages to one number fail: a Twilio error, a ``Retry-After`` header, or no answer for a
while (a read timeout on the client's side). ``latency`` delays every answer (the
benchmark's 50 ms provider).

Run on its own for a benchmark: ``python -m remindkit.fakes.twilio --latency 0.05`` prints
the base URL, then serves until stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-not-a-secret"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scripted:
    """How the fake answers messages to one number."""

    status: int = 400
    code: int | None = None
    message: str = "scripted error"
    retry_after: float | None = None
    delay: float = 0.0  # seconds before answering: longer than the read timeout = no answer
    times: int | None = None  # None: every time


@dataclass(slots=True)
class FakeTwilio:
    """The app's state: credentials, scripts, what was received."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    latency: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)
    client_ports: set[int] = field(default_factory=set)  # one per TCP connection used
    scripts: dict[str, Scripted] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, to: str, answer: Scripted) -> None:
        with self._lock:
            self.scripts[to] = answer

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.client_ports.clear()
            self.scripts.clear()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(
                    "/2010-04-01/Accounts/{account}/Messages.json", self._create, methods=["POST"]
                )
            ]
        )

    async def _create(self, request: Request) -> Response:
        # The SDK posts application/x-www-form-urlencoded; parsed here without an extra library.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if not self._authorised(request, request.path_params["account"]):
            return _error(401, 20003, "Authenticate")
        with self._lock:
            self.requests.append(form)
            if request.client is not None:
                self.client_ports.add(request.client.port)
            answer = self._take(form.get("To", ""))
        delay = self.latency + (answer.delay if answer else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if answer is not None:
            headers = {"Retry-After": f"{answer.retry_after:g}"} if answer.retry_after else None
            return _error(answer.status, answer.code, answer.message, headers)
        return JSONResponse(_resource(self.account_sid, form), status_code=201)

    def _authorised(self, request: Request, account: str) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or account != self.account_sid:
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and secrets.compare_digest(password, self.auth_token)

    def _take(self, to: str) -> Scripted | None:
        answer = self.scripts.get(to)
        if answer is None or answer.times is None:
            return answer
        left = answer.times - 1
        if left <= 0:
            del self.scripts[to]
        else:
            self.scripts[to] = Scripted(
                status=answer.status,
                code=answer.code,
                message=answer.message,
                retry_after=answer.retry_after,
                delay=answer.delay,
                times=left,
            )
        return answer


def _error(
    status: int, code: int | None, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _resource(account: str, form: dict[str, str]) -> dict[str, object]:
    sid = "SM" + secrets.token_hex(16)
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = form.get("Body", "")
    return {
        "account_sid": account,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": str(max(1, -(-len(body) // 67))),
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json"},
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


def main(argv: list[str] | None = None) -> None:
    """Serve a fake on a free loopback port; print its base URL on the first line."""
    from remindkit.web.server import bind, serve  # noqa: PLC0415 - only when run

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeTwilio(latency=args.latency)
    bound = bind()

    def announce() -> None:
        sys.stdout.write(bound.base_url + "\n")
        sys.stdout.flush()

    serve(fake.app(), bound, on_started=announce)


if __name__ == "__main__":
    main()
