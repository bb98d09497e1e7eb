"""Real providers through the outbox (SQLite and PostgreSQL): the firebase-admin and twilio
SDKs against their loopback peers, driven by the dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PLATFORM_TOML, T0, planned
from peers import FcmPeer
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from remindkit.kit import Kit
from remindkit.models import Channel, Stage
from remindkit.outbox.states import MessageState, Origin
from remindkit.providers.base import Provider
from remindkit.providers.fcm import FcmOptions, FcmProvider
from remindkit.providers.twilio import TwilioOptions, TwilioProvider
from remindkit.testing import FrozenClock, demo_settings

SECRET_TOKEN = "wrong-token-e2e-7f3a"


@pytest.fixture
def peers(
    fcm_peer: FcmPeer, twilio_server: tuple[FakeTwilio, str]
) -> Iterator[tuple[FcmPeer, FakeTwilio, str]]:
    fake, url = twilio_server
    fcm_peer.fake.reset()
    fake.reset()
    yield fcm_peer, fake, url
    fcm_peer.fake.reset()
    fake.reset()


def sms_provider(url: str, token: str = AUTH_TOKEN) -> TwilioProvider:
    options = TwilioOptions.model_validate({"from_number": "+14155550100", "base_url": url})
    return TwilioProvider(
        options, environ={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": token}
    )


def push_provider(peer: FcmPeer) -> FcmProvider:
    return FcmProvider(
        FcmOptions(base_url=peer.url),  # type: ignore[arg-type]
        environ={"GOOGLE_APPLICATION_CREDENTIALS": str(peer.key_file)},
    )


def kit_with(store_url: str, sms: Provider, push: Provider) -> Kit:
    return Kit(
        demo_settings(),
        clock=FrozenClock(T0),
        store=store_url,
        providers={Channel.SMS: sms, Channel.PUSH: push},
        sleep=lambda _: None,
    )


def test_push_to_an_unregistered_token_falls_back_to_sms_in_the_same_step(
    store_url: str, peers: tuple[FcmPeer, FakeTwilio, str]
) -> None:
    fcm, twilio, url = peers
    fcm.fake.script("tok-dead", "UNREGISTERED")
    kit = kit_with(store_url, sms_provider(url), push_provider(fcm))
    with kit:
        push = planned(
            "B1",
            stage=Stage.DUE_TODAY,
            channel=Channel.PUSH,
            fallbacks=(Channel.SMS,),
            push_token="tok-dead",
        )
        kit.enqueue([push])
        report = kit.dispatch_due()
        rows = kit.outbox.messages(borrower_id="B1", limit=10)
        # The fallback counts for the caps like any message: another reminder to the same
        # borrower the same day waits for the 2-hour gap.
        other_loan = planned("B1", loans=(("L2", 1),), stage=Stage.DUE_TODAY)
        kit.enqueue([other_loan])
        kit.dispatch_due(T0 + timedelta(minutes=30))
        held = kit.outbox.get(other_loan.key)
    assert report["fallback"] == 1
    assert report["sent"] == 1, report.to_json()
    failed = next(row for row in rows if row.key == push.key)
    assert (failed.state, failed.error_code) == (MessageState.FAILED, "UNREGISTERED")
    fallback = next(row for row in rows if row.origin is Origin.FALLBACK)
    assert (fallback.channel, fallback.parent_key, fallback.state) == (
        Channel.SMS,
        push.key,
        MessageState.SENT,
    )
    assert fallback.provider == "twilio"
    assert [request["To"] for request in twilio.requests] == ["+8613800138000"]
    assert held.state is MessageState.PLANNED
    assert held.reason == "deferred: min_gap"
    assert [m["token"] for m in fcm.fake.messages] == ["tok-dead"]


def test_a_flagged_push_token_is_not_tried_again(
    store_url: str, peers: tuple[FcmPeer, FakeTwilio, str]
) -> None:
    fcm, _, url = peers
    fcm.fake.script("tok-dead", "UNREGISTERED")
    kit = kit_with(store_url, sms_provider(url), push_provider(fcm))
    with kit:
        first = planned("B1", channel=Channel.PUSH, push_token="tok-dead")
        kit.enqueue([first])
        kit.dispatch_due()
        later = planned(
            "B1",
            channel=Channel.PUSH,
            push_token="tok-dead",
            send_at=T0 + timedelta(days=1),
            not_after=T0 + timedelta(days=1, hours=10),
        )
        kit.enqueue([later])
        kit.dispatch_due(T0 + timedelta(days=1))
        assert kit.outbox.get(later.key).state is MessageState.SUPPRESSED
    assert len(fcm.fake.messages) == 1


def test_bad_twilio_credentials_stop_the_provider_without_failing_its_messages(
    store_url: str,
    peers: tuple[FcmPeer, FakeTwilio, str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    fcm, twilio, url = peers
    caplog.set_level(logging.DEBUG)
    kit = kit_with(store_url, sms_provider(url, token=SECRET_TOKEN), push_provider(fcm))
    messages = [planned(f"B{n}") for n in range(1, 6)]
    with kit:
        kit.enqueue(messages)
        report = kit.dispatch_due()
        rows = [kit.outbox.get(m.key) for m in messages]
        events = [event for m in messages for event in kit.outbox.history(m.key)]
    assert "twilio" in report.stopped_providers
    assert report["failed"] == 0
    assert all(row.state is MessageState.PLANNED for row in rows)
    assert len(twilio.requests) < len(messages)  # the others were never handed over
    shown = [report.stopped_providers["twilio"], caplog.text]
    shown += [event.reason or "" for event in events]
    assert not [text for text in shown if SECRET_TOKEN in text]
    status = _status(store_url, tmp_path)
    assert "planned" in status
    assert SECRET_TOKEN not in status


def _status(store_url: str, tmp_path: Path) -> str:
    config = tmp_path / "remindkit.toml"
    config.write_text(
        PLATFORM_TOML + '[providers]\nsms = "twilio"\n\n[providers.twilio]\n'
        'from_number = "+14155550100"\n',
        encoding="utf-8",
    )
    _register()
    result = CliRunner().invoke(
        app,
        ["status", "--config", str(config), "--store", store_url, "--format", "json"],
        env={"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": SECRET_TOKEN},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_text_longer_than_the_provider_takes_is_not_sent_cut(
    store_url: str, peers: tuple[FcmPeer, FakeTwilio, str]
) -> None:
    fcm, twilio, url = peers
    sms = sms_provider(url)
    sms.max_length = 20  # type: ignore[misc] # a gateway that takes very short texts
    kit = kit_with(store_url, sms, push_provider(fcm))
    with kit:
        message = planned(
            "B1", stage=Stage.DUE_TODAY, fallbacks=(Channel.PUSH,), push_token="tok-1"
        )
        kit.enqueue([message])
        report = kit.dispatch_due()
        held = kit.outbox.get(message.key)
    assert (held.state, held.error_code) == (MessageState.SUPPRESSED, "too_long")
    assert held.reason is not None
    assert "takes at most 20" in held.reason
    assert twilio.requests == []
    assert report["fallback"] == 1
    assert [m["token"] for m in fcm.fake.messages] == ["tok-1"]


def test_pushes_go_to_fcm_in_batches_of_its_declared_size(
    store_url: str, peers: tuple[FcmPeer, FakeTwilio, str]
) -> None:
    fcm, _, url = peers
    push = push_provider(fcm)
    calls: list[int] = []
    original = push.send_batch

    def counted(envelopes: object) -> object:
        calls.append(len(envelopes))  # type: ignore[arg-type]
        return original(envelopes)  # type: ignore[arg-type]

    push.send_batch = counted  # type: ignore[assignment,method-assign]
    kit = kit_with(store_url, sms_provider(url), push)
    with kit:
        kit.enqueue(
            [planned(f"B{n}", channel=Channel.PUSH, push_token=f"tok-{n}") for n in range(30)]
        )
        report = kit.dispatch_due()
    assert report["sent"] == 30
    assert sum(calls) == 30
    assert len(calls) < 30  # batched, not one call per push
    assert len(fcm.fake.messages) == 30
