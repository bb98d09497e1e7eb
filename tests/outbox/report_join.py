"""The report as it was counted before the store kept the reach: at report time, every sent
message joined with its installments and grouped into the first message per installment ×
stage × channel, in a temporary table the cells and stage totals read.

Kept as the reference the stored reach must agree with (``test_reach.py``): the same
counting rules, computed the old way, on the same outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
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
from sqlalchemy.sql.elements import ColumnElement

from remindkit.outbox.schema import (
    UTCDateTime,
    installments,
    message_installments,
    messages,
    opt_outs,
)
from remindkit.outbox.store import Outbox
from remindkit.report import Report
from remindkit.report.build import DEFAULT_WINDOWS, Aggregates, _windows, assemble, read_snapshot
from remindkit.report.queries import (
    DAY_SECONDS,
    DELIVERED,
    SENT,
    THANK_YOU,
    Period,
    _count_if,
    _in_period,
    first_by,
    seconds_between,
    states_query,
)


def joined_report(
    outbox: Outbox,
    *,
    as_of: datetime,
    since: date | None = None,
    until: date | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    curve_days: int = 0,
) -> Report:
    """``build_report`` as it was: the reach joined from the messages at report time."""
    shown = _windows(windows)
    period = Period(since=since, until=until, as_of=as_of)
    wanted = sorted(set(shown) | set(range(1, curve_days + 1)))
    with read_snapshot(outbox) as connection:
        reach_rows.create(connection)
        connection.execute(fill_reach_query())
        aggregates = Aggregates(
            cells=connection.execute(cells_query(period, wanted)).mappings().all(),
            stages=connection.execute(stages_query(period)).mappings().all(),
            states=connection.execute(states_query(period)).mappings().all(),
        )
        reach_rows.drop(connection)
    return assemble(aggregates, period, shown, wanted, curve_days)


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
