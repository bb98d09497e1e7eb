"""Benchmark ``remindkit plan`` on a synthetic feed (SPEC §10: 1,000,000 rows).

    .venv/bin/python bench/plan.py                      # 1,000,000 rows, all three runs
    .venv/bin/python bench/plan.py --rows 100000 --days 7

Generates a CSV feed (seeded, rows in random borrower order), then runs each variant in
its own process so that peak RSS is that variant's alone:

- ``read``: stream the feed through ``remindkit.feed.read_feed`` and do nothing else — the
  cost of parsing and validating rows, which every planner pays;
- ``plan``: ``Planner.plan`` over the streamed feed (what ``remindkit plan`` does);
- ``naive``: a straightforward planner built from the same policy functions: load every
  row into memory, group by borrower in a dict, check every step of every installment
  for every day with no caching (time zones built per row, holiday rules evaluated per
  message).

Prints rows/s, seconds and peak RSS for each, and planning alone (``plan`` − ``read``).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

AT = "2026-12-01T08:30:00+08:00"
HEADER = (
    "loan_id,installment_no,installments_total,borrower_id,name,gender,phone,push_token,"
    "amount_due,due_date,status,product,timezone,opted_out,segment,hardship"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
STATUSES = ["due"] * 70 + ["paid"] * 20 + ["plan"] * 5 + ["dispute"] * 3 + ["paused"] * 2
MOBILE_PREFIXES = ["38", "39", "86", "50", "58", "77", "88", "35"]
ZONES = ["", ""] * 45 + ["Asia/Urumqi"] * 8 + ["Asia/Hong_Kong", "America/Vancouver"]


def generate(path: Path, rows: int, seed: int = 20261201) -> None:
    """A feed like a mid-size lender's: ~3 installments per borrower, due dates from 60
    days ago to 30 days ahead, a fifth already paid, some opt-outs, a few segments."""
    rng = random.Random(seed)
    borrowers = max(1, rows // 3)
    today = date(2026, 12, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        for index in range(rows):
            number = rng.randrange(borrowers)
            person = random.Random(number)  # the same borrower always has the same details
            writer.writerow(
                [
                    f"HM{index:09d}",
                    rng.randint(1, 12),
                    12,
                    f"B{number:08d}",
                    person.choice(SURNAMES) + person.choice(GIVEN) + person.choice(GIVEN),
                    person.choice(["male", "female", ""]),
                    f"1{person.choice(MOBILE_PREFIXES)}{person.randrange(10**8):08d}",
                    f"tok{number}" if person.random() < 0.6 else "",
                    f"{rng.randint(100, 500000) / 100:.2f}",
                    (today + timedelta(days=rng.randint(-60, 30))).isoformat(),
                    rng.choice(STATUSES),
                    "禾苗贷",
                    person.choice(ZONES),
                    "sms" if person.random() < 0.05 else "",
                    rng.choice(["", "", "", "new", "prime"]),
                    "true" if rng.random() < 0.03 else "",
                ]
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_read(feed: Path) -> dict[str, Any]:
    from remindkit.feed import read_feed

    rows = sum(1 for _ in read_feed(feed))
    return {"rows": rows}


def run_plan(feed: Path, days: int) -> dict[str, Any]:
    from remindkit.config import default_settings
    from remindkit.feed import read_feed
    from remindkit.plan import Planner
    from remindkit.render import TemplateCatalog, shipped_templates_dir

    planner = Planner(default_settings(), catalog=TemplateCatalog(shipped_templates_dir()))
    result = planner.plan(read_feed(feed), at=datetime.fromisoformat(AT), days=days)
    return _summary(result.messages, len(result.rejected_rows))


def run_naive(feed: Path, days: int) -> dict[str, Any]:
    """The baseline: everything in memory, no caches, every rule checked per message."""
    from remindkit.config import default_settings
    from remindkit.feed import read_feed
    from remindkit.models import Installment
    from remindkit.plan import Planner
    from remindkit.policy.calendar import HolidayCalendar

    planner = Planner(default_settings())
    schedule = planner.schedule(HolidayCalendar())
    at = datetime.fromisoformat(AT)
    rows = list(read_feed(feed))
    by_borrower: dict[str, list[Installment]] = defaultdict(list)
    for row in rows:
        if isinstance(row, Installment):
            by_borrower[row.borrower.id].append(row)
    planned: list[Any] = []
    for items in by_borrower.values():
        candidates = [
            candidate
            for item in items
            for candidate in _naive_candidates(item, planner, schedule, at, days)
        ]
        planned.extend(_naive_decisions(candidates, planner, at))
    return {"messages": len(planned), "rows": len(rows)}


def _naive_candidates(item: Any, planner: Any, schedule: Any, at: datetime, days: int) -> list[Any]:
    """Every step of one installment checked against every planned day."""
    from remindkit.policy.consolidate import Candidate
    from remindkit.policy.rules import choose_channel, is_remindable
    from remindkit.policy.stages import stage_for, wants_plan_wording

    if not is_remindable(item):
        return []
    zone = ZoneInfo(item.borrower.timezone)
    first = at.astimezone(zone).date()
    steps = planner.cadence.steps(planner.cadence.profile_name(item.segment))
    candidates = []
    for day in (first + timedelta(days=offset) for offset in range(days)):
        for step in steps:
            if schedule.effective(item.due_date, step).day != day:
                continue
            choice = choose_channel(step.channels, item.borrower)
            candidates.append(
                Candidate(
                    installment=item,
                    day=day,
                    stage=stage_for(
                        (day - item.due_date).days, plan_wording=wants_plan_wording(item)
                    ),
                    channel=choice.channel,
                    fallbacks=choice.fallbacks,
                    wanted=datetime.combine(day, planner.window.fit(step.send_time), zone),
                    reason=choice.reason,
                )
            )
    return candidates


def _naive_decisions(candidates: list[Any], planner: Any, at: datetime) -> list[Any]:
    """One borrower's candidates merged, then capped day by day."""
    from remindkit.policy.caps import SlotRequest, apply_caps
    from remindkit.policy.consolidate import consolidate
    from remindkit.policy.stages import severity

    per_day: dict[date, list[Any]] = defaultdict(list)
    for draft in consolidate(candidates):
        per_day[draft.day].append(draft)
    decided: list[Any] = []
    for drafts in per_day.values():
        requests = [
            SlotRequest(
                earliest=max(draft.wanted, at),
                closes=datetime.combine(draft.day, planner.window.end, draft.wanted.tzinfo),
                installments=draft.installment_keys,
                rank=(-severity(draft.stage),),
            )
            for draft in drafts
        ]
        decided.extend(zip(drafts, apply_caps(requests, planner.caps), strict=True))
    return decided


