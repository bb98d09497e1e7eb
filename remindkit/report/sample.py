"""Synthetic outcomes with a known truth, for the report's tests, benchmarks and demos.

:func:`fill` writes borrowers, sent reminders and payments straight into an outbox's tables
in bulk (sending a million messages through the dispatcher would take far longer than the
report being measured). Every borrower follows the same cadence (:class:`Step`) while
unpaid; the variant of the *tested* stage and channel — drawn at random, with the
experiment's shares — sets the probability of repaying within ``window_days`` after the
first message there. All of a borrower's installments are paid together (the realistic,
clustered case), so the truth is known exactly: the difference of two variants'
probabilities.

Rows are shaped as the outbox writes them (keys, links, states, times, and the reach each
installment's first message of a stage and channel leaves, as settling would write it);
message texts and contexts are placeholders, since the report never reads them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table

from remindkit.models import Channel, Stage
from remindkit.outbox.database import is_postgresql
from remindkit.outbox.reach import REACH_KEY, REACH_VALUES
from remindkit.outbox.schema import installments, message_installments, messages, reach
from remindkit.outbox.states import MessageState, Origin
from remindkit.outbox.store import Outbox
from remindkit.outbox.values import chunks

DAY = timedelta(days=1)
ROWS_PER_STATEMENT = 5_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    stage: Stage
    channel: Channel
    day: int  # days after the experiment's start

    @property
    def group(self) -> tuple[Stage, Channel]:
        return (self.stage, self.channel)


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment:
    """``borrowers`` people, each with 1, 2 or 3 installments (``installment_shares``)."""

    name: str  # prefixes every id, so several experiments share one outbox
    start: datetime
    borrowers: int
    steps: tuple[Step, ...]
    tested: tuple[Stage, Channel]
    repay_within: Mapping[str, float]  # variant → P(repaid within window_days of its first)
    variant_shares: Mapping[str, float] = field(default_factory=dict)  # default: equal
    window_days: int = 7
    paid_later: float = 0.5  # of the others, the share who repay later (up to 3 windows)
    installment_shares: tuple[float, ...] = (0.7, 0.2, 0.1)

    def shares(self) -> dict[str, float]:
        if self.variant_shares:
            return dict(self.variant_shares)
        return {variant: 1 / len(self.repay_within) for variant in self.repay_within}


@dataclass(frozen=True, slots=True, kw_only=True)
class Filled:
    borrowers: int
    installments: int
    messages: int
    payments: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Borrower:
    id: str
    variant: str
    loans: tuple[tuple[str, int], ...]
    paid_at: datetime | None


MESSAGE_COLUMNS = (
    "key", "state", "origin", "borrower_id", "loan_ids", "stage", "template_id", "variant",
    "channel", "fallbacks", "day", "timezone", "send_at", "not_after", "next_attempt_at",
    "attempts", "provider", "context", "created_at", "created_by", "updated_at", "sent_at",
)  # fmt: skip
LINK_COLUMNS = ("message_key", "loan_id", "installment_no")
INSTALLMENT_COLUMNS = ("loan_id", "installment_no", "borrower_id", "status", "status_at", "paid_at")
REACH_COLUMNS = REACH_KEY + REACH_VALUES


def fill(outbox: Outbox, experiment: Experiment, *, seed: int, worker: str = "sample") -> Filled:
    """Write ``experiment`` into ``outbox``; the same seed gives the same rows."""
    rng = random.Random(f"{experiment.name}:{seed}")
    people = list(_borrowers(experiment, rng))
    store = _Stored(postgresql=is_postgresql(outbox.engine))
    timed = ((step, _step_time(experiment, step)) for step in experiment.steps)
    steps = sorted(timed, key=lambda pair: pair[1])  # the cadence, in time order
    message_rows: list[tuple[Any, ...]] = []
    link_rows: list[tuple[Any, ...]] = []
    reach_rows: list[tuple[Any, ...]] = []
    for person in people:
        loan_ids = json.dumps(sorted({loan for loan, _ in person.loans}))
        first: dict[tuple[Stage, Channel], tuple[Any, ...]] = {}
        for step, sent_at in steps:
            if person.paid_at is not None and person.paid_at <= sent_at:
                break  # paid: the later reminders are cancelled, never sent
            key = _key(f"{person.id}:{step.stage.value}:{step.channel.value}:{step.day}")
            variant = person.variant if step.group == experiment.tested else "a"
            group = f"{step.stage.value}/{step.channel.value}"
            template = group if variant == "a" else f"{group}.{variant}"
            at, day = store(sent_at), store(sent_at.date())
            message_rows.append(
                (key, MessageState.SENT.value, Origin.PLAN.value, person.id, loan_ids,
                 step.stage.value, template, variant, step.channel.value, "", day,
                 "Asia/Shanghai", at, store(sent_at + timedelta(hours=10)), at, 1, "sample", "[]",
                 at, worker, at, at)
            )  # fmt: skip
            link_rows += [(key, loan, number) for loan, number in person.loans]
            # A group's first step (in time order) is where it reaches the installments.
            first.setdefault(step.group, (key, at, day, variant, template))
        reach_rows += [
            (person.id, stage.value, channel.value, loan, number, *message)
            for (stage, channel), message in first.items()
            for loan, number in person.loans
        ]
    installment_rows = [
        (loan, number, person.id, "paid" if person.paid_at else "due",
         store(person.paid_at or experiment.start), store(person.paid_at))
        for person in people
        for loan, number in person.loans
    ]  # fmt: skip
    for table, columns, rows in (
        (messages, MESSAGE_COLUMNS, message_rows),
        (message_installments, LINK_COLUMNS, link_rows),
        (installments, INSTALLMENT_COLUMNS, installment_rows),
        (reach, REACH_COLUMNS, reach_rows),
    ):
        for batch in chunks(rows, ROWS_PER_STATEMENT):
            with outbox.transaction() as connection:
                insert_rows(connection, table, columns, batch)
    return Filled(
        borrowers=len(people),
        installments=len(installment_rows),
        messages=len(message_rows),
        payments=sum(len(person.loans) for person in people if person.paid_at),
    )


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Bulk insert values already in their stored form (:class:`_Stored`), without
    SQLAlchemy's per-value processing: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
    if not rows:
        return
    names = ", ".join(f'"{name}"' for name in columns)
    if is_postgresql(connection):
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)


class _Stored:
    """Times and days as the column types store them: aware values for PostgreSQL (psycopg
    adapts them); UTC text with microseconds on SQLite, as ``UTCDateTime`` writes it."""

    def __init__(self, *, postgresql: bool) -> None:
        self.postgresql = postgresql
        self.seen: dict[date, str] = {}  # most times repeat (one per cadence step)

    def __call__(self, value: date | None) -> Any:
        if value is None or self.postgresql:
            return value
        text = self.seen.get(value)
        if text is None:
            text = self.seen[value] = (
                value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                if isinstance(value, datetime)
                else value.isoformat()
            )
        return text


def _key(text: str) -> str:
    return "sample_" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _step_time(experiment: Experiment, step: Step) -> datetime:
    return experiment.start + step.day * DAY


def _borrowers(experiment: Experiment, rng: random.Random) -> Iterator[_Borrower]:
    shares = experiment.shares()
    variants, weights = list(shares), list(shares.values())
    sizes = range(1, len(experiment.installment_shares) + 1)
    tested = [step for step in experiment.steps if step.group == experiment.tested]
    first = _step_time(experiment, min(tested, key=lambda s: s.day))
    window = experiment.window_days * DAY
    for number in range(experiment.borrowers):
        variant = rng.choices(variants, weights)[0]
        count = rng.choices(sizes, experiment.installment_shares)[0]
        loan = f"{experiment.name}-L{number}"
        draw = rng.random()
        paid_at: datetime | None = None
        if draw < experiment.repay_within[variant]:
            paid_at = first + window * rng.uniform(0.0001, 1.0)
        elif rng.random() < experiment.paid_later:
            paid_at = first + window * rng.uniform(1.01, 3.0)
        yield _Borrower(
            id=f"{experiment.name}-B{number}",
            variant=variant,
            loans=tuple((loan, index) for index in range(1, count + 1)),
            paid_at=paid_at,
        )
