"""The store on SQLite and PostgreSQL: enqueue, claims, leases, transitions, events, statuses."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from outbox_support import CLOSES, T0, OutboxFactory, planned

from remindkit.errors import MessageStateError
from remindkit.models import Channel, Status
from remindkit.outbox.schema import metadata
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox, StatusUpdate, Transition
from remindkit.policy.decision import MessageStatus

LEASE = timedelta(minutes=5)
STOP = {
    Status.PAID: "status_paid",
    Status.DISPUTE: "status_dispute",
    Status.PAUSED: "status_paused",
}


def test_the_migrated_schema_is_the_declared_one(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    with outbox.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_enqueue_inserts_new_keys_only_and_never_resets_a_moved_row(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    first, second = planned("B1"), planned("B2")
    assert outbox.enqueue([first, second], now=T0).inserted == 2
    claimed = outbox.claim(now=T0, limit=1, lease=LEASE)
    outbox.start_sending(
        [Transition(key=claimed[0].key, to=MessageState.SENDING)], now=T0, lease=LEASE
    )
    again = outbox.enqueue([first, second, planned("B3")], now=T0 + timedelta(hours=1))
    assert (again.inserted, again.already_known) == (1, 2)
    assert outbox.get(claimed[0].key).state is MessageState.SENDING
    assert outbox.get(claimed[0].key).attempts == 1
    assert len(outbox.messages(limit=10)) == 3


def test_suppressed_decisions_are_stored_with_their_reason(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    message = planned("B7", status=MessageStatus.SUPPRESSED, reason="opted_out")
    result = outbox.enqueue([message], now=T0)
    assert (result.inserted, result.suppressed) == (1, 1)
    stored = outbox.get(message.key)
    assert (stored.state, stored.reason) == (MessageState.SUPPRESSED, "opted_out")
    assert outbox.claim(now=T0, limit=10, lease=LEASE) == []
    assert [m.key for m in outbox.messages(borrower_id="B7")] == [message.key]


def test_a_claim_leases_due_rows_to_one_worker(open_outbox: OutboxFactory) -> None:
    one, two = open_outbox(worker="w1"), open_outbox(worker="w2")
    early, late = planned("B1"), planned("B2", send_at=T0 + timedelta(hours=1))
    one.enqueue([early, late], now=T0)
    assert [m.key for m in one.claim(now=T0, limit=10, lease=LEASE)] == [early.key]
    assert two.claim(now=T0, limit=10, lease=LEASE) == []  # leased to w1, the other not due
    assert one.get(early.key).lease_owner == "w1"
    # Once the lease has expired, the planned row is free again (it was never sent).
    assert [m.key for m in two.claim(now=T0 + LEASE * 2, limit=1, lease=LEASE)] == [early.key]


def test_concurrent_claims_never_hand_one_row_to_two_workers(open_outbox: OutboxFactory) -> None:
    seed = open_outbox()
    seed.enqueue([planned(f"B{i}") for i in range(300)], now=T0)
    workers = [open_outbox(worker=f"w{i}") for i in range(4)]
    claimed: dict[str, list[str]] = {w.worker: [] for w in workers}
    start = threading.Barrier(len(workers))

    def claim_all(outbox: Outbox) -> None:
        start.wait()
        for _ in range(100):
            batch = outbox.claim(now=T0, limit=7, lease=LEASE)
            if not batch:
                return
            claimed[outbox.worker].extend(m.key for m in batch)

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    keys = [key for found in claimed.values() for key in found]
    assert len(keys) == len(set(keys)) == 300


def test_sending_is_committed_only_while_the_lease_is_held(open_outbox: OutboxFactory) -> None:
    one, two = open_outbox(worker="w1"), open_outbox(worker="w2")
    message = planned()
    one.enqueue([message], now=T0)
    one.claim(now=T0, limit=1, lease=LEASE)
    later = T0 + LEASE * 2  # w1 stalled past its lease; w2 claims the row
    two.claim(now=later, limit=1, lease=LEASE)
    move = [Transition(key=message.key, to=MessageState.SENDING)]
    assert one.start_sending(move, now=later, lease=LEASE) == set()  # w1 must not send it
    assert two.start_sending(move, now=later, lease=LEASE) == {message.key}
    assert one.start_sending(move, now=later, lease=LEASE) == set()  # no longer planned


def test_the_reaper_turns_lost_sends_unknown_and_late_plans_expired(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    sending, waiting = planned("B1"), planned("B2")
    outbox.enqueue([sending, waiting], now=T0)
    outbox.claim(now=T0, limit=1, lease=LEASE)
    outbox.start_sending(
        [Transition(key=sending.key, to=MessageState.SENDING)], now=T0, lease=LEASE
    )
    assert outbox.reap(now=T0 + timedelta(minutes=1)) == (0, 0)
    assert outbox.reap(now=CLOSES) == (1, 1)
    assert outbox.get(sending.key).state is MessageState.UNKNOWN  # never back to planned
    assert outbox.get(waiting.key).state is MessageState.EXPIRED
    assert [(e.from_state, e.to_state) for e in outbox.history(sending.key)] == [
        (MessageState.PLANNED, MessageState.SENDING),
        (MessageState.SENDING, MessageState.UNKNOWN),
    ]


def test_a_stop_status_cancels_every_queued_message_that_mentions_the_installment(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    merged = planned("B1", loans=(("L1", 1), ("L2", 1)))
    other = planned("B1", loans=(("L3", 1),), channel=Channel.PUSH, push_token="tok")
    outbox.enqueue([merged, other], now=T0)
    update = StatusUpdate(loan_id="L2", installment_no=1, borrower_id="B1", status=Status.PAID)
    unknown = StatusUpdate(loan_id="X", installment_no=1, borrower_id="B9", status=Status.PAID)
    cancelled, first = outbox.record_statuses(
        [update, unknown], now=T0, cancel=STOP, reminded_within=timedelta(days=30)
    )
    assert cancelled == 1
    assert outbox.get(merged.key).state is MessageState.CANCELLED
    assert outbox.get(merged.key).reason == "status_paid"
    assert outbox.get(other.key).state is MessageState.PLANNED
    assert [paid.update.ref for paid in first] == [("L2", 1)]
    assert first[0].reminded is False  # nothing was sent yet
    assert outbox.statuses([("L2", 1), ("X", 1)]) == {("L2", 1): Status.PAID}


def test_the_first_payment_is_recorded_once_whoever_sees_it(open_outbox: OutboxFactory) -> None:
    one, two = open_outbox(worker="w1"), open_outbox(worker="w2")
    one.enqueue([planned("B1")], now=T0)
    update = StatusUpdate(loan_id="L1", installment_no=1, borrower_id="B1", status=Status.PAID)
    kwargs = {"cancel": STOP, "reminded_within": timedelta(days=30)}
    _, first = one.record_statuses([update], now=T0, **kwargs)
    _, again = two.record_statuses([update], now=T0 + timedelta(hours=1), **kwargs)
    assert len(first) == 1
    assert again == []


def test_a_person_resolves_only_unknown_messages(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    message = planned()
    outbox.enqueue([message], now=T0)
    with pytest.raises(MessageStateError, match="only unknown messages are resolved"):
        outbox.resolve(message.key, to=MessageState.SENT, note="", now=T0)
    outbox.claim(now=T0, limit=1, lease=LEASE)
    outbox.start_sending(
        [Transition(key=message.key, to=MessageState.SENDING)], now=T0, lease=LEASE
    )
    outbox.reap(now=T0 + LEASE * 2)
    with pytest.raises(MessageStateError, match="sent or failed"):
        outbox.resolve(message.key, to=MessageState.PLANNED, note="", now=T0)
    resolved = outbox.resolve(
        message.key, to=MessageState.SENT, note="twilio console: delivered", now=T0
    )
    assert resolved.state is MessageState.SENT
    assert (
        outbox.history(message.key)[-1].reason == "resolved by a person: twilio console: delivered"
    )
    with pytest.raises(MessageStateError, match="no message"):
        outbox.get("rk1_missing")


def test_purge_deletes_only_old_final_messages(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    old, recent, waiting = planned("B1"), planned("B2"), planned("B3")
    outbox.enqueue([old, waiting], now=T0 - timedelta(days=10))
    outbox.enqueue([recent], now=T0)
    outbox.cancel([old.key, recent.key], reason="test", now=T0)
    assert outbox.purge(before=T0 - timedelta(days=1)) == 1
    assert {m.key for m in outbox.messages()} == {recent.key, waiting.key}
    assert outbox.history(old.key) == []


def test_times_come_back_aware_and_naive_ones_are_refused(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    message = planned()
    outbox.enqueue([message], now=T0)
    stored = outbox.get(message.key)
    assert stored.send_at == message.send_at
    assert stored.send_at.tzinfo is UTC
    with pytest.raises(Exception, match="naive datetime"):
        outbox.claim(now=datetime(2026, 12, 1, 10), limit=1, lease=LEASE)  # noqa: DTZ001


def test_the_schema_head_constant_is_alembics_head() -> None:
    from remindkit.outbox.database import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD


def test_the_bulk_insert_columns_are_the_tables() -> None:
    from remindkit.outbox.schema import messages
    from remindkit.outbox.writes import MESSAGE_COLUMNS

    assert tuple(column.name for column in messages.columns) == MESSAGE_COLUMNS


def test_a_batch_of_moves_sets_each_rows_own_values_in_one_update(
    open_outbox: OutboxFactory,
) -> None:
    """Multi-row statements: shared values bound once, differing ones per row; a row that
    lost its lease is left alone; every moved row gets its event (odd sizes: padding)."""
    one, two = open_outbox(worker="w1"), open_outbox(worker="w2")
    messages = [planned(f"B{i}") for i in range(37)]
    one.enqueue(messages, now=T0)
    keys = [m.key for m in one.claim(now=T0, limit=37, lease=LEASE)]
    later = T0 + LEASE * 2
    stolen = keys[5]
    two.claim(now=later, limit=1, lease=LEASE)  # the oldest, keys[0]: w1 lost it
    moves = [
        Transition(
            key=key,
            to=MessageState.SENDING,
            values={"text": f"text {n}", "address": "13800138000", "provider": "p"},
        )
        for n, key in enumerate(keys)
    ]
    started = one.start_sending(moves, now=T0 + timedelta(seconds=1), lease=LEASE)
    assert started == set(keys) - {keys[0]}
    assert stolen in started
    for n, key in enumerate(keys[1:], start=1):
        row = one.get(key)
        assert (row.state, row.text, row.attempts) == (MessageState.SENDING, f"text {n}", 1)
        assert [e.to_state for e in one.history(key)][-1] == MessageState.SENDING.value
    assert one.get(keys[0]).state is MessageState.PLANNED
    assert one.get(keys[0]).lease_owner == "w2"
    answers = [
        Transition(key=key, to=MessageState.SENT, values={"provider_message_id": f"SM{n}"})
        for n, key in enumerate(keys[1:])
    ]
    at = T0 + timedelta(seconds=2)
    assert one.settle(answers, now=at, expect=(MessageState.SENDING,)) == set(keys[1:])
    assert [one.get(k).provider_message_id for k in keys[1:4]] == ["SM0", "SM1", "SM2"]
    assert one.get(keys[1]).lease_owner is None


def test_a_batch_that_moves_one_message_twice_applies_both_in_order(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    message = planned()
    outbox.enqueue([message], now=T0)
    outbox.claim(now=T0, limit=1, lease=LEASE)
    twice = [
        Transition(key=message.key, to=MessageState.PLANNED, reason="first"),
        Transition(key=message.key, to=MessageState.PLANNED, reason="second"),
    ]
    moved = outbox.settle(twice, now=T0, expect=(MessageState.PLANNED,))
    assert moved == {message.key}
    assert outbox.get(message.key).reason == "second"
    assert [e.reason for e in outbox.history(message.key)][-2:] == ["first", "second"]
