"""Benchmark planning a large feed beside the floors of reading CSV (SPEC §10, issue 14).

    .venv/bin/python bench/plan.py                                # 1,000,000 rows, 3 rounds
    .venv/bin/python bench/plan.py --rows 100000 --days 7 --rounds 5
    .venv/bin/python bench/plan.py --rows 10000000 --variants floor,stream   # ~25 min
    .venv/bin/python bench/plan.py --variants floor,read,plan,stream,naive

Generates a seeded CSV feed into a temporary directory (removed afterwards) in two orders
holding the same rows: ``grouped`` (sorted by borrower id, as a SQL source with ``ORDER BY
borrower_id`` gives) and ``shuffled`` (a random permutation of the same lines). Each
variant runs in a process of its own, so its peak RSS is its own; variants are interleaved
round by round (A B C, B C A, …), and each figure is the min and median over the rounds.
Times are measured inside the child from after its imports: CPU seconds (less sensitive
to other processes than wall time) and wall seconds. The ratio to the ``csv.reader`` floor
is taken within each round, never between separate runs.

Variants:

- ``floor``: ``csv.reader`` by column position, ``Decimal`` of the amount, ``date`` of the
  due date and a set test of the status per row: what any planner pays to look at a row;
- ``dictfloor``: the same with ``csv.DictReader`` (a dict per row);
- ``validate``: ``read_feed(...).select()`` wanting no row: every row checked as a plan
  checks it, no value built;
- ``read``: ``remindkit.feed.read_feed`` alone: every row validated into an ``Installment``;
- ``plan``: ``Planner.plan``, the whole plan held in memory (``remindkit plan``);
- ``stream``: ``Planner.stream`` consumed message by message (what an outbox does);
- ``naive``: every row in memory, grouped in a dict, every step of every installment
  checked against every day with no caching (off by default: ~0.9 GB per million rows).

Every plan variant prints its message count and an order-independent digest of the keys:
grouped and shuffled feeds must agree, and so must ``plan`` and ``stream``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import json
import os
import platform as py_platform
import random
import resource
import statistics
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
TODAY = date(2026, 12, 1)
HEADER = (
    "loan_id,installment_no,installments_total,borrower_id,name,gender,phone,push_token,"
    "amount_due,due_date,status,product,timezone,opted_out,segment,hardship"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
STATUSES = ["due"] * 70 + ["paid"] * 20 + ["plan"] * 5 + ["dispute"] * 3 + ["paused"] * 2
MOBILE_PREFIXES = ["38", "39", "86", "50", "58", "77", "88", "35"]
ZONES = ["", ""] * 45 + ["Asia/Urumqi"] * 8 + ["Asia/Hong_Kong", "America/Vancouver"]
VARIANTS = ("floor", "dictfloor", "validate", "read", "plan", "stream", "naive")
DEFAULT_VARIANTS = "floor,dictfloor,validate,read,plan,stream"
SHUFFLE_BUCKETS = 64


# --- the feeds ------------------------------------------------------------------------


def generate_grouped(path: Path, rows: int, seed: int = 20261201) -> None:
    """A mid-size lender's feed sorted by borrower: 1-5 installments each (~3), due dates
    from 60 days ago to 30 days ahead, a fifth already paid, some opt-outs, a few segments."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER.split(","))
        index, number = 0, 0
        while index < rows:
            person = _person(number)
            for _ in range(min(rng.randint(1, 5), rows - index)):
                writer.writerow(_row(index, person, rng))
                index += 1
            number += 1


def _person(number: int) -> list[str]:
    """borrower_id, name, gender, phone, push_token, timezone, opted_out: one borrower's."""
    rng = random.Random(number)
    return [
        f"B{number:08d}",
        rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        rng.choice(["male", "female", ""]),
        f"1{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}",
        f"tok{number}" if rng.random() < 0.6 else "",
        rng.choice(ZONES),
        "sms" if rng.random() < 0.05 else "",
    ]


