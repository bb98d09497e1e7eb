"""The report's named queries: every count is aggregated by the database, never in Python.

Written once in SQLAlchemy Core for SQLite and PostgreSQL; the only dialect-specific piece is
:class:`seconds_between` (a duration in seconds, compiled per dialect). Python only
reads one row per stage × channel × variant (or per stage, or per state).

The population is built in steps (CTEs), each named for what it holds:

``sent``
    reminders that went out: ``state = 'sent'``, every stage but the thank-you.
``assigned``
    per borrower × stage × channel: the variant of the borrower's *first* message there
    (sticky variants make it the only one; if weights changed mid-way, the borrower stays
    with the first, as randomised) and every message sent to them there: what reaching
    this cohort cost, whatever the day.
``reach``
    per installment × stage × channel: its first message (a consolidated message counts each
    installment once), joined with the borrower's variant, the time it was first seen paid
    and any later opt-out of that channel.

Instants are compared as stored (exact on both databases); durations are seconds, exact on
PostgreSQL and rounded to the millisecond on SQLite, so a payment exactly N days after the
first message is "within N days" on both despite floating point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Float,
    Insert,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from remindkit.models import Stage
from remindkit.outbox.schema import (
    UTCDateTime,
    installments,
    message_installments,
    messages,
    opt_outs,
)
from remindkit.outbox.states import MessageState

DAY_SECONDS = 86_400
SQLITE_INSTANT_WIDTH = len("2026-12-01 02:00:00.000000")
THANK_YOU = Stage.PAYMENT_RECEIVED.value
SENT = MessageState.SENT.value
# Receipts that say the message reached the phone (remindkit.receipts' vocabulary).
DELIVERED = ("delivered", "read")


class seconds_between(FunctionElement[float]):  # noqa: N801 - reads as the SQL function it is
    """``later - earlier`` in seconds, for two stored instants (``UTCDateTime``); exact on
    PostgreSQL (``numeric``), rounded to the millisecond on SQLite (``julianday`` is a float)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC text ("2026-12-01 02:00:00.000000"); julianday() reads it.
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _between_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


class first_by(FunctionElement[str]):  # noqa: N801 - reads as the SQL aggregate it is
    """Aggregate: ``value`` of the row with the earliest ``instant`` (``UTCDateTime``), ties
    broken by the smallest ``value``."""

    type = String()
    inherit_cache = True


@compiles(first_by, "sqlite")
def _first_by_sqlite(element: first_by, compiler: SQLCompiler, **kw: Any) -> str:
    # Instants are fixed-width text (26 characters, microseconds included): the smallest
    # concatenation starts with the earliest instant, and what follows is its value.
    value, instant = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"substr(min({instant} || {value}), {SQLITE_INSTANT_WIDTH + 1})"


