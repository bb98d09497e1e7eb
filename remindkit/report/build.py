"""Build a :class:`Report` from an outbox: the queries in one consistent snapshot, then the
statistics on their aggregates (one row per stage × channel × variant)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, create_engine, event
from sqlalchemy.pool import NullPool

from remindkit.errors import ArgumentError
from remindkit.models import require_aware
from remindkit.outbox.database import SQLITE_BUSY_SECONDS, is_postgresql, translated
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox
from remindkit.render.catalog import BASE_VARIANT
from remindkit.report.conclude import compare
from remindkit.report.model import (
    Cell,
    Comparison,
    Curve,
    Report,
    StageTotal,
    StateCount,
    WindowRate,
)
from remindkit.report.queries import (
    THANK_YOU,
    Period,
    as_int,
    cells_query,
    stages_query,
    states_query,
)
from remindkit.report.stats import ClusterSums, effective, holm

DEFAULT_WINDOWS = (3, 7)
MAX_WINDOW_DAYS = 90
# SQLite's sorts for a million-row report fit in memory instead of temporary files.
SQLITE_CACHE_KIB = 131_072
# PostgreSQL's default work_mem (4 MB) sends the report's sorts and hashes to disk.
POSTGRESQL_WORK_MEM = "256MB"


def build_report(
    outbox: Outbox,
    *,
    as_of: datetime,
    since: date | None = None,
    until: date | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    curve_days: int = 0,
) -> Report:
    """The outcome report as of ``as_of`` for installments first reminded (per stage) on a
    borrower-local day in ``[since, until]``; ``windows`` are days after that first message.
    ``curve_days``: also repayment within 1 … N days per variant, for the chart."""
    shown = _windows(windows)
    if since is not None and until is not None and since > until:
        raise ArgumentError("since", f"{since} is after until {until}")
    period = Period(since=since, until=until, as_of=require_aware(as_of, "as_of"))
    wanted = sorted(set(shown) | set(range(1, curve_days + 1)))
    with read_snapshot(outbox) as connection:
        aggregates = Aggregates(
            cells=connection.execute(cells_query(period, wanted)).mappings().all(),
            stages=connection.execute(stages_query(period)).mappings().all(),
            states=connection.execute(states_query(period)).mappings().all(),
        )
    return assemble(aggregates, period, shown, wanted, curve_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Aggregates:
    """What the database returns: one row per cell, per stage (and overall), per state."""

    cells: Sequence[RowMapping]
    stages: Sequence[RowMapping]
    states: Sequence[RowMapping]


def assemble(
    aggregates: Aggregates,
    period: Period,
    shown: Sequence[int],
    wanted: Sequence[int],
    curve_days: int,
) -> Report:
    """The report from the aggregates: the cells' windows ``wanted`` (those ``shown`` and
    the curve's days), the comparisons, the conclusions and the totals."""
    cells = tuple(_cell(row, wanted) for row in aggregates.cells)
    not_counted = tuple(_state(row) for row in aggregates.states)
    stages, overall = _stages(aggregates.stages, cells)
    return Report(
        as_of=period.as_of,
        since=period.since,
        until=period.until,
        windows=tuple(shown),
        cells=tuple(_trimmed(cell, shown) for cell in cells),
        comparisons=_comparisons(cells, shown),
        stages=stages,
        overall=overall,
        not_counted=tuple(count for count in not_counted if not _counted(count)),
        receipts=any(cell.receipts for cell in cells),
        curves=_curves(cells, curve_days),
    )


def _counted(count: StateCount) -> bool:
    return count.state == MessageState.SENT and count.stage != THANK_YOU


def _windows(windows: Sequence[int]) -> tuple[int, ...]:
    chosen = tuple(sorted(set(windows)))
    if not chosen:
        raise ArgumentError("within", "needs at least one window, e.g. 3d,7d")
    for days in chosen:
        if not 1 <= days <= MAX_WINDOW_DAYS:
            raise ArgumentError("within", f"{days}d: windows are 1d to {MAX_WINDOW_DAYS}d")
    return chosen