def _row(index: int, person: list[str], rng: random.Random) -> list[object]:
    borrower_id, name, gender, phone, token, zone, opted_out = person
    due = TODAY + timedelta(days=rng.randint(-60, 30))
    return [
        f"HM{index:09d}",
        rng.randint(1, 12),
        12,
        borrower_id,
        name,
        gender,
        phone,
        token,
        f"{rng.randint(100, 500000) / 100:.2f}",
        due.isoformat(),
        rng.choice(STATUSES),
        "禾苗贷",
        zone,
        opted_out,
        rng.choice(["", "", "", "new", "prime"]),
        "true" if rng.random() < 0.03 else "",
    ]


def shuffle_lines(source: Path, target: Path, seed: int = 7) -> None:
    """A random permutation of the data lines in bounded memory: each line to a random
    bucket file, then each bucket shuffled in memory and appended."""
    rng = random.Random(seed)
    buckets = [target.with_suffix(f".{n}") for n in range(SHUFFLE_BUCKETS)]
    with source.open("rb") as lines:
        header = next(lines)
        handles = [bucket.open("wb") for bucket in buckets]
        for line in lines:
            handles[rng.randrange(SHUFFLE_BUCKETS)].write(line)
        for handle in handles:
            handle.close()
    with target.open("wb") as out:
        out.write(header)
        for bucket in buckets:
            chunk = bucket.read_bytes().splitlines(keepends=True)
            rng.shuffle(chunk)
            out.writelines(chunk)
            bucket.unlink()


# --- the variants, each run in a child process -----------------------------------------


def run_floor(feed: Path, _days: int) -> dict[str, Any]:
    from decimal import Decimal

    remindable = {"due", "plan"}
    rows = kept = 0
    with feed.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        amount, due, status = (header.index(n) for n in ("amount_due", "due_date", "status"))
        for values in reader:
            rows += 1
            Decimal(values[amount])
            date.fromisoformat(values[due])
            kept += values[status] in remindable
    return {"rows": rows, "remindable": kept}


def run_dictfloor(feed: Path, _days: int) -> dict[str, Any]:
    from decimal import Decimal

    remindable = {"due", "plan"}
    rows = kept = 0
    with feed.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows += 1
            Decimal(row["amount_due"])
            date.fromisoformat(row["due_date"])
            kept += row["status"] in remindable
    return {"rows": rows, "remindable": kept}


def run_validate(feed: Path, _days: int) -> dict[str, Any]:
    from remindkit.feed import read_feed

    rows = read_feed(feed).select(lambda *_: False)  # every row checked, no value built
    return {"rejected": sum(1 for _ in rows)}


def run_read(feed: Path, _days: int) -> dict[str, Any]:
    from remindkit.feed import read_feed

    return {"rows": sum(1 for _ in read_feed(feed))}


def _planner() -> Any:
    from remindkit.config import default_settings
    from remindkit.plan import Planner
    from remindkit.render import TemplateCatalog, shipped_templates_dir

    return Planner(default_settings(), catalog=TemplateCatalog(shipped_templates_dir()))


def run_plan(feed: Path, days: int) -> dict[str, Any]:
    from remindkit.feed import read_feed

    result = _planner().plan(read_feed(feed), at=datetime.fromisoformat(AT), days=days)
    figures = _summary(result.messages)
    return figures | {"rejected": len(result.rejected_rows)}


def run_stream(feed: Path, days: int) -> dict[str, Any]:
    from remindkit.feed import read_feed

    with _planner().stream(read_feed(feed), at=datetime.fromisoformat(AT), days=days) as stream:
        figures = _summary(stream)
    return figures | {"rejected": len(stream.rejected_rows), "spilled": stream.spilled_rows}


def _summary(messages: Any) -> dict[str, Any]:
    count = planned = digest = 0
    for message in messages:
        count += 1
        planned += message.planned
        digest ^= int.from_bytes(hashlib.blake2b(message.key.encode(), digest_size=8).digest())
    return {"messages": count, "planned": planned, "keys": f"{digest:016x}"}


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


RUNNERS = {
    "floor": run_floor,
    "dictfloor": run_dictfloor,
    "validate": run_validate,
    "read": run_read,
    "plan": run_plan,
    "stream": run_stream,
    "naive": run_naive,
}