@compiles(first_by, "postgresql")
def _first_by_postgresql(element: first_by, compiler: SQLCompiler, **kw: Any) -> str:
    value, instant = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"(array_agg({value} ORDER BY {instant}, {value}))[1]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """Which installments a report covers: those whose first message of a stage fell on a
    borrower-local day in ``[since, until]``; ``as_of`` is when the report looks."""

    since: date | None
    until: date | None
    as_of: datetime

    @property
    def now(self) -> ColumnElement[datetime]:
        return literal(self.as_of, UTCDateTime())

    def days_before(self, days: int) -> ColumnElement[datetime]:
        """``as_of`` minus ``days``: a first message at or before it has had its N days."""
        return literal(self.as_of - timedelta(days=days), UTCDateTime())


def _in_period(day: ColumnElement[Any], period: Period) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [literal(True)]
    if period.since is not None:
        conditions.append(day >= period.since)
    if period.until is not None:
        conditions.append(day <= period.until)
    return and_(*conditions)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _sent() -> Select[Any]:
    return select(
        messages.c.key,
        messages.c.borrower_id,
        messages.c.stage,
        messages.c.channel,
        messages.c.variant,
        messages.c.sent_at,
        messages.c.day,
        messages.c.delivery_status,
    ).where(messages.c.state == SENT, messages.c.stage != THANK_YOU)


def _assigned(sent: Any) -> Any:
    return (
        select(
            sent.c.borrower_id,
            sent.c.stage,
            sent.c.channel,
            first_by(sent.c.variant, sent.c.sent_at).label("variant"),
            func.min(sent.c.sent_at).label("first_at"),
            func.count().label("messages"),
            _count_if(sent.c.delivery_status.in_(DELIVERED)).label("delivered"),
            _count_if(sent.c.delivery_status.is_not(None)).label("receipts"),
        )
        .group_by(sent.c.borrower_id, sent.c.stage, sent.c.channel)
        .cte("assigned")
    )


# The reach, written once per report into a temporary table (each connection has its own):
# the cells, the stage totals and the curves all read it, instead of joining a million
# messages with their installments three times.
reach_rows = Table(
    "rk_report_reach",
    MetaData(),
    Column("loan_id", String(200)),
    Column("installment_no", Integer),
    Column("stage", String(32)),
    Column("channel", String(16)),
    Column("borrower_id", String(200)),
    Column("variant", String(32)),  # the borrower's, for this stage and channel
    Column("messages", Integer),  # sent to the borrower in this stage and channel
    Column("delivered", Integer),  # … of which a receipt said delivered (or read)
    Column("receipts", Integer),  # … of which any receipt came back
    Column("group_first_at", UTCDateTime),  # the borrower's first message there
    Column("first_at", UTCDateTime),  # the installment's first message there
    Column("first_day", Date),
    Column("paid_at", UTCDateTime),
    Column("opted_out_at", UTCDateTime),  # the channel first seen refused
    prefixes=["TEMPORARY"],
)


def fill_reach_query() -> Insert:
    """Per installment × stage × channel: its first sent message (a consolidated message
    reaches each of its installments once), with the borrower's variant and message count
    there, the time it was first seen paid and when the channel was first seen refused."""
    sent = _sent().cte("sent")
    assigned = _assigned(sent)
    first = (
        select(
            message_installments.c.loan_id,
            message_installments.c.installment_no,
            sent.c.stage,
            sent.c.channel,
            sent.c.borrower_id,
            func.min(sent.c.sent_at).label("first_at"),
            func.min(sent.c.day).label("first_day"),
        )
        .join(message_installments, message_installments.c.message_key == sent.c.key)
        .group_by(
            message_installments.c.loan_id,
            message_installments.c.installment_no,
            sent.c.stage,
            sent.c.channel,
            sent.c.borrower_id,
        )
        .cte("first_messages")
    )
    rows = (
        select(
            first.c.loan_id,
            first.c.installment_no,
            first.c.stage,
            first.c.channel,
            first.c.borrower_id,
            assigned.c.variant,
            assigned.c.messages,
            assigned.c.delivered,
            assigned.c.receipts,
            assigned.c.first_at.label("group_first_at"),
            first.c.first_at,
            first.c.first_day,
            installments.c.paid_at,
            opt_outs.c.seen_at,
        )
        .select_from(first)
        .join(
            assigned,
            and_(
                assigned.c.borrower_id == first.c.borrower_id,
                assigned.c.stage == first.c.stage,
                assigned.c.channel == first.c.channel,
            ),
        )
        .outerjoin(
            installments,
            and_(
                installments.c.loan_id == first.c.loan_id,
                installments.c.installment_no == first.c.installment_no,
            ),
        )
        .outerjoin(
            opt_outs,
            and_(
                opt_outs.c.borrower_id == first.c.borrower_id,
                opt_outs.c.channel == first.c.channel,
            ),
        )
    )
    return insert(reach_rows).from_select([column.name for column in reach_rows.c], rows)


def _reach(period: Period) -> Any:
    reach = reach_rows.c
    paid_at, seen_at = reach.paid_at, reach.opted_out_at
    return (
        select(
            reach.stage,
            reach.channel,
            reach.variant,
            reach.borrower_id,
            reach.messages,
            reach.delivered,
            reach.receipts,
            (paid_at < reach.first_at).label("paid_before"),
            and_(paid_at >= reach.first_at, paid_at <= period.now).label("repaid"),
            seconds_between(paid_at, reach.first_at).label("delay"),
            reach.first_at,
            case((and_(seen_at >= reach.group_first_at, seen_at <= period.now), 1), else_=0).label(
                "opted_out"
            ),
        )
        .where(_in_period(reach.first_day, period))
        .subquery("reach")
    )


def cells_query(period: Period, windows: Sequence[int]) -> Select[Any]:
    """Per stage × channel × variant: borrowers, installments, messages, payments before
    the first message, repaid since it, opt-outs after it, and for each window of ``N``
    days the installments whose window has passed (``matured_N``), those repaid within it
    (``repaid_N``) and the per-borrower sums for the design effect (``mm_N``, ``yy_N``,
    ``my_N``)."""
    reach = _reach(period)
    repaid_since = reach.c.repaid
    per_borrower: list[Any] = [
        func.count().label("installments"),
        func.max(reach.c.messages).label("messages"),
        func.max(reach.c.delivered).label("delivered"),
        func.max(reach.c.receipts).label("receipts"),
        _count_if(reach.c.paid_before).label("paid_before"),
        _count_if(repaid_since).label("repaid"),
        func.max(reach.c.opted_out).label("opted_out"),
    ]
    for days in windows:
        seconds = float(days * DAY_SECONDS)
        matured = reach.c.first_at <= period.days_before(days)
        per_borrower.append(_count_if(matured).label(f"m_{days}"))
        per_borrower.append(
            _count_if(and_(matured, repaid_since, reach.c.delay <= seconds)).label(f"y_{days}")
        )
    borrowers = (
        select(reach.c.stage, reach.c.channel, reach.c.variant, *per_borrower)
        .group_by(reach.c.stage, reach.c.channel, reach.c.variant, reach.c.borrower_id)
        .subquery("borrowers")
    )
    totals: list[Any] = [
        func.count().label("borrowers"),
        func.sum(borrowers.c.installments).label("installments"),
        func.sum(borrowers.c.messages).label("messages"),
        func.sum(borrowers.c.delivered).label("delivered"),
        func.sum(borrowers.c.receipts).label("receipts"),
        func.sum(borrowers.c.paid_before).label("paid_before"),
        func.sum(borrowers.c.repaid).label("repaid"),
        func.sum(borrowers.c.opted_out).label("opted_out"),
    ]
    for days in windows:
        m, y = borrowers.c[f"m_{days}"], borrowers.c[f"y_{days}"]
        totals += [
            func.sum(m).label(f"matured_{days}"),
            func.sum(y).label(f"repaid_{days}"),
            func.sum(m * m).label(f"mm_{days}"),
            func.sum(y * y).label(f"yy_{days}"),
            func.sum(m * y).label(f"my_{days}"),
        ]
    return (
        select(borrowers.c.stage, borrowers.c.channel, borrowers.c.variant, *totals)
        .group_by(borrowers.c.stage, borrowers.c.channel, borrowers.c.variant)
        .order_by(borrowers.c.stage, borrowers.c.channel, borrowers.c.variant)
    )


def _installment_stages(period: Period) -> Any:
    """Per installment × stage (all channels together): its first message, in the period."""
    reach = reach_rows.c
    return (
        select(
            reach.loan_id,
            reach.installment_no,
            reach.stage,
            func.min(reach.borrower_id).label("borrower_id"),
            func.min(reach.first_at).label("first_at"),
            func.max(reach.paid_at).label("paid_at"),
        )
        .group_by(reach.loan_id, reach.installment_no, reach.stage)
        .having(_in_period(func.min(reach.first_day), period))
        .cte("stage_reach")
    )


def _repaid_since(first_at: Any, paid_at: Any, period: Period) -> ColumnElement[bool]:
    return and_(paid_at >= first_at, paid_at <= period.now)


def stages_query(period: Period) -> Select[Any]:
    """Per stage, then once for all stages (``stage`` NULL): borrowers, installments
    reached (each once, whatever the channel) and repaid since their first message there;
    overall, an installment counts once, from its first reminder of any stage."""
    reach = _installment_stages(period)
    by_stage = select(
        reach.c.stage,
        func.count(func.distinct(reach.c.borrower_id)).label("borrowers"),
        func.count().label("installments"),
        _count_if(_repaid_since(reach.c.first_at, reach.c.paid_at, period)).label("repaid"),
    ).group_by(reach.c.stage)
    per_installment = (
        select(
            reach.c.borrower_id,
            func.min(reach.c.first_at).label("first_at"),
            func.max(reach.c.paid_at).label("paid_at"),
        )
        .group_by(reach.c.loan_id, reach.c.installment_no, reach.c.borrower_id)
        .subquery("per_installment")
    )
    overall = select(
        literal(None).label("stage"),
        func.count(func.distinct(per_installment.c.borrower_id)).label("borrowers"),
        func.count().label("installments"),
        _count_if(
            _repaid_since(per_installment.c.first_at, per_installment.c.paid_at, period)
        ).label("repaid"),
    )
    return by_stage.union_all(overall)  # type: ignore[return-value]


def states_query(period: Period) -> Select[Any]:
    """Messages of the period by stage × channel × variant × state: the sent ones that the
    report counts, and those it lists apart (planned, sending, cancelled, suppressed,
    expired, failed, unknown), thank-yous included."""
    return (
        select(
            messages.c.stage,
            messages.c.channel,
            messages.c.variant,
            messages.c.state,
            func.count().label("messages"),
        )
        .where(_in_period(messages.c.day, period))
        .group_by(messages.c.stage, messages.c.channel, messages.c.variant, messages.c.state)
        .order_by(messages.c.stage, messages.c.channel, messages.c.variant, messages.c.state)
    )


def as_int(value: Any) -> int:
    """A count from a row: ``SUM`` of nothing is NULL, PostgreSQL sums are ``Decimal``."""
    return int(value or 0)


__all__ = [
    "DAY_SECONDS",
    "Period",
    "as_int",
    "cells_query",
    "seconds_between",
    "stages_query",
    "states_query",
]
