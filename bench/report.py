"""The outcome report over 1,000,000 sent messages and ~300,000 payments (SPEC §10: ≤ 10 s).

For each store (a SQLite file; a PostgreSQL database of its own, dropped afterwards):

1. fill it with a synthetic campaign (:mod:`remindkit.report.sample`, bulk rows; then
   ``ANALYZE`` on PostgreSQL, as autovacuum would; not timed):
   every borrower gets a pre-due push, then overdue-early SMS on days 4, 6 and 10 until they
   pay; the overdue-early wording is an A/B test;
2. time ``build_report`` (the SQL aggregation and the statistics, windows 3d and 7d) three
   times, and
3. time the naive baseline once: fetch every sent message with its installments and payment
   into Python and aggregate there, the same counts (checked equal).

Prints one table with both figures side by side, and the machine's load.

    python bench/report.py [--messages 1000000] [--no-postgres] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg
from sqlalchemy import and_, select

from remindkit.models import Channel, Stage
from remindkit.outbox.schema import installments, message_installments, messages
from remindkit.outbox.store import Outbox
from remindkit.report import build_report
from remindkit.report.sample import Experiment, Step, fill

START = datetime.fromisoformat("2026-11-02T10:00:00+08:00")
AS_OF = START + timedelta(days=40)
WINDOWS = (3, 7)
SHARDS = 8
# Messages per borrower of this cadence, measured: ~3.75 (the later SMS stop once paid).
MESSAGES_PER_BORROWER = 3.75
STEPS = (
    Step(stage=Stage.PRE_DUE, channel=Channel.PUSH, day=0),
    Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=4),
    Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=6),
    Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=10),
)
PG_SERVER = os.environ.get("REMINDKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def populate(outbox: Outbox, messages_wanted: int) -> tuple[int, int]:
    borrowers = int(messages_wanted / MESSAGES_PER_BORROWER / SHARDS)
    sent = paid = 0
    for shard in range(SHARDS):
        filled = fill(
            outbox,
            Experiment(
                name=f"bench{shard}",
                start=START,
                borrowers=borrowers,
                steps=STEPS,
                tested=(Stage.OVERDUE_EARLY, Channel.SMS),
                repay_within={"a": 0.20, "b": 0.24},
                paid_later=0.75,
            ),
            seed=shard,
        )
        sent += filled.messages
        paid += filled.payments
    return sent, paid


def naive(outbox: Outbox) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """Every sent message × installment into Python, aggregated in dicts."""
    query = (
        select(
            messages.c.borrower_id,
            messages.c.stage,
            messages.c.channel,
            messages.c.variant,
            messages.c.sent_at,
            message_installments.c.loan_id,
            message_installments.c.installment_no,
            installments.c.paid_at,
        )
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .outerjoin(
            installments,
            and_(
                installments.c.loan_id == message_installments.c.loan_id,
                installments.c.installment_no == message_installments.c.installment_no,
            ),
        )
        .where(messages.c.state == "sent", messages.c.stage != "payment_received")
    )
    first: dict[tuple[Any, ...], list[Any]] = {}
    assigned: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    with outbox.engine.connect() as connection:
        for borrower, stage, channel, variant, sent_at, loan, number, paid_at in connection.execute(
            query
        ):
            key = (stage, channel, borrower, loan, number)
            seen = first.get(key)
            if seen is None or sent_at < seen[0]:
                first[key] = [sent_at, paid_at]
            group = (borrower, stage, channel)
            if group not in assigned or (sent_at, variant) < assigned[group]:
                assigned[group] = (sent_at, variant)
        connection.rollback()
    cells: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0] * (1 + 2 * len(WINDOWS)))
    for (stage, channel, borrower, _, _), (first_at, paid_at) in first.items():
        counts = cells[(stage, channel, assigned[(borrower, stage, channel)][1])]
        counts[0] += 1
        for index, days in enumerate(WINDOWS):
            window = timedelta(days=days)
            if AS_OF - first_at >= window:
                counts[1 + 2 * index] += 1
                if paid_at is not None and first_at <= paid_at <= first_at + window:
                    counts[2 + 2 * index] += 1
    return {cell: tuple(counts) for cell, counts in cells.items()}


def measured(outbox: Outbox) -> tuple[list[float], float, bool]:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        report = build_report(outbox, as_of=AS_OF, windows=WINDOWS)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    baseline = naive(outbox)
    naive_seconds = time.perf_counter() - started
    ours = {
        (c.stage, c.channel, c.variant): (
            c.installments,
            *(n for days in WINDOWS for n in (c.window(days).matured, c.window(days).repaid)),
        )
        for c in report.cells
    }
    return times, naive_seconds, ours == baseline


def run(name: str, url: str, wanted: int) -> str:
    outbox = Outbox.open(url)
    started = time.perf_counter()
    sent, paid = populate(outbox, wanted)
    if outbox.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; without statistics PostgreSQL
        # plans the joins for a few dozen rows.
        with outbox.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(f"{name}: filled {sent:,} sent messages, {paid:,} payments "
          f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    times, naive_seconds, same = measured(outbox)
    outbox.close()
    median = statistics.median(times)
    return (
        f"| {name} | {sent:,} | {paid:,} | **{median:.2f} s** (min {min(times):.2f}) | "
        f"{naive_seconds:.2f} s | {naive_seconds / median:.1f}× | {'yes' if same else 'NO'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    options = parser.parse_args()
    rows = []
    load_before = os.getloadavg()
    if not options.no_sqlite:
        with TemporaryDirectory() as directory:
            path = Path(directory) / "bench.db"
            rows.append(run("SQLite", f"sqlite:///{path}", options.messages))
    if not options.no_postgres:
        database = f"rk_bench_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        try:
            url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            rows.append(run("PostgreSQL", f"{url}/{database}", options.messages))
        finally:
            with psycopg.connect(PG_SERVER, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    load_after = os.getloadavg()
    print("| store | sent messages | payments | `build_report` (median of 3) | naive: rows into "
          "Python | speed-up | same counts |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print(f"\nload average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"({os.cpu_count()} cores)")  # fmt: skip


if __name__ == "__main__":
    main()