# What each variant imports, done before its clock starts (the times are "after imports").
IMPORTS = {
    "validate": ("remindkit.feed",),
    "read": ("remindkit.feed",),
    "plan": ("remindkit.feed", "remindkit.plan", "remindkit.config", "remindkit.render"),
    "stream": ("remindkit.feed", "remindkit.plan", "remindkit.config", "remindkit.render"),
    "naive": ("remindkit.feed", "remindkit.plan", "remindkit.config", "remindkit.render"),
}


def child(variant: str, feed: Path, days: int) -> None:
    for module in IMPORTS.get(variant, ()):
        importlib.import_module(module)
    wall, cpu = time.perf_counter(), time.process_time()
    figures = RUNNERS[variant](feed, days)
    figures["cpu"] = time.process_time() - cpu
    figures["wall"] = time.perf_counter() - wall
    figures["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(figures))


def measure(variant: str, feed: Path, days: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", variant, "--feed", str(feed)]
    output = subprocess.run(
        [*command, "--days", str(days)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


# --- the report -------------------------------------------------------------------------


def interleaved(variants: list[str], feed: Path, days: int, rounds: int) -> list[dict[str, Any]]:
    """Every variant once per round, the order rotated each round."""
    results: list[dict[str, Any]] = []
    for number in range(rounds):
        shift = number % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            results.append({"variant": variant, "round": number} | measure(variant, feed, days))
            if sys.stderr.isatty():
                print(".", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return results


def report(order: str, rows: int, results: list[dict[str, Any]], loads: list[float]) -> None:
    variants = list(dict.fromkeys(r["variant"] for r in results))
    floors = {r["round"]: r["cpu"] for r in results if r["variant"] == "floor"}
    print(f"\n{order} feed, {rows:,} rows; load average {min(loads):.2f}–{max(loads):.2f}")
    print(
        f"{'variant':<10}{'CPU s min':>10}{'median':>8}{'wall s min':>11}{'median':>8}"
        f"{'µs/row':>8}{'× floor':>12}{'peak RSS MB':>12}  result"
    )
    for variant in variants:
        runs = [r for r in results if r["variant"] == variant]
        cpu = [r["cpu"] for r in runs]
        wall = [r["wall"] for r in runs]
        ratios = [r["cpu"] / floors[r["round"]] for r in runs if r["round"] in floors]
        ratio = f"{min(ratios):.2f}–{statistics.median(ratios):.2f}" if ratios else "—"
        rss = max(r["rss"] for r in runs)
        print(
            f"{variant:<10}{min(cpu):>10.2f}{statistics.median(cpu):>8.2f}{min(wall):>11.2f}"
            f"{statistics.median(wall):>8.2f}{1e6 * statistics.median(cpu) / rows:>8.2f}"
            f"{ratio:>12}{rss:>12.0f}  {_result(runs[0])}"
        )


def _result(figures: dict[str, Any]) -> str:
    keys = ("messages", "planned", "rejected", "spilled", "keys")
    return " ".join(
        f"{key}={figures[key]:,}" if isinstance(figures[key], int) else f"{key}={figures[key]}"
        for key in keys
        if key in figures
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated")
    parser.add_argument("--orders", default="grouped,shuffled", help="grouped, shuffled or both")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--feed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.feed, args.days)
        return
    variants = args.variants.split(",")
    print(
        f"remindkit plan benchmark · Python {py_platform.python_version()} · "
        f"{os.cpu_count()} CPUs · --at {AT} --days {args.days} · {args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory(prefix="remindkit-bench-") as scratch:
        grouped = Path(scratch) / "grouped.csv"
        started = time.perf_counter()
        generate_grouped(grouped, args.rows)
        feeds = {"grouped": grouped}
        if "shuffled" in args.orders:
            feeds["shuffled"] = Path(scratch) / "shuffled.csv"
            shuffle_lines(grouped, feeds["shuffled"])
        size = grouped.stat().st_size / 2**20
        print(f"generated {args.rows:,} rows ({size:,.0f} MiB a feed) in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        for order in args.orders.split(","):
            loads = [os.getloadavg()[0]]
            results = interleaved(variants, feeds[order], args.days, args.rounds)
            loads.append(os.getloadavg()[0])
            report(order, args.rows, results, loads)


if __name__ == "__main__":
    main()
