"""The shared app factory and its guards: token, Host, Origin, body size, headers, errors.

Request-level tests through Starlette's TestClient, and a real uvicorn on port 0 for
what only a socket shows (a body streamed without Content-Length, the served port).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from remindkit.web import GuardPolicy, bind, create_app, running_server
from remindkit.web.guards import host_name

TOKEN = "t0k3n-for-tests-only-0123456789"
BASE = "http://127.0.0.1:8765"
COOKIE = "remindkit_token_8765"


class Calls:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def calls() -> Calls:
    return Calls()


def make_app(calls: Calls, **policy: object) -> TestClient:
    async def hello(request: Request) -> Response:
        calls.count += 1
        return JSONResponse({"ok": True})

    async def echo(request: Request) -> Response:
        calls.count += 1
        body = await request.body()
        return JSONResponse({"bytes": len(body)})

    async def page(request: Request) -> Response:
        calls.count += 1
        return PlainTextResponse("page", headers={"content-security-policy": "default-src 'self'"})

    async def broken(request: Request) -> Response:
        raise RuntimeError("secret detail that must not reach the client")

    routes = [
        Route("/hello", hello),
        Route("/echo", echo, methods=["POST"]),
        Route("/page", page),
        Route("/broken", broken),
        Route("/healthz", hello),
    ]
    settings: dict[str, object] = {"token": TOKEN, **policy}
    app = create_app(routes, GuardPolicy(**settings))  # type: ignore[arg-type]
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


@pytest.fixture
def client(calls: Calls) -> TestClient:
    return make_app(calls)


AUTH = {"X-Remindkit-Token": TOKEN}


# -- token ------------------------------------------------------------------------------------
def test_no_token_is_refused_before_the_app_runs(client: TestClient, calls: Calls) -> None:
    response = client.get("/hello")
    assert response.status_code == 401
    assert response.json()["guard"] == "token"
    assert calls.count == 0


def test_a_wrong_token_is_refused(client: TestClient, calls: Calls) -> None:
    for headers in (
        {"X-Remindkit-Token": "nope"},
        {"X-Remindkit-Token": TOKEN[:-1]},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Cookie": f"{COOKIE}=nope"},
        {"Cookie": f"remindkit_token_9999={TOKEN}"},  # another port's cookie
    ):
        assert client.get("/hello", headers=headers).status_code == 401, headers
    assert calls.count == 0


def test_the_token_is_accepted_from_header_bearer_or_cookie(client: TestClient) -> None:
    for headers in (AUTH, {"Authorization": f"Bearer {TOKEN}"}, {"Cookie": f"{COOKIE}={TOKEN}"}):
        assert client.get("/hello", headers=headers).status_code == 200, headers


def test_the_token_in_a_link_becomes_a_strict_cookie(client: TestClient) -> None:
    response = client.get(f"/page?a=1&token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/page?a=1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    followed = client.get("/page", headers={"Cookie": f"{COOKIE}={TOKEN}"})
    assert followed.status_code == 200
    assert followed.text == "page"


def test_a_token_in_the_query_does_not_authorise_a_write(client: TestClient, calls: Calls) -> None:
    assert client.post(f"/echo?token={TOKEN}", content=b"x").status_code == 401
    assert client.get("/hello?token=wrong", follow_redirects=False).status_code == 401
    assert calls.count == 0


def test_public_paths_and_apps_without_a_token(calls: Calls) -> None:
    public = make_app(calls, public_paths=frozenset({"/healthz"}))
    assert public.get("/healthz").status_code == 200
    assert public.get("/hello").status_code == 401
    open_app = make_app(calls, token=None)
    assert open_app.get("/hello").status_code == 200


def test_a_short_token_is_rejected() -> None:
    with pytest.raises(ValueError, match="16"):
        GuardPolicy(token="short")
    with pytest.raises(ValueError, match="max_body_bytes"):
        GuardPolicy(max_body_bytes=0)


# -- host -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:8765", "127.0.0.2:8765", "", "127.0.0.1.nip.io"]
)
def test_a_foreign_host_is_refused(client: TestClient, calls: Calls, host: str) -> None:
    response = client.get("/hello", headers={**AUTH, "Host": host})
    assert response.status_code == 400
    assert response.json()["guard"] == "host"
    assert calls.count == 0


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:1", "LOCALHOST", "[::1]:8765"])
def test_loopback_hosts_are_served_on_any_port(client: TestClient, host: str) -> None:
    assert client.get("/hello", headers={**AUTH, "Host": host}).status_code == 200


def test_two_host_headers_are_refused(client: TestClient) -> None:
    request = client.build_request("GET", "/hello", headers=AUTH)
    others = [item for item in request.headers.multi_items() if item[0].lower() != "host"]
    # The allowed one last: a guard reading only the last Host header would let it in.
    hosts = [("Host", "attacker.example"), ("Host", "127.0.0.1:8765")]
    request.headers = httpx2.Headers([*others, *hosts])
    assert client.send(request).status_code == 400


def test_host_name_drops_the_port() -> None:
    assert host_name("127.0.0.1:8000") == "127.0.0.1"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("Example.COM") == "example.com"


# -- origin -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "origin",
    ["http://attacker.example", "http://127.0.0.1:9999", "https://127.0.0.1:8765", "null"],
)
def test_a_foreign_origin_is_refused(client: TestClient, calls: Calls, origin: str) -> None:
    response = client.post("/echo", content=b"{}", headers={**AUTH, "Origin": origin})
    assert response.status_code == 403
    assert response.json()["guard"] == "origin"
    assert calls.count == 0


def test_the_own_origin_and_allowed_ones_pass(calls: Calls) -> None:
    client = make_app(calls, allowed_origins=frozenset({"http://localhost:3000"}))
    for origin in (BASE, "http://localhost:3000"):
        response = client.post("/echo", content=b"{}", headers={**AUTH, "Origin": origin})
        assert response.status_code == 200, origin


def test_fetches_from_other_sites_are_refused_but_navigation_is_not(
    client: TestClient, calls: Calls
) -> None:
    for site in ("cross-site", "same-site"):
        fetch = {**AUTH, "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"}
        assert client.get("/hello", headers=fetch).status_code == 403
    assert calls.count == 0
    navigate = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    # A link clicked elsewhere opens the page; without the token it is still refused.
    assert client.get("/hello", headers=navigate).status_code == 401
    assert client.get("/hello", headers={**navigate, **AUTH}).status_code == 200
    same = {**AUTH, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    assert client.get("/hello", headers=same).status_code == 200


# -- body size --------------------------------------------------------------------------------
def test_a_declared_huge_body_is_refused_before_the_app(calls: Calls) -> None:
    client = make_app(calls, max_body_bytes=1000)
    assert client.post("/echo", content=b"x" * 1000, headers=AUTH).json() == {"bytes": 1000}
    response = client.post("/echo", content=b"x" * 1001, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["guard"] == "body"
    assert calls.count == 1


def test_a_streamed_huge_body_is_refused_on_a_real_server(calls: Calls) -> None:
    async def echo(request: Request) -> Response:
        calls.count += 1
        return JSONResponse({"bytes": len(await request.body())})

    app = create_app(
        [Route("/echo", echo, methods=["POST"])], GuardPolicy(token=TOKEN, max_body_bytes=10_000)
    )

    def chunks(count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield b"x" * 1000

    with running_server(app) as base, httpx2.Client(base_url=base, timeout=10) as http:
        small = http.post("/echo", content=chunks(5), headers=AUTH)
        assert small.json() == {"bytes": 5000}
        big = http.post("/echo", content=chunks(50), headers=AUTH)
        assert "content-length" not in big.request.headers
        assert big.status_code == 413
    assert calls.count == 2  # the handler started reading, but never answered the big one


# -- headers and errors -----------------------------------------------------------------------
def test_security_headers_on_answers_and_refusals(client: TestClient) -> None:
    for response in (client.get("/hello", headers=AUTH), client.get("/hello")):
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
    page = client.get("/page", headers=AUTH)
    assert page.headers["content-security-policy"] == "default-src 'self'"


def test_a_failing_endpoint_answers_json_without_details(client: TestClient) -> None:
    response = client.get("/broken", headers=AUTH)
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["error"].startswith("internal error")
    assert client.get("/nowhere", headers=AUTH).json() == {"error": "Not Found"}


def test_bind_port_zero_gets_a_port_and_serves_it(calls: Calls) -> None:
    bound = bind()
    try:
        assert bound.port > 0
        assert bound.base_url == f"http://127.0.0.1:{bound.port}"
        # asyncio disables Nagle only on sockets that say TCP; else ~40 ms per keep-alive answer
        assert bound.sock.proto == socket.IPPROTO_TCP
    finally:
        bound.sock.close()
    app = make_app(calls).app
    with running_server(app) as base, httpx2.Client(base_url=base, timeout=10) as http:
        assert http.get("/hello").status_code == 401
        assert http.get("/hello", headers=AUTH).json() == {"ok": True}
        assert "server" not in http.get("/hello").headers
