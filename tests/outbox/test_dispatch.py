"""The dispatcher against the real store (SQLite and PostgreSQL) and a scriptable provider."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

from outbox_support import T0, KitFactory, planned

from remindkit.errors import (
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.models import Channel, Stage, Status
from remindkit.outbox.states import MessageState, Origin
from remindkit.resources import shipped_templates_dir
from remindkit.testing import RecordingOptions, RecordingProvider


def test_a_due_message_is_rendered_stored_and_sent_once(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    kit = make_kit(provider)
    message = planned("B1")
    kit.enqueue([message])
    report = kit.dispatch_due()
    assert report["sent"] == 1
    (envelope,) = provider.sent
    assert envelope.to == "+8613800138000"
    assert envelope.text is not None
    assert envelope.text.startswith("【禾苗金融】")
    stored = kit.outbox.get(message.key)
    assert stored.state is MessageState.SENT
    assert (stored.text, stored.address, stored.provider) == (
        envelope.text,
        envelope.to,
        "recording",
    )
    assert stored.provider_message_id == f"rec-{message.key}"
    source = (shipped_templates_dir() / "zh_CN" / "pre_due" / "sms.j2").read_text(encoding="utf-8")
    assert stored.template_hash == hashlib.sha256(source.encode()).hexdigest()
    assert kit.dispatch_due()["sent"] == 0
    assert len(provider.calls) == 1


def test_transient_errors_are_retried_in_process_honouring_retry_after(
    make_kit: KitFactory,
) -> None:
    provider = RecordingProvider()
    provider.fail(TransientDeliveryError("busy", code="20429", retry_after=2.5), times=2)
    sleeps: list[float] = []
    kit = make_kit(provider, sleeps=sleeps)
    kit.enqueue([planned()])
    assert kit.dispatch_due()["sent"] == 1
    assert sleeps == [2.5, 2.5]
    assert len(provider.calls) == 3


def test_transient_errors_past_the_retries_reschedule_until_the_window_closes(
    make_kit: KitFactory,
) -> None:
    provider = RecordingProvider()
    provider.fail(TransientDeliveryError("busy", code="busy"), times=None)
    kit = make_kit(provider, dispatch={"retry_attempts": 2})
    message = planned(not_after=T0 + timedelta(minutes=20))
    kit.enqueue([message])
    assert kit.dispatch_due()["rescheduled"] == 1
    stored = kit.outbox.get(message.key)
    assert (stored.state, stored.attempts, stored.error_code) == (MessageState.PLANNED, 1, "busy")
    assert stored.next_attempt_at == T0 + timedelta(minutes=5)
    assert kit.dispatch_due()["sent"] == 0  # not due again yet
    assert kit.dispatch_due(T0 + timedelta(minutes=5))["rescheduled"] == 1
    assert kit.outbox.get(message.key).next_attempt_at == T0 + timedelta(minutes=15)
    assert kit.dispatch_due(T0 + timedelta(minutes=15))["expired"] == 1
    assert kit.outbox.get(message.key).state is MessageState.EXPIRED
    assert provider.sent == []


def test_a_long_retry_after_is_left_to_the_outbox(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    provider.fail(TransientDeliveryError("slow down", retry_after=600), times=1)
    sleeps: list[float] = []
    kit = make_kit(provider, sleeps=sleeps)
    message = planned()
    kit.enqueue([message])
    assert kit.dispatch_due()["rescheduled"] == 1
    assert sleeps == []
    assert kit.outbox.get(message.key).next_attempt_at == T0 + timedelta(minutes=10)


def test_an_unregistered_token_falls_back_to_sms_and_is_flagged(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    provider.fail(
        PermanentDeliveryError("unregistered", code="UNREGISTERED"), to="tok-dead", times=None
    )
    kit = make_kit(provider)
    push = planned(
        "B1",
        stage=Stage.DUE_TODAY,
        channel=Channel.PUSH,
        fallbacks=(Channel.SMS,),
        push_token="tok-dead",
    )
    kit.enqueue([push])
    report = kit.dispatch_due()
    assert (report["failed"], report["fallback"], report["sent"]) == (1, 1, 1)
    failed = kit.outbox.get(push.key)
    assert (failed.state, failed.error_code) == (MessageState.FAILED, "UNREGISTERED")
    (fallback,) = [m for m in kit.outbox.messages() if m.origin is Origin.FALLBACK]
    assert (fallback.channel, fallback.parent_key, fallback.state) == (
        Channel.SMS,
        push.key,
        MessageState.SENT,
    )
    assert fallback.template_id == "due_today/sms"
    assert [e.channel for e in provider.sent] == [Channel.SMS]
    # The next day's push to the same token is not tried again: it falls back at once.
    tomorrow = T0 + timedelta(days=1)
    again = planned(
        "B1",
        stage=Stage.OVERDUE_EARLY,
        channel=Channel.PUSH,
        fallbacks=(Channel.SMS,),
        push_token="tok-dead",
        send_at=tomorrow,
        not_after=tomorrow + timedelta(hours=10),
    )
    kit.enqueue([again])
    report = kit.dispatch_due(tomorrow)
    assert kit.outbox.get(again.key).reason == "bad_contact"
    assert (report["suppressed"], report["sent"]) == (1, 1)
    assert len([c for c in provider.calls if c.to == "tok-dead"]) == 1


def test_a_flagged_contact_without_fallback_is_suppressed(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    provider.fail(PermanentDeliveryError("invalid number", code="21211"), times=1)
    kit = make_kit(provider)
    first = planned("B1")
    later = planned("B1", loans=(("L2", 1),), send_at=T0 + timedelta(hours=3))
    kit.enqueue([first, later])
    assert kit.dispatch_due()["failed"] == 1
    assert kit.dispatch_due(T0 + timedelta(hours=3))["suppressed"] == 1
    assert kit.outbox.get(later.key).reason == "bad_contact"
    assert len(provider.calls) == 1


def test_an_ambiguous_answer_is_unknown_and_never_sent_again(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    provider.fail(DeliveryOutcomeUnknownError("read timeout after sending"), times=1)
    kit = make_kit(provider)
    message = planned()
    kit.enqueue([message])
    assert kit.dispatch_due()["unknown"] == 1
    assert kit.outbox.get(message.key).state is MessageState.UNKNOWN
    assert kit.dispatch_due(T0 + timedelta(hours=1))["sent"] == 0
    kit.reap(T0 + timedelta(days=1))
    assert kit.outbox.get(message.key).state is MessageState.UNKNOWN
    assert len(provider.calls) == 1
    assert kit.unknown_messages() == [message.key]


def test_a_plugin_raising_anything_leaves_the_message_unknown_and_goes_on(
    make_kit: KitFactory,
) -> None:
    provider = RecordingProvider()
    provider.fail(ValueError("bug near +8613800138000"), key=planned("B1").key)
    kit = make_kit(provider)
    kit.enqueue([planned("B1"), planned("B2"), planned("B3")])
    report = kit.dispatch_due()
    assert (report["unknown"], report["sent"]) == (1, 2)
    reason = kit.outbox.get(planned("B1").key).reason or ""
    assert "ValueError" in reason
    assert "13800138000" not in reason


def test_a_provider_that_hangs_is_given_up_on_and_the_run_ends(make_kit: KitFactory) -> None:
    provider = RecordingProvider(RecordingOptions(timeout_seconds=0.2))
    provider.hang()
    kit = make_kit(provider, dispatch={"retry_attempts": 1})
    message = planned()
    kit.enqueue([message])
    started = time.monotonic()
    try:
        report = kit.dispatch_due()
    finally:
        provider.release()
    assert time.monotonic() - started < 30  # bounded, not a timing assertion of speed
    assert report["unknown"] == 1
    stored = kit.outbox.get(message.key)
    assert stored.state is MessageState.UNKNOWN
    assert "no answer" in (stored.reason or "")


def test_bad_credentials_stop_the_provider_and_keep_its_messages_planned(
    make_kit: KitFactory,
) -> None:
    provider = RecordingProvider()
    provider.fail(ProviderConfigError("authenticate: 20003"), times=None)
    kit = make_kit(provider, dispatch={"workers": 1, "batch_size": 1})
    kit.enqueue([planned(f"B{i}") for i in range(5)])
    report = kit.dispatch_due()
    assert list(report.stopped_providers) == ["recording"]
    assert report["failed"] == 0
    # One report, not five failed rows; calls already in flight when the first answer came
    # back (at most two per worker) are held back too.
    assert 1 <= len(provider.calls) <= 2
    assert {m.state for m in kit.outbox.messages()} == {MessageState.PLANNED}
    assert report.problems == 1


def test_a_payment_between_planning_and_sending_cancels_the_message(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    kit = make_kit(provider)
    message = planned("B1")
    kit.enqueue([message])
    assert kit.record_status("L1", 1, "paid").cancelled == 1
    assert kit.dispatch_due()["sent"] == 0
    assert kit.outbox.get(message.key).state is MessageState.CANCELLED
    assert provider.calls == []


def test_the_status_check_hook_is_asked_right_before_sending(make_kit: KitFactory) -> None:
    answers = {("L1", 1): "paid", ("L2", 1): None}
    asked: list[tuple[str, int]] = []

    def status_check(loan_id: str, number: int) -> str | None:
        asked.append((loan_id, number))
        if loan_id == "L3":
            raise ConnectionError("backend down")
        return answers.get((loan_id, number))

    provider = RecordingProvider()
    kit = make_kit(provider, status_check=status_check)
    paid, due, unchecked = (
        planned("B1"),
        planned("B2", loans=(("L2", 1),)),
        planned("B3", loans=(("L3", 1),)),
    )
    kit.enqueue([paid, due, unchecked])
    report = kit.dispatch_due()
    assert (report["cancelled"], report["sent"], report["deferred"]) == (1, 1, 1)
    assert kit.outbox.get(paid.key).reason == "status_paid"
    waiting = kit.outbox.get(unchecked.key)
    assert (waiting.state, waiting.next_attempt_at) == (
        MessageState.PLANNED,
        T0 + timedelta(minutes=1),
    )
    assert sorted(asked) == [("L1", 1), ("L2", 1), ("L3", 1)]


def test_caps_hold_against_what_was_actually_sent(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    kit = make_kit(provider)
    first = planned("B1")
    second = planned("B1", loans=(("L2", 1),), stage=Stage.OVERDUE)  # same time: planned apart
    third = planned("B1", loans=(("L3", 1),), send_at=T0 + timedelta(hours=5))
    fourth = planned("B1", loans=(("L4", 1),), send_at=T0 + timedelta(hours=8))
    kit.enqueue([first, second, third, fourth])
    report = kit.dispatch_due()
    assert (report["sent"], report["deferred"]) == (1, 1)
    deferred = kit.outbox.get(second.key)
    assert deferred.next_attempt_at == T0 + timedelta(hours=2)  # min_gap after the first
    assert kit.dispatch_due(T0 + timedelta(hours=2))["sent"] == 1
    assert kit.dispatch_due(T0 + timedelta(hours=5))["suppressed"] == 1  # two already today
    assert kit.outbox.get(third.key).reason == "frequency_cap"


def test_the_window_is_checked_at_the_moment_of_sending(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    early = T0.replace(hour=8)
    kit = make_kit(provider, at=early)
    message = planned("B1", send_at=early)
    kit.enqueue([message])
    assert kit.dispatch_due()["deferred"] == 1
    assert kit.outbox.get(message.key).next_attempt_at == T0.replace(hour=9)
    assert kit.dispatch_due(T0.replace(hour=9))["sent"] == 1


def test_a_thank_you_follows_the_first_payment_after_a_reminder(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    kit = make_kit(provider)
    kit.enqueue([planned("B1")])
    kit.dispatch_due()
    late = T0.replace(hour=21)
    kit.clock.set(late)  # type: ignore[attr-defined]
    assert kit.record_status("L1", 1, Status.PAID).thanked == 1
    assert kit.record_status("L1", 1, Status.PAID).thanked == 0  # once
    assert kit.dispatch_due()["sent"] == 0  # 21:00: waits for the window
    report = kit.dispatch_due(T0 + timedelta(days=1, hours=-1))  # 09:00 next day
    assert report["sent"] == 1, (
        report,
        [(m.stage, m.state, m.reason) for m in kit.outbox.messages()],
    )
    thanks = provider.sent[-1]
    assert thanks.text is not None
    assert "还款" in thanks.text
    (row,) = [m for m in kit.outbox.messages() if m.stage is Stage.PAYMENT_RECEIVED]
    assert (row.origin, row.state) == (Origin.EVENT, MessageState.SENT)


def test_no_thank_you_without_a_reminder_sent(make_kit: KitFactory) -> None:
    kit = make_kit(RecordingProvider())
    kit.enqueue([planned("B1")])
    assert kit.record_status("L1", 1, "paid").thanked == 0


def test_the_rate_limit_holds_across_threads() -> None:
    from remindkit.dispatch.delivery import RateLimiter

    reserved: list[float] = []
    lock = threading.Lock()
    moment = [100.0]

    def sleep(seconds: float) -> None:
        with lock:
            reserved.append(seconds)

    limiter = RateLimiter(20, clock=lambda: moment[0], sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # With the clock standing still, the 40 calls are spread 50 ms apart: 0, 0.05, ..., 1.95.
    assert sorted(round(s, 6) for s in reserved) == [round(i * 0.05, 6) for i in range(1, 40)]


def test_a_payment_told_by_the_hook_counts_once_and_earns_the_thank_you(
    make_kit: KitFactory,
) -> None:
    paid: set[tuple[str, int]] = set()
    provider = RecordingProvider()
    kit = make_kit(
        provider, status_check=lambda loan, number: "paid" if (loan, number) in paid else None
    )
    kit.enqueue([planned("B1")])
    kit.dispatch_due()  # the first reminder goes out
    later = planned("B1", stage=Stage.DUE_TODAY, send_at=T0 + timedelta(hours=3))
    kit.enqueue([later])
    paid.add(("L1", 1))
    report = kit.dispatch_due(T0 + timedelta(hours=3))
    assert report["cancelled"] == 1
    assert kit.outbox.statuses([("L1", 1)]) == {("L1", 1): Status.PAID}
    (thanks,) = [m for m in kit.outbox.messages() if m.stage is Stage.PAYMENT_RECEIVED]
    assert thanks.state is MessageState.PLANNED
    # The installment had its one message of the day at 10:00 (SPEC §5.3 caps): the
    # thank-you waits for tomorrow's window.
    assert kit.dispatch_due(T0 + timedelta(hours=5))["deferred"] == 1
    assert kit.dispatch_due(T0 + timedelta(hours=23))["sent"] == 1
    assert kit.record_status("L1", 1, "paid").thanked == 0  # recorded once already


def test_a_stopped_provider_waits_its_pause_before_it_is_tried_again(make_kit: KitFactory) -> None:
    provider = RecordingProvider()
    provider.fail(ProviderConfigError("authenticate: 20003"), times=1)
    kit = make_kit(provider, dispatch={"workers": 1, "batch_size": 1})
    kit.enqueue([planned("B1")])
    assert list(kit.dispatch_due().stopped_providers) == ["recording"]
    assert kit.dispatch_due()["sent"] == 0  # still paused: not called again
    assert len(provider.calls) == 1
    dispatcher = kit.dispatcher
    dispatcher.paused = {key: (0.0, why) for key, (_, why) in dispatcher.paused.items()}
    assert kit.dispatch_due()["sent"] == 1  # the pause is over: tried again, and it works
