"""The report's named queries: every count is aggregated by the database, never in Python.

Written once in SQLAlchemy Core for SQLite and PostgreSQL; the dialect-specific pieces are
:class:`seconds_between` (a duration in seconds) and :class:`first_by` (the value of the
earliest row), compiled per dialect. Python only reads one row per stage × channel ×
variant (or per stage, or per state).

The population is the stored ``reach`` (:mod:`remindkit.outbox.reach`): per installment ×
stage × channel, its first sent message, written as messages were sent. The steps, each
named for what it holds:

``reached``
    the reach of the reminder stages (not the thank-you), with the time each installment
    was first seen paid.
``borrowers``
    per borrower × stage × channel: the variant of the borrower's *first* message there
    (sticky variants make it the only one; if weights changed mid-way, the borrower stays
    with the first, as randomised), that first time (opt-outs count from it) and the
    counts over the installments first reached in the period.
``sent_counts``
    per borrower × stage × channel: every message sent to them there, whatever the day:
    what reaching this cohort cost.

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
    Float,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from remindkit.models import Stage
from remindkit.outbox.schema import UTCDateTime, installments, messages, opt_outs, reach
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


def _reached() -> Any:
    """The stored reach of every reminder stage (thank-yous are not reminders), with the
    time each installment was first seen paid."""
    return (
        select(
            reach.c.loan_id,
            reach.c.installment_no,
            reach.c.stage,
            reach.c.channel,
            reach.c.borrower_id,
            reach.c.variant,
            reach.c.sent_at.label("first_at"),
            reach.c.day.label("first_day"),
            installments.c.paid_at,
        )
        .outerjoin(
            installments,
            and_(
                installments.c.loan_id == reach.c.loan_id,
                installments.c.installment_no == reach.c.installment_no,
            ),
        )
        .where(reach.c.stage != THANK_YOU)
        .subquery("reached")
    )


def _sent_counts() -> Any:
    """Per borrower × stage × channel: every reminder sent there (whatever its day: what
    reaching the borrower cost), and of those the delivered ones and the receipts."""
    return (
        select(
            messages.c.borrower_id,
            messages.c.stage,
            messages.c.channel,
            func.count().label("messages"),
            _count_if(messages.c.delivery_status.in_(DELIVERED)).label("delivered"),
            _count_if(messages.c.delivery_status.is_not(None)).label("receipts"),
        )
        .where(messages.c.state == SENT, messages.c.stage != THANK_YOU)
        .group_by(messages.c.borrower_id, messages.c.stage, messages.c.channel)
        .subquery("sent_counts")
    )


def _borrowers(period: Period, windows: Sequence[int]) -> Any:
    """Per borrower × stage × channel reached in the period: the variant of their first
    message there (over all their installments, as randomised) and, over the installments
    first reached in the period, the counts the cells add up."""
    reached = _reached()
    chosen = _in_period(reached.c.first_day, period)
    first_at, paid_at = reached.c.first_at, reached.c.paid_at
    repaid = and_(chosen, paid_at >= first_at, paid_at <= period.now)
    counts: list[Any] = [
        _count_if(chosen).label("installments"),
        _count_if(and_(chosen, paid_at < first_at)).label("paid_before"),
        _count_if(repaid).label("repaid"),
    ]
    delay = seconds_between(paid_at, first_at)
    for days in windows:
        matured = and_(chosen, first_at <= period.days_before(days))
        counts.append(_count_if(matured).label(f"m_{days}"))
        within = and_(matured, repaid, delay <= float(days * DAY_SECONDS))
        counts.append(_count_if(within).label(f"y_{days}"))
    return (
        select(
            reached.c.borrower_id,
            reached.c.stage,
            reached.c.channel,
            first_by(reached.c.variant, first_at).label("variant"),
            func.min(first_at).label("first_at"),
            *counts,
        )
        # In the reach's key order (borrower first): SQLite reads the groups in order, and
        # sorts elsewhere settle most comparisons on the first column.
        .group_by(reached.c.borrower_id, reached.c.stage, reached.c.channel)
        .having(_count_if(chosen) > 0)
        .subquery("borrowers")
    )


def cells_query(period: Period, windows: Sequence[int]) -> Select[Any]:
    """Per stage × channel × variant: borrowers, installments, messages, payments before
    the first message, repaid since it, opt-outs after it, and for each window of ``N``
    days the installments whose window has passed (``matured_N``), those repaid within it
    (``repaid_N``) and the per-borrower sums for the design effect (``mm_N``, ``yy_N``,
    ``my_N``)."""
    borrowers = _borrowers(period, windows)
    sent = _sent_counts()
    seen_at = opt_outs.c.seen_at
    opted_out = and_(seen_at >= borrowers.c.first_at, seen_at <= period.now)
    totals: list[Any] = [
        func.count().label("borrowers"),
        func.sum(borrowers.c.installments).label("installments"),
        func.sum(sent.c.messages).label("messages"),
        func.sum(sent.c.delivered).label("delivered"),
        func.sum(sent.c.receipts).label("receipts"),
        func.sum(borrowers.c.paid_before).label("paid_before"),
        func.sum(borrowers.c.repaid).label("repaid"),
        _count_if(opted_out).label("opted_out"),
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
    group = (borrowers.c.stage, borrowers.c.channel, borrowers.c.variant)
    return (
        select(*group, *totals)
        .select_from(borrowers)
        .outerjoin(
            sent,
            and_(
                sent.c.borrower_id == borrowers.c.borrower_id,
                sent.c.stage == borrowers.c.stage,
                sent.c.channel == borrowers.c.channel,
            ),
        )
        .outerjoin(
            opt_outs,
            and_(
                opt_outs.c.borrower_id == borrowers.c.borrower_id,
                opt_outs.c.channel == borrowers.c.channel,
            ),
        )
        .group_by(*group)
        .order_by(*group)
    )


def _installment_stages(period: Period) -> Any:
    """Per installment × stage (all channels together) first reached in the period: its
    borrower, its first message there and when it was first seen paid."""
    stage_reach = (
        select(
            reach.c.loan_id,
            reach.c.installment_no,
            reach.c.stage,
            func.min(reach.c.borrower_id).label("borrower_id"),
            func.min(reach.c.sent_at).label("first_at"),
        )
        .where(reach.c.stage != THANK_YOU)
        .group_by(reach.c.loan_id, reach.c.installment_no, reach.c.stage)
        .having(_in_period(func.min(reach.c.day), period))
        .subquery("stage_reach")
    )
    return (
        select(stage_reach, installments.c.paid_at)
        .select_from(stage_reach)
        .outerjoin(
            installments,
            and_(
                installments.c.loan_id == stage_reach.c.loan_id,
                installments.c.installment_no == stage_reach.c.installment_no,
            ),
        )
        .cte("installment_stages")
    )


def _repaid_since(first_at: Any, paid_at: Any, period: Period) -> ColumnElement[bool]:
    return and_(paid_at >= first_at, paid_at <= period.now)


def _by_borrower(rows: Any, period: Period, *stage: Any) -> Any:
    """Per borrower (× ``stage``): installments and those repaid since their first message;
    summed per stage, each borrower counts once without ``COUNT(DISTINCT)``'s sort."""
    repaid = _repaid_since(rows.c.first_at, rows.c.paid_at, period)
    return (
        select(
            *stage,
            func.count().label("installments"),
            _count_if(repaid).label("repaid"),
        )
        .group_by(rows.c.borrower_id, *stage)
        .subquery()
    )


def stages_query(period: Period) -> Select[Any]:
    """Per stage, then once for all stages (``stage`` NULL): borrowers, installments
    reached (each once, whatever the channel) and repaid since their first message there;
    overall, an installment counts once, from its first reminder of any stage."""
    stages = _installment_stages(period)
    per_stage = _by_borrower(stages, period, stages.c.stage)
    by_stage = select(
        per_stage.c.stage,
        func.count().label("borrowers"),
        func.sum(per_stage.c.installments).label("installments"),
        func.sum(per_stage.c.repaid).label("repaid"),
    ).group_by(per_stage.c.stage)
    per_installment = (
        select(
            stages.c.borrower_id,
            func.min(stages.c.first_at).label("first_at"),
            func.max(stages.c.paid_at).label("paid_at"),
        )
        .group_by(stages.c.loan_id, stages.c.installment_no, stages.c.borrower_id)
        .subquery("per_installment")
    )
    everyone = _by_borrower(per_installment, period)
    overall = select(
        literal(None).label("stage"),
        func.count().label("borrowers"),
        func.sum(everyone.c.installments).label("installments"),
        func.sum(everyone.c.repaid).label("repaid"),
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
