"""Benchmark: planning from a PostgreSQL table (``[feed] source = "sql"``) beside the same
rows read from a CSV file, in one run (SPEC §10, issue 9).

    .venv/bin/python bench/sql_feed.py                 # 1,000,000 installments
    .venv/bin/python bench/sql_feed.py --rows 100000

Generates the seeded feed of ``bench/plan.py`` (grouped by borrower, as ``ORDER BY
borrower_id`` gives), loads it with ``COPY`` into a table of typed columns (integers,
``numeric(12,2)``, ``date``, ``boolean``) in a database of its own on the local PostgreSQL
(``REMINDKIT_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432/postgres``; dropped
afterwards), then plans it twice, each in a process of its own so its peak RSS is its own:
``csv`` (``read_feed`` of the file) and ``sql`` (``remindkit.sources.read_sql``: a
server-side cursor, ``batch_size`` rows a fetch). Both must give the same messages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan import AT, generate_grouped

SERVER = os.environ.get("REMINDKIT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLE = """
CREATE TABLE installments (
  loan_id text, installment_no integer, installments_total integer, borrower_id text,
  name text, gender text, phone text, push_token text, amount_due numeric(12, 2),
  due_date date, status text, product text, timezone text, opted_out text, segment text,
  hardship boolean
)"""
QUERY = "SELECT * FROM installments ORDER BY borrower_id, loan_id, installment_no"


def child(kind: str, source: str, batch: int) -> None:
    from datetime import datetime

    from remindkit.config_delivery import FeedSettings
    from remindkit.feed import read_feed
    from remindkit.plan import Planner
    from remindkit.sources import read_sql
    from remindkit.testing import demo_settings

    planner = Planner(demo_settings())
    started = time.perf_counter()
    if kind == "csv":
        items = read_feed(Path(source))
    else:
        items = read_sql(FeedSettings(source="sql", url=source, query=QUERY, batch_size=batch))
    rows = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal rows
        for item in items:
            rows += 1
            yield item

    digest = hashlib.sha256()
    messages = 0
    with planner.stream(counted(), at=datetime.fromisoformat(AT)) as stream:
        for message in stream:
            messages += 1
            digest.update(message.key.encode())
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "messages": messages, "seconds": seconds, "peak_mb": peak,
                      "digest": digest.hexdigest()[:16]}))  # fmt: skip


def run_child(kind: str, source: str, batch: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--source", source, "--batch", str(batch)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def load(url_admin: str, rows: int, feed: Path) -> str:
    import psycopg

    name = f"rk_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(url_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = url_admin.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url) as connection:
        connection.execute(TABLE)
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY installments FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            feed.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        connection.execute("CREATE INDEX ON installments (borrower_id, loan_id, installment_no)")
        connection.execute("ANALYZE installments")
    return url


def drop(url_admin: str, url: str) -> None:
    import psycopg

    with psycopg.connect(url_admin, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--child", choices=("csv", "sql"))
    parser.add_argument("--source")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.source, args.batch)
        return
    with tempfile.TemporaryDirectory() as folder:
        feed = Path(folder) / "feed.csv"
        generate_grouped(feed, args.rows)
        url = load(SERVER, args.rows, feed)
        try:
            csv_run = run_child("csv", str(feed), args.batch)
            sql_run = run_child("sql", url.replace("postgresql://", "postgresql+psycopg://"),
                                args.batch)  # fmt: skip
        finally:
            drop(SERVER, url)
    assert csv_run["digest"] == sql_run["digest"], "the two sources planned different messages"
    print(f"{args.rows:,} installments, {csv_run['messages']:,} messages (same from both)")
    print(f"{'source':<34}{'time':>9}{'rows/s':>10}{'peak RSS':>10}")
    for label, run in (("CSV file (read_feed)", csv_run),
                       (f"PostgreSQL table (sql, batch {args.batch})", sql_run)):  # fmt: skip
        print(
            f"{label:<34}{run['seconds']:>8.1f}s{run['rows'] / run['seconds']:>10,.0f}"
            f"{run['peak_mb']:>8.0f}MB"
        )


if __name__ == "__main__":
    main()
