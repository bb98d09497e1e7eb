"""The ``twilio`` provider with the real SDK: against Prism serving Twilio's official spec
(every request remindkit makes must be valid there) and against a loopback fake that gives
each of Twilio's error answers."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from peers import TWILIO_SPEC, prism_mock

from remindkit.errors import (
    ConfigError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Scripted
from remindkit.models import Channel
from remindkit.providers import registry
from remindkit.providers.base import Envelope, Receipt
from remindkit.providers.twilio import TwilioOptions, TwilioProvider

ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
SENDER = "+14155550100"
TEXT = "【禾苗金融】王女士您好，您尾号1234的借款本期应还1,234.50元，12月2日到期。"


def envelope(to: str = "+8613800138000", text: str = TEXT, key: str = "rk1_a") -> Envelope:
    return Envelope(key=key, channel=Channel.SMS, to=to, text=text)


def provider(
    base_url: str, environ: dict[str, str] | None = None, **options: object
) -> TwilioProvider:
    settings = TwilioOptions.model_validate(
        {"from_number": SENDER, "base_url": base_url, **options}
    )
    return TwilioProvider(settings, environ=ENV if environ is None else environ)


@pytest.fixture(scope="module")
def prism() -> Iterator[str]:
    with prism_mock(TWILIO_SPEC) as url:
        yield url


@pytest.fixture
def fake(twilio_server: tuple[FakeTwilio, str]) -> Iterator[tuple[FakeTwilio, str]]:
    twilio_server[0].reset()
    yield twilio_server
    twilio_server[0].reset()


@pytest.mark.node
@pytest.mark.parametrize(
    "options",
    [
        {"status_callback": "https://hm.example.cn/receipts/twilio"},
        {"from_number": None, "messaging_service_sid": "MG" + "ab" * 16},
    ],
    ids=["from-number-and-callback", "messaging-service"],
)
def test_every_request_is_valid_against_twilios_official_spec(
    prism: str, options: dict[str, object]
) -> None:
    sender = provider(prism, **options)
    try:
        for text in (TEXT, TEXT * 10, "Reply TD to stop"):
            receipt = sender.send(envelope(text=text))
            assert receipt.provider == "twilio"
            assert receipt.provider_message_id
    finally:
        sender.close()


@pytest.mark.node
def test_an_api_key_pair_authenticates_against_the_spec(prism: str) -> None:
    environ = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_API_KEY": "SK" + "cd" * 16,
        "TWILIO_API_SECRET": "not-a-secret",
    }
    sender = provider(prism, environ=environ)
    assert isinstance(sender.send(envelope()), Receipt)
    sender.close()


@pytest.mark.node
def test_prism_refuses_what_the_spec_forbids(prism: str) -> None:
    """The check above can fail: a request the spec forbids is answered 422 by Prism."""
    from twilio.base.exceptions import TwilioRestException

    sender = provider(prism)
    with pytest.raises(TwilioRestException) as caught:
        sender._messages.create(to="+8613800138000", body=TEXT, status_callback="not a uri")
    assert caught.value.status == 422
    sender.close()


def test_the_fake_records_what_twilio_receives(fake: tuple[FakeTwilio, str]) -> None:
    server, url = fake
    sender = provider(url, status_callback="https://hm.example.cn/receipts/twilio")
    receipt = sender.send(envelope())
    assert receipt.provider_message_id is not None
    assert receipt.provider_message_id.startswith("SM")
    assert server.requests == [
        {
            "To": "+8613800138000",
            "From": SENDER,
            "Body": TEXT,
            "StatusCallback": "https://hm.example.cn/receipts/twilio",
        }
    ]
    sender.close()


@pytest.mark.parametrize(
    ("status", "code", "expected", "recipient"),
    [
        (429, 20429, TransientDeliveryError, None),
        (400, 21211, PermanentDeliveryError, True),
        (400, 21614, PermanentDeliveryError, True),
        (400, 21610, PermanentDeliveryError, True),
        (400, 21408, PermanentDeliveryError, True),
        (400, 21612, PermanentDeliveryError, True),
        (401, 20003, ProviderConfigError, None),
        (400, 21606, ProviderConfigError, None),
        (400, 21617, PermanentDeliveryError, False),
        (500, None, DeliveryOutcomeUnknownError, None),
        (503, 20500, DeliveryOutcomeUnknownError, None),
    ],
)
def test_each_twilio_error_maps_as_documented(
    fake: tuple[FakeTwilio, str],
    status: int,
    code: int | None,
    expected: type[DeliveryError],
    recipient: bool | None,
) -> None:
    server, url = fake
    server.script("+8613900139000", Scripted(status=status, code=code))
    sender = provider(url)
    with pytest.raises(expected) as caught:
        sender.send(envelope(to="+8613900139000"))
    assert type(caught.value) is expected
    assert caught.value.code == (str(code) if code else f"http_{status}")
    if recipient is not None:
        assert isinstance(caught.value, PermanentDeliveryError)
        assert caught.value.recipient is recipient
    sender.close()


def test_a_429_gives_twilios_retry_after(fake: tuple[FakeTwilio, str]) -> None:
    server, url = fake
    server.script("+8613900139000", Scripted(status=429, code=20429, retry_after=7))
    sender = provider(url)
    with pytest.raises(TransientDeliveryError) as caught:
        sender.send(envelope(to="+8613900139000"))
    assert caught.value.retry_after == 7.0
    sender.close()


def test_bad_credentials_are_a_configuration_error_without_the_token(
    fake: tuple[FakeTwilio, str],
) -> None:
    _, url = fake
    sender = provider(url, environ={**ENV, "TWILIO_AUTH_TOKEN": "wrong-token-123"})
    with pytest.raises(ProviderConfigError) as caught:
        sender.send(envelope())
    assert caught.value.code == "20003"
    assert "wrong-token-123" not in str(caught.value)
    sender.close()


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = provider(f"http://127.0.0.1:{port}")
    with pytest.raises(TransientDeliveryError) as caught:
        sender.send(envelope())
    assert caught.value.code == "connect"
    sender.close()


def test_a_read_timeout_after_the_request_is_unknown(fake: tuple[FakeTwilio, str]) -> None:
    server, url = fake
    server.script("+8613900139000", Scripted(status=500, delay=1.5, times=1))
    sender = provider(url, read_timeout_seconds=0.3)
    with pytest.raises(DeliveryOutcomeUnknownError) as caught:
        sender.send(envelope(to="+8613900139000"))
    assert caught.value.code == "read_timeout"
    assert [request["To"] for request in server.requests] == ["+8613900139000"]
    sender.close()


def test_one_http_client_serves_many_threads_on_a_bounded_pool(
    fake: tuple[FakeTwilio, str],
) -> None:
    server, url = fake
    server.latency = 0.02
    sender = provider(url, pool_size=8)
    adapter = sender.http_client.session.get_adapter(url)  # type: ignore[union-attr]
    assert adapter._pool_maxsize == 8  # type: ignore[attr-defined]
    assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
    assert sender.http_client.timeout == (5.0, 10.0)

    def send(number: int) -> str | None:
        return sender.send(
            envelope(to=f"+86139{number:08d}", key=f"rk1_{number}")
        ).provider_message_id

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(send, range(80)))
    finally:
        server.latency = 0.0
    assert len(set(ids)) == 80
    assert len(server.requests) == 80
    assert len(server.client_ports) <= 8  # connections are reused, not opened per call
    sender.close()


def test_missing_credentials_name_the_variable_and_no_value() -> None:
    with pytest.raises(ConfigError) as caught:
        provider("https://api.twilio.com", environ={"TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    assert caught.value.key == "providers.twilio"
    assert "TWILIO_AUTH_TOKEN is not set" in caught.value.reason
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID is not set"):
        provider("https://api.twilio.com", environ={"TWILIO_AUTH_TOKEN": "secret-xyz"})
    with pytest.raises(ConfigError, match="TWILIO_API_SECRET is not set") as pair:
        provider(
            "https://api.twilio.com",
            environ={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_KEY": "SK" + "0" * 32},
        )
    assert "SK000" not in str(pair.value)


@pytest.mark.parametrize(
    ("options", "key", "reason"),
    [
        ({}, "providers.twilio", "exactly one of from_number and messaging_service_sid"),
        ({"from_number": "13800138000"}, "providers.twilio.from_number", "E.164"),
        ({"from_number": SENDER, "status_callback": "not a url"},
         "providers.twilio.status_callback", "URL"),
        ({"messaging_service_sid": "MG1"}, "providers.twilio.messaging_service_sid", "MG followed"),
    ],
)  # fmt: skip
def test_settings_are_validated_naming_the_key(
    options: dict[str, object], key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        registry.build("twilio", options, "providers.sms")
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_a_missing_sdk_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "twilio.rest", None)
    with pytest.raises(ConfigError) as caught:
        provider("https://api.twilio.com")
    assert "pip install remindkit[twilio]" in caught.value.reason


def test_the_registry_imports_no_sdk_until_a_provider_is_built() -> None:
    import subprocess

    probe = (
        "import sys; from remindkit.providers import registry; "
        "registry.load('twilio', 'providers.sms'); registry.load('console', 'x'); "
        "print(sorted(m for m in ('twilio', 'firebase_admin', 'requests') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


class _Proxy:
    """A loopback HTTP proxy: forwards plain requests to their target (on this machine) and
    refuses CONNECT tunnels; records the request line of each."""

    def __init__(self) -> None:
        import http.server
        import threading
        import urllib.request

        seen: list[str] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_CONNECT(self) -> None:
                seen.append(f"CONNECT {self.path}")
                self.send_error(502, "no tunnels here")

            def do_POST(self) -> None:
                seen.append(f"POST {self.path}")
                assert self.path.startswith("http://127.0.0.1:")  # loopback only
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                names = ("Authorization", "Content-Type", "User-Agent", "Accept")
                forwarded = urllib.request.Request(
                    self.path,
                    data=body,
                    method="POST",
                    headers={n: self.headers[n] for n in names if self.headers[n]},
                )
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(forwarded, timeout=5) as answer:
                    payload = answer.read()
                    self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Proxy]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    running = _Proxy()
    yield running
    running.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_https_proxy_from_the_environment_is_used(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy variables are read once at start (no per-call lookups), and honoured."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    port = _closed_port()  # were the proxy ignored, this would be refused directly
    sender = provider(f"https://127.0.0.1:{port}")
    assert sender.http_client.session.trust_env is False  # type: ignore[union-attr]
    monkeypatch.delenv("HTTPS_PROXY")  # read at start: the change is not seen
    with pytest.raises(DeliveryError):
        sender.send(envelope())
    assert proxy.seen == [f"CONNECT 127.0.0.1:{port}"]
    sender.close()


def test_http_proxy_carries_the_call_and_no_proxy_bypasses_it(
    fake: tuple[FakeTwilio, str], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = fake
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    through = provider(url)
    assert isinstance(through.send(envelope()), Receipt)
    through.close()
    assert proxy.seen == [f"POST {url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"]

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = provider(url)
    assert isinstance(direct.send(envelope()), Receipt)
    direct.close()
    assert len(proxy.seen) == 1  # the second call went straight to the API
    assert len(server.requests) == 2


def test_the_ca_bundle_variable_is_read_once(
    proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/lender-ca.pem")
    sender = provider("https://api.twilio.com")
    assert sender.http_client.session.verify == "/etc/ssl/certs/lender-ca.pem"  # type: ignore[union-attr]
    sender.close()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/other.pem")
    sender = provider("https://api.twilio.com")
    assert sender.http_client.session.verify == "/etc/ssl/certs/other.pem"  # type: ignore[union-attr]
    sender.close()


@pytest.mark.parametrize(
    "data",
    [
        {"To": "+8613800138000", "From": SENDER, "Body": TEXT},
        {"To": "+8613800138000", "MessagingServiceSid": "MG" + "ab" * 16, "Body": "a&b=c d+e"},
        {"To": "+1", "Body": "", "MediaUrl": ["https://a.example/1", "https://a.example/2"]},
        {"To": "+1", "Attempt": 3, "Skipped": None},
    ],
)
def test_the_prepared_request_is_the_one_requests_prepares(
    proxy: _Proxy, data: dict[str, object]
) -> None:
    """The client prepares the SDK's form posts itself; method, URL, headers (in order) and
    body are what ``Session.prepare_request`` gives."""
    from requests import Request

    sender = provider("https://api.twilio.com")
    client = sender.http_client
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    headers = {
        "User-Agent": "twilio-python/9 (Linux x86_64) Python/3.11",
        "X-Twilio-Client": "python-9",
        "Accept-Charset": "utf-8",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    ours = client.prepare("POST", url, None, data, headers, auth)  # type: ignore[attr-defined]
    theirs = client.session.prepare_request(  # type: ignore[union-attr]
        Request(method="POST", url=url, data=data, headers=headers, auth=auth)
    )
    assert ours is not None
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert ours.hooks == theirs.hooks
    # Anything else is left to requests: JSON, query parameters.
    assert client.prepare("POST", url, {"a": "1"}, data, headers, auth) is None  # type: ignore[attr-defined]
    json_headers = {**headers, "Content-Type": "application/json"}
    assert client.prepare("POST", url, None, data, json_headers, auth) is None  # type: ignore[attr-defined]
    sender.close()


def test_the_pool_must_hold_a_connection_per_send_thread() -> None:
    from remindkit.kit import Kit
    from remindkit.providers.base import pool_too_small
    from remindkit.testing import demo_settings

    small = provider("https://api.twilio.com", pool_size=8)
    error = pool_too_small(small, 16)
    assert error is not None
    assert error.key == "providers.twilio.pool_size"
    assert "at least 16" in error.reason
    assert pool_too_small(small, 8) is None
    settings = demo_settings()
    settings = settings.model_copy(
        update={"dispatch": settings.dispatch.model_copy(update={"workers": 16})}
    )
    kit = Kit(settings, providers={Channel.SMS: small, Channel.PUSH: small})
    with pytest.raises(ConfigError) as caught:
        _ = kit.dispatcher
    assert caught.value.key == "providers.twilio.pool_size"
    small.close()
