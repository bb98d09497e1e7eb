"""``[feed] source = "sql"``: the rows of a query on PostgreSQL, streamed with a server-side
cursor, plan exactly as the same rows in a CSV file; bad rows are rejected alone."""

from __future__ import annotations

import csv
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from conftest import PLATFORM_TOML
from daemon_support import REMINDKIT

from remindkit.config import load_settings
from remindkit.config_delivery import FeedSettings
from remindkit.errors import ConfigError
from remindkit.feed import RejectedRow, read_feed
from remindkit.kit import Kit
from remindkit.sources import open_feed
from remindkit.testing import demo_settings

AT = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
QUERY = "SELECT * FROM loan_feed ORDER BY borrower_id, loan_id, installment_no"
COLUMNS = ("loan_id", "installment_no", "borrower_id", "name", "gender", "phone",
           "amount_due", "due_date", "status", "hardship")  # fmt: skip


def rows(count: int) -> list[tuple[object, ...]]:
    made: list[tuple[object, ...]] = []
    for n in range(count):
        made.append((
            f"L{n:04d}", 1 + n % 3, f"B{n // 2:04d}", "王芳", "female", f"1390000{n:04d}",
            Decimal("100.50") + n, date(2026, 12, 1 + n % 5), "paid" if n % 7 == 0 else "due",
            n % 11 == 0,
        ))  # fmt: skip
    made.append(("LBAD", 1, "BBAD", "李明", "male", "12", Decimal("5.00"), date(2026, 12, 2),
                 "due", False))  # fmt: skip
    return made


def load(url: str, data: list[tuple[object, ...]]) -> str:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        connection.execute(
            "CREATE TABLE loan_feed (loan_id text, installment_no integer, borrower_id text, "
            "name text, gender text, phone text, amount_due numeric(12, 2), due_date date, "
            "status text, hardship boolean)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO loan_feed VALUES ({', '.join(['%s'] * len(COLUMNS))})", data
            )
    return url


def as_csv(path: Path, data: list[tuple[object, ...]]) -> None:
    ordered = sorted(data, key=lambda row: (str(row[2]), str(row[0]), int(str(row[1]))))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in ordered:
            writer.writerow(["true" if v is True else "false" if v is False else v for v in row])


def test_a_sql_feed_plans_as_the_same_rows_in_a_csv_file(
    fresh_pg_database: str, tmp_path: Path
) -> None:
    data = rows(60)
    url = load(fresh_pg_database, data)
    as_csv(tmp_path / "feed.csv", data)
    settings = FeedSettings(source="sql", url=url, query=QUERY, batch_size=7)
    kit = Kit(demo_settings())
    from_sql = kit.plan(open_feed(settings), at=AT, days=7)
    from_csv = kit.plan(read_feed(tmp_path / "feed.csv"), at=AT, days=7)
    assert from_sql.messages
    assert [m.to_json() for m in from_sql.messages] == [m.to_json() for m in from_csv.messages]
    assert from_sql.rejected_rows == (RejectedRow(61, "phone", "not a valid mobile number"),)


def test_the_password_comes_from_the_environment(
    fresh_pg_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = load(fresh_pg_database, rows(3))
    monkeypatch.setenv("FEED_DB_PASSWORD", "unused-with-trust-auth")
    settings = FeedSettings(source="sql", url=url, query=QUERY, password_env="FEED_DB_PASSWORD")
    assert sum(1 for _ in open_feed(settings)) == 4
    config = tmp_path / "rk.toml"
    config.write_text(
        '[feed]\nsource = "sql"\nurl = "postgresql://reader:s3cret@db/lending"\n'
        f'query = "{QUERY}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="holds a password") as refused:
        load_settings(config)
    assert refused.value.key == "feed.url"
    monkeypatch.delenv("FEED_DB_PASSWORD")
    with pytest.raises(ConfigError, match="FEED_DB_PASSWORD is not set"):
        list(open_feed(settings))
    config.write_text(f'[feed]\nsource = "sql"\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="needs a query"):
        load_settings(config)


def test_run_once_reads_the_configured_sql_feed(fresh_pg_database: str, tmp_path: Path) -> None:
    url = load(fresh_pg_database, rows(10))
    config = tmp_path / "rk.toml"
    config.write_text(
        PLATFORM_TOML
        + f"""
[store]
url = "sqlite:///{tmp_path / "outbox.db"}"

[providers]
sms = "recording"
push = "recording"

[feed]
source = "sql"
url = "{url}"
query = "{QUERY}"
""",
        encoding="utf-8",
    )
    done = subprocess.run(
        [*REMINDKIT, "run", "--once", "--at", "2026-11-30T10:00:00+08:00", "--config",
         str(config), "--format", "json"],
        check=False, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # 1: the bad row is reported
    assert '"inserted":' in done.stdout
    assert '"row": 11' in done.stdout
