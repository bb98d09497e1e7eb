"""The ``fcm`` provider with the real firebase-admin SDK: it authenticates with a locally
generated service-account key against a loopback token endpoint and sends to a loopback FCM
(:mod:`remindkit.fakes.fcm`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import FcmPeer

from remindkit.dispatch.delivery import RateLimiter, RetryPolicy, deliver
from remindkit.errors import (
    ConfigError,
    DeliveryError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.fakes.fcm import FakeFcm, service_account_key
from remindkit.models import Channel
from remindkit.providers.base import Envelope, Receipt
from remindkit.providers.fcm import FcmOptions, FcmProvider

PINNED_FIREBASE_ADMIN = "7.7.0"


@pytest.fixture
def fcm(fcm_peer: FcmPeer) -> Iterator[tuple[FcmProvider, FakeFcm]]:
    fcm_peer.fake.reset()
    provider = FcmProvider(
        FcmOptions(base_url=fcm_peer.url),  # type: ignore[arg-type]
        environ={"GOOGLE_APPLICATION_CREDENTIALS": str(fcm_peer.key_file)},
    )
    yield provider, fcm_peer.fake
    provider.close()


def push(
    token: str, key: str = "rk1_p", body: str = "您有一笔借款明天到期，请打开App查看。"
) -> Envelope:
    return Envelope(
        key=key,
        channel=Channel.PUSH,
        to=token,
        title="还款提醒",
        body=body,
        borrower_id="B1",
        collapse_key="rk-0123456789abcdef",
    )


def test_the_pinned_sdk_still_has_the_private_hooks_remindkit_uses() -> None:
    import firebase_admin
    from firebase_admin import messaging

    assert firebase_admin.__version__ == PINNED_FIREBASE_ADMIN
    assert callable(messaging._get_messaging_service)
    source = Path(messaging.__file__).read_text(encoding="utf-8")
    assert "self._fcm_url = " in source
    assert "self._client = _http_client.JsonHttpClient(" in source


def test_a_push_authenticates_and_is_sent_with_channel_and_collapse_key(
    fcm: tuple[FcmProvider, FakeFcm],
) -> None:
    provider, fake = fcm
    receipt = provider.send(push("tok-ok"))
    assert receipt.provider_message_id == "projects/hemiao-fake/messages/1"
    (message,) = fake.messages
    assert message["token"] == "tok-ok"
    assert message["notification"] == {
        "title": "还款提醒",
        "body": "您有一笔借款明天到期，请打开App查看。",
    }
    assert message["data"] == {"remindkit_key": "rk1_p"}
    android = message["android"]
    assert isinstance(android, dict)
    assert android["collapse_key"] == "rk-0123456789abcdef"
    assert android["notification"] == {"channel_id": "repayment_reminders", "visibility": "PRIVATE"}
    assert message["apns"] == {"headers": {"apns-collapse-id": "rk-0123456789abcdef"}}
    assert fake.token_requests == 1


@pytest.mark.parametrize(
    ("error", "expected", "code", "recipient"),
    [
        ("UNREGISTERED", PermanentDeliveryError, "UNREGISTERED", True),
        ("INVALID_ARGUMENT", PermanentDeliveryError, "INVALID_ARGUMENT", True),
        ("QUOTA_EXCEEDED", TransientDeliveryError, "QUOTA_EXCEEDED", None),
        ("UNAVAILABLE", TransientDeliveryError, "UNAVAILABLE", None),
        ("INTERNAL", TransientDeliveryError, "INTERNAL", None),
        ("SENDER_ID_MISMATCH", ProviderConfigError, "SENDER_ID_MISMATCH", None),
        ("THIRD_PARTY_AUTH_ERROR", ProviderConfigError, "THIRD_PARTY_AUTH_ERROR", None),
    ],
)
def test_each_fcm_error_code_maps_as_documented(
    fcm: tuple[FcmProvider, FakeFcm],
    error: str,
    expected: type[DeliveryError],
    code: str,
    recipient: bool | None,
) -> None:
    provider, fake = fcm
    fake.script("tok-bad", error)
    started = time.monotonic()
    with pytest.raises(expected) as caught:
        provider.send(push("tok-bad"))
    assert type(caught.value) is expected
    assert caught.value.code == code
    if recipient is not None:
        assert isinstance(caught.value, PermanentDeliveryError)
        assert caught.value.recipient is recipient
    # The SDK retries nothing; google-auth refreshes its token on a 401 and tries again,
    # at most twice (THIRD_PARTY_AUTH_ERROR is a 401): bounded, and nothing was accepted.
    assert len(fake.messages) == (3 if error == "THIRD_PARTY_AUTH_ERROR" else 1)
    assert time.monotonic() - started < 5


def test_a_batch_with_mixed_results_answers_each_message(fcm: tuple[FcmProvider, FakeFcm]) -> None:
    provider, fake = fcm
    fake.script("tok-dead", "UNREGISTERED")
    fake.script("tok-busy", "UNAVAILABLE")
    envelopes = [
        push(token, key=f"rk1_{token}") for token in ("tok-1", "tok-dead", "tok-busy", "tok-2")
    ]
    answers = provider.send_batch(envelopes)
    assert isinstance(answers[0], Receipt)
    assert isinstance(answers[1], PermanentDeliveryError)
    assert isinstance(answers[2], TransientDeliveryError)
    assert isinstance(answers[3], Receipt)
    assert len(fake.messages) == 4


def test_a_flaky_503_recovers_through_remindkits_retries(
    fcm: tuple[FcmProvider, FakeFcm],
) -> None:
    provider, fake = fcm
    fake.script("tok-flaky", "UNAVAILABLE", times=2, retry_after=1)
    sleeps: list[float] = []
    answers = deliver(
        provider,
        [push("tok-flaky"), push("tok-fine", key="rk1_fine")],
        limiter=RateLimiter(None),
        policy=RetryPolicy(attempts=3, sleep=sleeps.append),
    )
    assert all(isinstance(answer, Receipt) for answer in answers)
    assert sleeps == [1.0, 1.0]  # FCM's Retry-After, honoured by remindkit, not the SDK
    tokens = [m["token"] for m in fake.messages]  # send_each sends a batch in parallel
    assert sorted(tokens[:2]) == ["tok-fine", "tok-flaky"]
    assert tokens[2:] == ["tok-flaky", "tok-flaky"]  # only the refused one is retried


def test_an_amount_never_reaches_the_lock_screen(fcm: tuple[FcmProvider, FakeFcm]) -> None:
    provider, fake = fcm
    with pytest.raises(PermanentDeliveryError) as caught:
        provider.send(push("tok-ok", body="您本期应还1,234.50元，明天到期。"))
    assert caught.value.code == "amount_on_lock_screen"
    assert caught.value.recipient is False
    assert fake.messages == []


def test_a_key_the_token_endpoint_refuses_stops_the_provider(
    fcm_peer: FcmPeer, tmp_path: Path
) -> None:
    stranger = tmp_path / "other.json"
    service_account_key(stranger, f"{fcm_peer.url}/token")  # its public key is unknown to the fake
    provider = FcmProvider(
        FcmOptions(base_url=fcm_peer.url),  # type: ignore[arg-type]
        environ={"GOOGLE_APPLICATION_CREDENTIALS": str(stranger)},
    )
    try:
        answers = provider.send_batch([push("tok-1"), push("tok-2", key="rk1_2")])
    finally:
        provider.close()
    assert all(isinstance(answer, ProviderConfigError) for answer in answers)
    assert "BEGIN PRIVATE KEY" not in str(answers[0])


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({}, "GOOGLE_APPLICATION_CREDENTIALS is not set"),
        ({"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"},
         "cannot read /nonexistent/key.json"),
    ],
)  # fmt: skip
def test_missing_credentials_name_the_variable(environ: dict[str, str], reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FcmProvider(FcmOptions(), environ=environ)
    assert caught.value.key == "providers.fcm"
    assert reason in caught.value.reason


def test_a_key_file_missing_a_field_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "key.json"
    bad.write_text('{"type": "service_account", "project_id": "p", "private_key": "x"}')
    with pytest.raises(ConfigError, match="lacks client_email, token_uri"):
        FcmProvider(FcmOptions(), environ={"GOOGLE_APPLICATION_CREDENTIALS": str(bad)})


def test_a_missing_sdk_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, fcm_peer: FcmPeer
) -> None:
    monkeypatch.setitem(sys.modules, "firebase_admin", None)
    with pytest.raises(ConfigError, match=r"pip install remindkit\[firebase\]"):
        FcmProvider(
            FcmOptions(), environ={"GOOGLE_APPLICATION_CREDENTIALS": str(fcm_peer.key_file)}
        )