def _summary(messages: Any, rejected: int) -> dict[str, Any]:
    planned = sum(1 for message in messages if message.planned)
    return {"messages": len(messages), "planned": planned, "rejected": rejected}


def child(variant: str, feed: Path, days: int) -> None:
    started = time.perf_counter()
    if variant == "read":
        figures = run_read(feed)
    elif variant == "plan":
        figures = run_plan(feed, days)
    else:
        figures = run_naive(feed, days)
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(figures))


def measure(variant: str, feed: Path, days: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", variant, "--feed", str(feed)]
    output = subprocess.run(
        [*command, "--days", str(days)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--feed", type=Path, help="use this feed instead of generating one")
    parser.add_argument("--child", choices=["read", "plan", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-naive", action="store_true", help="skip the baseline run")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.feed, args.days)
        return
    with tempfile.TemporaryDirectory() as scratch:
        feed = args.feed or Path(scratch) / "feed.csv"
        if args.feed is None:
            started = time.perf_counter()
            generate(feed, args.rows)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
        print(f"feed: {feed.stat().st_size / 2**20:.0f} MiB, --at {AT}, --days {args.days}")
        variants = ["read", "plan"] + ([] if args.skip_naive else ["naive"])
        results = {variant: measure(variant, feed, args.days) for variant in variants}
        rows = results["read"]["rows"]
        for variant, figures in results.items():
            rate = rows / figures["seconds"] if figures["seconds"] else float("inf")
            print(f"{variant:>6}: {rate:>10,.0f} rows/s  {figures['seconds']:>7.2f} s  "
                  f"peak RSS {figures['peak_rss_mb']:>7.1f} MB  {_extra(figures)}")  # fmt: skip
        reading = results["read"]["seconds"]
        alone = results["plan"]["seconds"] - reading
        print(f"planning alone (plan − read): {alone:.2f} s")
        if "naive" in results:
            naive_alone = results["naive"]["seconds"] - reading
            print(
                f"naive planning alone (naive − read): {naive_alone:.2f} s; plan is "
                f"{results['naive']['seconds'] / results['plan']['seconds']:.1f}× faster end to "
                f"end, {naive_alone / alone:.1f}× faster planning alone"
            )


def _extra(figures: dict[str, Any]) -> str:
    keys = ("messages", "planned", "rejected")
    return " ".join(f"{key}={figures[key]:,}" for key in keys if key in figures)


if __name__ == "__main__":
    main()
