"""The stored reach (SQLite and PostgreSQL): written where messages become sent, once, and
the report read from it equal to the old join of every sent message with its installments
(``report_join.py``), on simulated outboxes and on a store upgraded from the old schema."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from conftest import KitFactory, OutboxFactory
from outbox_support import T0, planned
from report_join import joined_report
from sqlalchemy import func, select, update

from remindkit.dispatch.recheck import STOP_REASONS
from remindkit.models import Channel, Stage, Status
from remindkit.outbox.database import alembic_config, create_store_engine, upgrade
from remindkit.outbox.opt_outs import OptOut, record_opt_outs
from remindkit.outbox.reach import first_of, sent_rows
from remindkit.outbox.schema import messages, reach
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox, StatusUpdate, Transition
from remindkit.plan import PlannedMessage
from remindkit.report import build_report
from remindkit.report.sample import Experiment, Step, fill
from remindkit.testing import FrozenClock

LEASE = timedelta(days=60)
DAY = timedelta(days=1)
PRE, EARLY = Stage.PRE_DUE, Stage.OVERDUE_EARLY
SMS, PUSH = Channel.SMS, Channel.PUSH
Reached = dict[tuple[str, int, str, str], tuple[str, datetime, str]]


def message(
    borrower: str,
    loans: tuple[tuple[str, int], ...],
    *,
    at: datetime,
    stage: Stage = EARLY,
    channel: Channel = SMS,
    variant: str = "a",
) -> PlannedMessage:
    made = planned(
        borrower, loans=loans, stage=stage, channel=channel, send_at=at, not_after=at + LEASE
    )
    suffix = "" if variant == "a" else f".{variant}"
    return replace(made, template_id=f"{stage.value}/{channel.value}{suffix}")


def start(outbox: Outbox, sent: PlannedMessage, *, at: datetime) -> bool:
    """Claim what is due at ``at`` and commit ``sending`` for ``sent`` (its ``sent_at``)."""
    outbox.claim(now=at, limit=1000, lease=LEASE)
    move = Transition(key=sent.key, to=MessageState.SENDING)
    return bool(outbox.start_sending([move], now=at, lease=LEASE))


def settle(outbox: Outbox, keys: list[str], to: MessageState, *, at: datetime) -> set[str]:
    """Answers to calls in ``sending``; an ``unknown`` keeps its lease, as the dispatcher's
    given-up calls do, so a late answer can still settle it."""
    moves = [Transition(key=key, to=to) for key in keys]
    keep = to is MessageState.UNKNOWN
    return outbox.settle(moves, now=at, expect=(MessageState.SENDING,), release=not keep)


def send(outbox: Outbox, *sent: PlannedMessage, at: datetime) -> None:
    """Enqueue, start at ``at`` and settle as sent a minute later, in one batch."""
    outbox.enqueue(list(sent), now=at - DAY)
    for one in sent:
        assert start(outbox, one, at=at)
    keys = [one.key for one in sent]
    assert settle(outbox, keys, MessageState.SENT, at=at + timedelta(minutes=1)) == set(keys)


def reached(outbox: Outbox) -> Reached:
    with outbox.reading() as connection:
        rows = connection.execute(select(reach)).mappings().all()
    return {
        (row["loan_id"], row["installment_no"], row["stage"], row["channel"]): (
            row["message_key"],
            row["sent_at"],
            row["variant"],
        )
        for row in rows
    }


def test_settling_writes_one_row_per_installment_stage_and_channel(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    merged = message("B1", (("L1", 1), ("L1", 2)), at=T0, variant="b")
    push = message("B1", (("L1", 1),), at=T0, channel=PUSH)
    failed = message("B2", (("L2", 1),), at=T0)
    outbox.enqueue([merged, push, failed], now=T0 - DAY)
    for one in (merged, push, failed):
        assert start(outbox, one, at=T0)
    later = T0 + timedelta(minutes=1)
    settle(outbox, [merged.key, push.key], MessageState.SENT, at=later)
    settle(outbox, [failed.key], MessageState.FAILED, at=later)
    assert reached(outbox) == {
        ("L1", 1, "overdue_early", "sms"): (merged.key, T0, "b"),
        ("L1", 2, "overdue_early", "sms"): (merged.key, T0, "b"),
        ("L1", 1, "overdue_early", "push"): (push.key, T0, "a"),
    }  # sent_at is when sending began; a failed message reaches nobody
    with outbox.reading() as connection:
        row = connection.execute(select(reach).where(reach.c.installment_no == 2)).one()
    assert (row.borrower_id, row.day, row.template_id) == ("B1", T0.date(), "overdue_early/sms.b")


def test_a_later_sent_message_does_not_move_the_reach(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    first = message("B1", (("L1", 1),), at=T0)
    again = message("B1", (("L1", 1), ("L1", 2)), at=T0 + 3 * DAY, variant="b")
    other_stage = message("B1", (("L1", 1),), at=T0 + 3 * DAY, stage=PRE)
    send(outbox, first, at=T0)
    send(outbox, again, other_stage, at=T0 + 3 * DAY)
    assert reached(outbox) == {
        ("L1", 1, "overdue_early", "sms"): (first.key, T0, "a"),
        ("L1", 2, "overdue_early", "sms"): (again.key, T0 + 3 * DAY, "b"),
        ("L1", 1, "pre_due", "sms"): (other_stage.key, T0 + 3 * DAY, "a"),
    }


def test_an_unknown_resolved_as_sent_reaches_from_when_it_went_out(
    open_outbox: OutboxFactory,
) -> None:
    """Resolved after a later reminder was settled, the earlier message still is the first:
    the row does not depend on the order in which messages were settled."""
    outbox = open_outbox()
    lost = message("B1", (("L1", 1),), at=T0)
    late = message("B2", (("L2", 1),), at=T0)
    later = message("B1", (("L1", 1),), at=T0 + 2 * DAY)
    outbox.enqueue([lost, late, later], now=T0 - DAY)
    assert start(outbox, lost, at=T0)
    assert start(outbox, late, at=T0)
    settle(outbox, [lost.key, late.key], MessageState.UNKNOWN, at=T0 + timedelta(hours=1))
    assert reached(outbox) == {}  # unknown may have reached the borrower: not counted
    assert start(outbox, later, at=T0 + 2 * DAY)
    settle(outbox, [later.key], MessageState.SENT, at=T0 + 2 * DAY)
    assert reached(outbox)[("L1", 1, "overdue_early", "sms")][0] == later.key
    outbox.resolve(lost.key, to=MessageState.SENT, note="console: delivered", now=T0 + 3 * DAY)
    answer = [Transition(key=late.key, to=MessageState.SENT)]  # the provider answered late
    outbox.settle(answer, now=T0 + 3 * DAY, expect=(MessageState.UNKNOWN,))
    assert reached(outbox) == {
        ("L1", 1, "overdue_early", "sms"): (lost.key, T0, "a"),
        ("L2", 1, "overdue_early", "sms"): (late.key, T0, "a"),
    }


def test_purge_hands_the_reach_to_the_first_remaining_message(
    open_outbox: OutboxFactory,
) -> None:
    outbox = open_outbox()
    old = message("B1", (("L1", 1), ("L1", 2)), at=T0 - 20 * DAY)
    recent = message("B1", (("L1", 1),), at=T0)
    send(outbox, old, at=T0 - 20 * DAY)
    send(outbox, recent, at=T0)
    assert outbox.purge(before=T0 - 5 * DAY) == 1
    assert reached(outbox) == {("L1", 1, "overdue_early", "sms"): (recent.key, T0, "a")}
    assert build_report(outbox, as_of=T0 + 9 * DAY) == joined_report(outbox, as_of=T0 + 9 * DAY)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store with nothing in it yet, not even a schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    url: str = request.getfixturevalue("fresh_pg_database")
    return url


def test_upgrading_an_old_store_back_fills_the_reach_and_reports_the_same(
    empty_store_url: str,
) -> None:
    engine = create_store_engine(empty_store_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")  # the schema before the reach
    outbox = Outbox(engine)
    rng = random.Random(4)
    for number in range(40):
        loans = tuple((f"L{number}", n) for n in range(1, rng.randint(1, 3) + 1))
        for day in sorted(rng.sample(range(6), 3)):
            at = T0 + day * DAY + timedelta(minutes=rng.randint(0, 600))
            _old_send(outbox, message(f"B{number}", loans, at=at, variant=rng.choice("ab")))
        if rng.random() < 0.6:
            _pay(outbox, loans[0], at=T0 + rng.uniform(-1, 9) * DAY)
    before = [joined_report(outbox, as_of=T0 + 12 * DAY, **options) for options in OPTIONS]
    upgrade(engine)
    after = [build_report(outbox, as_of=T0 + 12 * DAY, **options) for options in OPTIONS]
    assert after == before
    assert before[0].overall.installments > 40
    outbox.close()


def _old_send(outbox: Outbox, sent: PlannedMessage) -> None:
    """A message sent by a remindkit before the reach: its row only."""
    outbox.enqueue([sent], now=sent.send_at - DAY)
    with outbox.transaction() as connection:
        connection.execute(
            update(messages)
            .where(messages.c.key == sent.key)
            .values(state=MessageState.SENT.value, sent_at=sent.send_at)
        )


def _pay(outbox: Outbox, loan: tuple[str, int], *, at: datetime) -> None:
    paid = StatusUpdate(loan_id=loan[0], installment_no=loan[1], borrower_id="", status=Status.PAID)
    outbox.record_statuses([paid], now=at, cancel=STOP_REASONS, reminded_within=30 * DAY)


OPTIONS: list[dict[str, object]] = [
    {},
    {"windows": (1, 3, 7), "curve_days": 5},
    {"since": (T0 + DAY).date(), "until": (T0 + 4 * DAY).date()},
    {"since": (T0 + 3 * DAY).date()},
]


Event = tuple[datetime, int, PlannedMessage | tuple[str, int] | OptOut]


@pytest.fixture
def simulated(open_outbox: OutboxFactory) -> Outbox:
    """An outbox driven through the store's own transitions over two weeks: consolidated
    and single messages on two stages and channels, borrowers whose variant sometimes
    changes, answers settled in shuffled batches, unknowns resolved or answered late,
    payments and opt-outs along the way."""
    outbox = open_outbox()
    rng = random.Random(11)
    events = [event for number in range(60) for event in _borrower_events(rng, number)]
    outbox.enqueue(
        list({e[2].key: e[2] for e in events if isinstance(e[2], PlannedMessage)}.values()),
        now=T0 - DAY,
    )
    sending: list[str] = []
    for at, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, PlannedMessage):
            if start(outbox, event, at=at):
                sending.append(event.key)
        elif isinstance(event, OptOut):
            record_opt_outs(outbox, [event], now=at)
        else:
            _pay(outbox, event, at=at)
    _answer(outbox, rng, sending, at=T0 + 13 * DAY)
    return outbox


def _borrower_events(rng: random.Random, number: int) -> Iterator[Event]:
    borrower = f"B{number}"
    loans = tuple((f"L{number}", n) for n in range(1, rng.randint(1, 3) + 1))
    for stage, channel in ((PRE, PUSH), (PRE, SMS), (EARLY, SMS), (EARLY, PUSH)):
        if rng.random() < 0.35:
            continue
        variant = rng.choice("ab")
        for day in sorted(rng.sample(range(10), rng.randint(1, 3))):
            mentioned = loans if rng.random() < 0.7 else (rng.choice(loans),)
            if rng.random() < 0.1:
                variant = "b" if variant == "a" else "a"  # weights changed mid-way
            at = T0 + day * DAY + timedelta(minutes=rng.randint(0, 720))
            yield (at, 1, message(borrower, mentioned, at=at, stage=stage, channel=channel,
                                  variant=variant))  # fmt: skip
    for loan in loans:
        if rng.random() < 0.6:
            yield (T0 + rng.uniform(-1, 12) * DAY, 0, loan)
    if rng.random() < 0.2:
        refused = OptOut(borrower_id=borrower, channel=rng.choice((SMS, PUSH)))
        yield (T0 + rng.uniform(0, 12) * DAY, 0, refused)


def _answer(outbox: Outbox, rng: random.Random, keys: list[str], *, at: datetime) -> None:
    """Answers in shuffled batches; a few unknown, then resolved, answered late or left."""
    rng.shuffle(keys)
    unknown: list[str] = []
    for start_at in range(0, len(keys), 17):
        batch = keys[start_at : start_at + 17]
        lost = [key for key in batch if rng.random() < 0.15]
        failed = [key for key in batch if key not in lost and rng.random() < 0.1]
        sent = [key for key in batch if key not in lost and key not in failed]
        settle(outbox, sent, MessageState.SENT, at=at)
        settle(outbox, failed, MessageState.FAILED, at=at)
        settle(outbox, lost, MessageState.UNKNOWN, at=at)
        unknown += lost
    for key in unknown[: len(unknown) // 2]:
        outbox.resolve(key, to=MessageState.SENT, note="checked", now=at + DAY)
    late = [Transition(key=key, to=MessageState.SENT) for key in unknown[len(unknown) // 2 :][::2]]
    assert outbox.settle(late, now=at + DAY, expect=(MessageState.UNKNOWN,))


def test_the_report_equals_the_old_join_on_a_simulated_outbox(simulated: Outbox) -> None:
    with simulated.reading() as connection:
        states = dict(
            connection.execute(
                select(messages.c.state, func.count()).group_by(messages.c.state)
            ).all()
        )
    assert {"sent", "unknown", "failed", "cancelled"} <= set(states)  # every path was taken
    for options in OPTIONS:
        for as_of in (T0 + 5 * DAY, T0 + 20 * DAY):
            ours = build_report(simulated, as_of=as_of, **options)
            assert ours == joined_report(simulated, as_of=as_of, **options)
    everything = build_report(simulated, as_of=T0 + 20 * DAY)
    assert everything.overall.installments > 60
    assert any(cell.opted_out for cell in everything.cells)


def test_the_reach_is_what_the_migration_would_back_fill(simulated: Outbox) -> None:
    with simulated.reading() as connection:
        stored = set(connection.execute(select(reach)).all())
        computed = set(connection.execute(first_of(sent_rows(messages.c.state == "sent"))).all())
    assert stored == computed
    assert len(stored) > 100


def test_the_sample_writer_writes_the_reach_settling_would(open_outbox: OutboxFactory) -> None:
    outbox = open_outbox()
    steps = (
        Step(stage=PRE, channel=PUSH, day=0),
        Step(stage=EARLY, channel=SMS, day=4),
        Step(stage=EARLY, channel=SMS, day=6),
    )
    campaign = Experiment(
        name="s", start=T0, borrowers=300, steps=steps, tested=(EARLY, SMS),
        repay_within={"a": 0.3, "b": 0.4}, paid_later=0.5,
    )  # fmt: skip
    fill(outbox, campaign, seed=3)
    with outbox.reading() as connection:
        stored = set(connection.execute(select(reach)).all())
        computed = set(connection.execute(first_of(sent_rows(messages.c.state == "sent"))).all())
    assert stored == computed
    for options in OPTIONS:
        as_of = T0 + 15 * DAY
        assert build_report(outbox, as_of=as_of, **options) == joined_report(
            outbox,
            as_of=as_of,
            **options,
        )


def test_a_campaign_through_the_dispatcher_reports_as_the_old_join(
    make_kit: KitFactory,
) -> None:
    morning = datetime.fromisoformat("2026-12-01T08:30:00+08:00")
    kit = make_kit(at=morning)
    clock = kit.clock
    assert isinstance(clock, FrozenClock)
    rows = [
        {"loan_id": f"HM{n:04d}", "borrower_id": f"B{n:04d}", "name": "王芳", "gender": "female",
         "phone": f"1380013{n:04d}", "amount_due": "500.00", "due_date": "2026-11-30"}
        for n in range(40)
    ]  # fmt: skip
    kit.run_once(rows)
    clock.set(morning + timedelta(hours=2))
    assert kit.dispatch_due().counts["sent"] == 40
    rng = random.Random(5)
    for row in rows[::2]:
        clock.set(morning + timedelta(hours=rng.uniform(3, 100)))
        kit.record_status(str(row["loan_id"]), 1, "paid")
    as_of = morning + timedelta(days=8)
    report = build_report(kit.outbox, as_of=as_of)
    assert report == joined_report(kit.outbox, as_of=as_of)
    assert report.overall.installments == 40
    assert {cell.stage for cell in report.cells} == {"overdue_early"}
