"""Planning a feed file gives the plan of its rows read one by one (the file path builds
values only for rows with something to send)."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from remindkit.config import default_settings
from remindkit.feed import read_feed
from remindkit.plan import Planner

AT = datetime.fromisoformat("2026-12-01T08:30:00+08:00")
HEADER = ["loan_id", "installment_no", "installments_total", "borrower_id", "name", "gender",
          "phone", "push_token", "amount_due", "due_date", "status", "product", "timezone",
          "opted_out", "segment", "hardship", "branch"]  # fmt: skip


def write_feed(path: Path, rows: int, seed: int) -> None:
    """Rows of a lender's export, a few spelled unusually or wrong, in random order."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            borrower = rng.randrange(rows // 3)
            writer.writerow(
                [
                    f"L{index}" if rng.random() > 0.01 else f"L{index - 1}",
                    rng.choice(["1", "2", "", " 3"]),
                    rng.choice(["12", "", "1"]),
                    f"B{borrower}",
                    rng.choice(["王芳", "欧阳娜娜", " 李强 ", "王【芳"]),
                    rng.choice(["male", "female", "", "F"]),
                    rng.choice(["13812345678", "+86 139 1234 5678", "", "12345"]),
                    rng.choice(["", f"tok{borrower}"]),
                    rng.choice(["980.00", "12.5", "7", "0.00", "1,000.00"]),
                    (date(2026, 12, 1) + timedelta(days=rng.randint(-40, 10))).isoformat(),
                    rng.choice(["due"] * 6 + ["paid", "plan", "PAID", "late"]),
                    rng.choice(["禾苗贷", "", " 安心分期 "]),
                    rng.choice(["", "", "Asia/Urumqi", "America/Vancouver", "Mars/Base"]),
                    rng.choice(["", "", "sms", "push;sms", "fax"]),
                    rng.choice(["", "new", "vip"]),
                    rng.choice(["", "", "true", "maybe"]),
                    rng.choice(["", "深圳"]),
                ]
            )


@pytest.mark.parametrize(("days", "spill_after"), [(1, 100_000), (7, 50)])
def test_a_feed_file_plans_like_its_rows(tmp_path: Path, days: int, spill_after: int) -> None:
    path = tmp_path / "feed.csv"
    write_feed(path, 3000, seed=days)
    planner = Planner(default_settings(), spill_after=spill_after)
    from_file = planner.plan(read_feed(path), at=AT, days=days)
    from_rows = planner.plan(list(read_feed(path)), at=AT, days=days)
    assert from_file == from_rows
    assert from_file.planned
    assert from_file.rejected_rows