@contextmanager
def read_snapshot(outbox: Outbox) -> Iterator[Connection]:
    """One transaction that sees one state of the outbox and writes nothing (rolled back at
    the end). On SQLite a deferred transaction on a connection of its own (WAL: writers go
    on meanwhile, unlike the outbox's ``BEGIN IMMEDIATE``), sorting in memory; on
    PostgreSQL ``REPEATABLE READ`` with room for the aggregates in memory."""
    engine = outbox.engine
    if is_postgresql(engine):
        with translated(engine), engine.connect() as connection:
            reading = connection.execution_options(isolation_level="REPEATABLE READ")
            with reading.begin() as transaction:
                reading.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRESQL_WORK_MEM}'")
                # The joins on (borrower, stage, channel) are estimated at a few rows, so the
                # planner picks nested loops over hundreds of thousands; hash joins are right.
                reading.exec_driver_sql("SET LOCAL enable_nestloop = off")
                yield reading
                transaction.rollback()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with outbox.transaction() as connection:
            yield connection
        return
    reader = create_engine(engine.url, poolclass=NullPool)

    @event.listens_for(reader, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(reader, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    try:
        with translated(reader), reader.connect() as connection:
            yield connection
            connection.rollback()
    finally:
        reader.dispose()


def _cell(row: RowMapping, windows: Sequence[int]) -> Cell:
    return Cell(
        stage=row["stage"],
        channel=row["channel"],
        variant=row["variant"],
        borrowers=as_int(row["borrowers"]),
        installments=as_int(row["installments"]),
        messages=as_int(row["messages"]),
        delivered=as_int(row["delivered"]) if as_int(row["receipts"]) else None,
        receipts=as_int(row["receipts"]),
        paid_before=as_int(row["paid_before"]),
        repaid=as_int(row["repaid"]),
        opted_out=as_int(row["opted_out"]),
        windows=tuple(_window(row, days) for days in windows),
    )


def _window(row: RowMapping, days: int) -> WindowRate:
    sums = ClusterSums(
        m=float(row[f"matured_{days}"] or 0),
        y=float(row[f"repaid_{days}"] or 0),
        mm=float(row[f"mm_{days}"] or 0),
        yy=float(row[f"yy_{days}"] or 0),
        my=float(row[f"my_{days}"] or 0),
    )
    arm, deff = effective(sums)
    return WindowRate(
        days=days,
        matured=as_int(row[f"matured_{days}"]),
        repaid=as_int(row[f"repaid_{days}"]),
        design_effect=deff,
        effective=arm,
    )


def _trimmed(cell: Cell, shown: Sequence[int]) -> Cell:
    windows = tuple(rate for rate in cell.windows if rate.days in shown)
    return replace(cell, windows=windows)


def _state(row: RowMapping) -> StateCount:
    return StateCount(
        stage=row["stage"],
        channel=row["channel"],
        variant=row["variant"],
        state=row["state"],
        messages=as_int(row["messages"]),
    )


def base_variant(variants: Sequence[str]) -> str:
    """The variant the others are compared with: ``a`` (the base file), else the first."""
    return BASE_VARIANT if BASE_VARIANT in variants else sorted(variants)[0]


def _comparisons(cells: Sequence[Cell], windows: Sequence[int]) -> tuple[Comparison, ...]:
    primary = max(windows)
    found: list[Comparison] = []
    for group in dict.fromkeys(cell.group for cell in cells):
        members = [cell for cell in cells if cell.group == group]
        base_name = base_variant([cell.variant for cell in members])
        base = next(cell for cell in members if cell.variant == base_name)
        challengers = [cell for cell in members if cell is not base]
        if not challengers:
            continue
        raw = [
            compare(cell, base, windows, primary, 1.0, 1).primary.p_value for cell in challengers
        ]
        adjusted = holm(raw)
        found += [
            compare(cell, base, windows, primary, p, len(challengers))
            for cell, p in zip(challengers, adjusted, strict=True)
        ]
    return tuple(found)


def _stages(
    rows: Sequence[RowMapping], cells: Sequence[Cell]
) -> tuple[tuple[StageTotal, ...], StageTotal]:
    """Stage totals; their messages are the cells' (each borrower's messages once per channel)."""
    sent: dict[str | None, int] = {None: 0}
    for cell in cells:
        sent[cell.stage] = sent.get(cell.stage, 0) + cell.messages
        sent[None] += cell.messages
    totals = [
        StageTotal(
            stage=row["stage"],
            borrowers=as_int(row["borrowers"]),
            installments=as_int(row["installments"]),
            messages=sent.get(row["stage"], 0),
            repaid=as_int(row["repaid"]),
        )
        for row in rows
    ]
    overall = next((t for t in totals if t.stage is None), None) or StageTotal(
        stage=None, borrowers=0, installments=0, messages=0, repaid=0
    )
    by_stage = sorted((t for t in totals if t.stage is not None), key=lambda t: str(t.stage))
    return tuple(by_stage), overall


def _curves(cells: Sequence[Cell], curve_days: int) -> tuple[Curve, ...]:
    if curve_days <= 0:
        return ()
    return tuple(
        Curve(
            stage=cell.stage,
            channel=cell.channel,
            variant=cell.variant,
            points=tuple(cell.window(days) for days in range(1, curve_days + 1)),
        )
        for cell in cells
    )
