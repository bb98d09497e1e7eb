"""The ``http`` provider with the shipped Chuanglan example config, against a loopback
gateway that follows Chuanglan's documented API (:mod:`remindkit.fakes.chuanglan`)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remindkit.errors import (
    ConfigError,
    DeliveryError,
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.fakes.chuanglan import ACCOUNT, PASSWORD, FakeChuanglan
from remindkit.models import Channel
from remindkit.providers import registry
from remindkit.providers.base import Envelope
from remindkit.providers.http import HttpOptions, HttpProvider
from remindkit.web.server import running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "gateways" / "chuanglan.toml"
ENV = {"CHUANGLAN_ACCOUNT": ACCOUNT, "CHUANGLAN_PASSWORD": PASSWORD}
TEXT = "【禾苗金融】王女士您好，您尾号1234的借款12月2日到期，请在禾苗金融App还款。"


def example_options(url: str, **changes: Any) -> HttpOptions:
    table = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["providers"]["http"]
    table["url"] = f"{url}/msg/v1/send/json"
    table.update(changes)
    return HttpOptions.model_validate(table)


def sms(to: str = "+8613800138000", text: str = TEXT) -> Envelope:
    return Envelope(key="rk1_h", channel=Channel.SMS, to=to, text=text)


@pytest.fixture(scope="module")
def gateway_server() -> Iterator[tuple[FakeChuanglan, str]]:
    fake = FakeChuanglan()
    with running_server(fake.app()) as url:
        yield fake, url


@pytest.fixture
def gateway(gateway_server: tuple[FakeChuanglan, str]) -> Iterator[tuple[FakeChuanglan, str]]:
    gateway_server[0].reset()
    yield gateway_server
    gateway_server[0].reset()


def test_the_example_config_sends_what_chuanglan_documents(
    gateway: tuple[FakeChuanglan, str],
) -> None:
    fake, url = gateway
    provider = HttpProvider(example_options(url), environ=ENV)
    receipt = provider.send(sms())
    assert receipt.provider == "http"
    assert receipt.provider_message_id
    assert fake.requests == [
        {
            "account": ACCOUNT,
            "password": PASSWORD,
            "msg": TEXT,
            "phone": "13800138000",
            "report": "true",
            "uid": "rk1_h",
        }
    ]
    assert provider.capabilities.max_length == 500
    assert provider.capabilities.channels == frozenset({Channel.SMS})
    provider.close()


@pytest.mark.parametrize(
    ("code", "expected", "recipient"),
    [
        ("107", PermanentDeliveryError, True),
        ("105", PermanentDeliveryError, False),
        ("103", TransientDeliveryError, None),
        ("104", TransientDeliveryError, None),
        ("109", ProviderConfigError, None),
    ],
)
def test_a_business_error_inside_a_200_maps_by_the_config(
    gateway: tuple[FakeChuanglan, str],
    code: str,
    expected: type[DeliveryError],
    recipient: bool | None,
) -> None:
    fake, url = gateway
    fake.script("13900139000", code)
    provider = HttpProvider(example_options(url), environ=ENV)
    with pytest.raises(expected) as caught:
        provider.send(sms(to="+8613900139000"))
    assert type(caught.value) is expected
    assert caught.value.code == code
    if recipient is not None:
        assert isinstance(caught.value, PermanentDeliveryError)
        assert caught.value.recipient is recipient
    provider.close()


def test_a_wrong_password_stops_the_provider_and_is_never_shown(
    gateway: tuple[FakeChuanglan, str],
) -> None:
    _, url = gateway
    provider = HttpProvider(
        example_options(url), environ={**ENV, "CHUANGLAN_PASSWORD": "wrong-pass-456"}
    )
    with pytest.raises(ProviderConfigError) as caught:
        provider.send(sms())
    assert caught.value.code == "102"
    assert "wrong-pass-456" not in str(caught.value)
    provider.close()


def test_a_timeout_after_the_request_is_unknown(gateway: tuple[FakeChuanglan, str]) -> None:
    fake, url = gateway
    fake.script("13900139000", None, delay=1.5)
    provider = HttpProvider(example_options(url, read_timeout_seconds=0.3), environ=ENV)
    with pytest.raises(DeliveryOutcomeUnknownError) as caught:
        provider.send(sms(to="+8613900139000"))
    assert caught.value.code == "read_timeout"
    assert len(fake.requests) == 1  # it reached the gateway: never re-sent automatically
    provider.close()


def test_the_hmac_signature_is_verified_by_the_gateway(
    gateway: tuple[FakeChuanglan, str],
) -> None:
    fake, url = gateway
    fake.hmac_secret = "shared-hmac-secret"
    signature = {
        "header": "X-Signature",
        "secret_env": "GATEWAY_HMAC",
        "timestamp_header": "X-Timestamp",
    }
    signed = HttpProvider(
        example_options(url, signature=signature),
        environ={**ENV, "GATEWAY_HMAC": "shared-hmac-secret"},
    )
    assert signed.send(sms()).provider_message_id
    forged = HttpProvider(
        example_options(url, signature=signature), environ={**ENV, "GATEWAY_HMAC": "guessed"}
    )
    with pytest.raises(ProviderConfigError, match="HTTP 401"):
        forged.send(sms())
    unsigned = HttpProvider(example_options(url), environ=ENV)
    with pytest.raises(ProviderConfigError):
        unsigned.send(sms())
    for provider in (signed, forged, unsigned):
        provider.close()


def test_a_placeholder_inside_a_message_is_not_expanded(gateway: tuple[FakeChuanglan, str]) -> None:
    fake, url = gateway
    provider = HttpProvider(example_options(url), environ=ENV)
    provider.send(sms(text="【禾苗金融】{key} ${CHUANGLAN_PASSWORD} 您好"))
    assert fake.requests[0]["msg"] == "【禾苗金融】{key} ${CHUANGLAN_PASSWORD} 您好"
    provider.close()


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        HttpProvider(example_options("http://127.0.0.1:9"), environ={"CHUANGLAN_ACCOUNT": "N1"})
    assert caught.value.key == "providers.http"
    assert caught.value.reason == "environment variable CHUANGLAN_PASSWORD is not set"


def test_settings_are_validated_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        registry.build(
            "http", {"url": "https://gw.example.cn/send", "body": {"a": "b"}}, "providers.sms"
        )
    assert caught.value.key == "providers.http.success"
