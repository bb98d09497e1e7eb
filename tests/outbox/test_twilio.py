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
