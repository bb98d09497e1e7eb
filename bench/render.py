"""Benchmark SMS rendering beside the sandbox floor (SPEC §10, issue 14).

    .venv/bin/python bench/render.py                      # 5 rounds, 100,000 borrowers
    .venv/bin/python bench/render.py --rounds 9 --batch 20000
    .venv/bin/python bench/render.py --profile cold       # cProfile of one case

One process, so one core. Each remindkit render is the whole ``Renderer.render_file`` call:
the template variables built from the installments (``borrower``, ``loan``, ``loans``…),
the sandboxed template run with its budgets, whitespace collapsed, the signature added and
the SMS length measured.

The **floor** of each case is Jinja2's own ``SandboxedEnvironment`` running the same
template source with the same filters, compiled once, on variables built beforehand:
what any sandboxed renderer pays. Cases and floors are interleaved round by round; each
figure is the min and median over the rounds, and the ratio is taken within each round.

Cases (contexts: synthetic borrowers with compound surnames, Shanghai and Urumqi zones,
amounts to the fen, due dates from 40 days ago to a week ahead, one in ten consolidating
two or three installments):

- ``shipped``: every shipped SMS template (variants included) in turn, over 1,000 contexts
  repeated (warm) and over ``--borrowers`` distinct borrowers, each rendered once (cold);
- ``filters, warm``: a template on the costly filters (yuan, rmb_upper, cn_date,
  cn_weekday, relative_day, mask_phone), 1,000 contexts repeated: caches stay warm;
- ``filters, cold``: the same over ``--borrowers`` distinct borrowers (default 100,000),
  each rendered once: nearly every amount is new to the filter caches, as in a real run.
  The floor renders other borrowers of the same set, so its caches are as cold;
- ``plain, cold``: the same sentence with plain variables only, distinct borrowers.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform as py_platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import cycle, islice
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from remindkit.models import Borrower, Gender, Installment
from remindkit.render import MessageContext, Renderer, TemplateCatalog, shipped_templates_dir
from remindkit.render.catalog import TemplateFile
from remindkit.render.filters import FILTERS
from remindkit.testing import demo_platform

PROFILED = ["shipped", "shipped-cold", "warm", "cold", "plain"]  # the cases, in order
TARGET_COLD = 40_000  # issue 14; SPEC §10 asks ≥ 20,000/s
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
SURNAMES = ["王", "李", "张", "刘", "陈", "欧阳", "司马", "诸葛", "上官", "马", "赵", "黄"]
GIVEN = ["芳", "伟", "娜娜", "建国", "明远", "婉儿", "静", "强", "秀英", "子涵"]
META = """{#-
description: benchmark template
tone: gentle
max_parts: 2
parts_reason: benchmark
-#}
"""
FILTERS_BODY = """{{ borrower.honorific }}您好，
您尾号{{ loan.tail }}的借款应于{{ loan.due_date|cn_date }}（{{ loan.due_date|cn_weekday }}，
{{ loan.due_date|relative_day }}）还款{{ loan.amount_due|yuan }}
（{{ loan.amount_due|rmb_upper }}），预留手机{{ borrower.phone|mask_phone }}。
可在{{ platform.app_name }}还款，如已还款请忽略。
"""
PLAIN_BODY = """{{ borrower.honorific }}您好，
您尾号{{ loan.tail }}的借款应于{{ loan.due_date }}（{{ loan.installment_no }}，
{{ loan.days_past_due }}）还款{{ loan.amount_due }}（{{ loan.installments_total }}），
预留手机{{ platform.hotline }}。
可在{{ platform.app_name }}还款，如已还款请忽略。
"""


def contexts(count: int, seed: int) -> list[MessageContext]:
    rng = random.Random(seed)
    result = []
    for number in range(count):
        borrower = Borrower(
            id=f"B{number:07d}",
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            gender=rng.choice([Gender.MALE, Gender.FEMALE, Gender.UNKNOWN]),
            phone=f"+861{rng.choice('3578')}{rng.randrange(10**9):09d}",
            timezone="Asia/Urumqi" if rng.random() < 0.1 else "Asia/Shanghai",
        )
        due = NOW.date() + timedelta(days=rng.randint(-40, 7))
        parts = rng.choice([2, 3]) if rng.random() < 0.1 else 1
        installments = tuple(
            Installment(
                loan_id=f"HM{rng.randrange(10**10):010d}",
                installment_no=rng.randint(1, 12),
                installments_total=12,
                borrower=borrower,
                amount_due=Decimal(rng.randint(5_000, 2_000_000)) / 100,
                due_date=due,
                product=rng.choice(["禾苗贷", "安心分期", None]),
            )
            for _ in range(parts)
        )
        result.append(MessageContext(installments=installments, now=NOW))
    return result


@dataclass
class Case:
    """A remindkit render and its floor, each taking ``n`` more jobs from its own supply."""

    label: str
    remindkit: Callable[[int], None]
    floor: Callable[[int], None]


def make_case(
    label: str,
    renderer: Renderer,
    files: list[TemplateFile],
    ctxs: list[MessageContext],
    cold: bool,
) -> Case:
    floor_env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    floor_env.filters.update(FILTERS)
    compiled = [floor_env.from_string(file.source) for file in files]
    jobs = [(i % len(files), ctx) for i, ctx in enumerate(ctxs)]
    # Cold: remindkit takes the first half of the borrowers, the floor the second, so
    # neither warms a cache for the other. Warm: both cycle over the same contexts.
    half = len(jobs) // 2
    mine = iter(jobs[:half]) if cold else cycle(jobs)
    theirs_jobs = jobs[half:] if cold else jobs
    # The floor's variables are built beforehand (with remindkit's own builder): the floor
    # is the sandboxed run alone.
    prepared = iter([(index, renderer.variables(ctx)) for index, ctx in theirs_jobs])
    floor_jobs = prepared if cold else cycle(list(prepared))

    def run_remindkit(n: int) -> None:
        for index, ctx in islice(mine, n):
            renderer.render_file(files[index], ctx)

    def run_floor(n: int) -> None:
        for index, variables in islice(floor_jobs, n):
            compiled[index].render(variables)

    return Case(label, run_remindkit, run_floor)


def write_templates(root: Path) -> dict[str, Path]:
    roots = {}
    for name, body in (("filters", FILTERS_BODY), ("plain", PLAIN_BODY)):
        path = root / name / "zh_CN" / "pre_due" / "sms.j2"
        path.parent.mkdir(parents=True)
        path.write_text(META + body, encoding="utf-8")
        roots[name] = root / name
    return roots


def build_cases(scratch: Path, borrowers: int) -> list[Case]:
    platform = demo_platform()
    roots = write_templates(scratch)
    shipped = Renderer(TemplateCatalog(shipped_templates_dir()), platform)
    sms = [
        shipped.catalog.get(tid)
        for tid in shipped.catalog.ids()
        if tid.split("/", 1)[1].startswith("sms")
    ]
    warm = contexts(1000, seed=20261201)
    cold = contexts(borrowers, seed=7)
    single = {name: Renderer(TemplateCatalog(root), platform) for name, root in roots.items()}
    one = {name: [r.catalog.get("pre_due/sms")] for name, r in single.items()}
    return [
        make_case(f"shipped SMS templates ({len(sms)}), warm", shipped, sms, warm, False),
        make_case(f"shipped SMS templates, cold ({borrowers:,})", shipped, sms, cold, True),
        make_case("filters, warm (1,000 contexts)", single["filters"], one["filters"], warm, False),
        make_case(f"filters, cold ({borrowers:,})", single["filters"], one["filters"], cold, True),
        make_case(f"plain, cold ({borrowers:,})", single["plain"], one["plain"], cold, True),
    ]  # fmt: skip


def timed(work: Callable[[int], None], batch: int) -> float:
    """Renders per second of CPU for one batch."""
    started = time.process_time()
    work(batch)
    return batch / (time.process_time() - started)


def measure(cases: list[Case], rounds: int, batch: int) -> dict[str, list[tuple[float, float]]]:
    for case in cases:  # warm up: compile, first look-ups
        case.remindkit(200)
        case.floor(200)
    rates: dict[str, list[tuple[float, float]]] = {case.label: [] for case in cases}
    for number in range(rounds):
        order = cases[number % len(cases) :] + cases[: number % len(cases)]
        for case in order:
            if number % 2:  # which of the two goes first alternates
                floor = timed(case.floor, batch)
                mine = timed(case.remindkit, batch)
            else:
                mine = timed(case.remindkit, batch)
                floor = timed(case.floor, batch)
            rates[case.label].append((mine, floor))
    return rates


def report(rates: dict[str, list[tuple[float, float]]], loads: tuple[float, float]) -> None:
    print(f"load average {loads[0]:.2f} → {loads[1]:.2f}\n")
    print(f"{'case':<40}{'renders/s min':>14}{'median':>9}{'µs':>7}"
          f"{'floor/s median':>16}{'× floor':>13}")  # fmt: skip
    for label, pairs in rates.items():
        mine = [pair[0] for pair in pairs]
        ratios = sorted(pair[1] / pair[0] for pair in pairs)  # remindkit time ÷ floor time
        median = statistics.median(mine)
        print(
            f"{label:<40}{min(mine):>14,.0f}{median:>9,.0f}{1e6 / median:>7.1f}"
            f"{statistics.median(pair[1] for pair in pairs):>16,.0f}"
            f"{ratios[0]:>6.2f}–{statistics.median(ratios):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=10_000, help="renders per measurement")
    parser.add_argument("--borrowers", type=int, default=100_000)
    parser.add_argument("--profile", choices=PROFILED)
    args = parser.parse_args()
    # Cold cases need a fresh borrower per render: both halves must last every round.
    borrowers = max(args.borrowers, 2 * (args.rounds * args.batch + 200))
    with tempfile.TemporaryDirectory() as scratch:
        cases = build_cases(Path(scratch), borrowers)
        if args.profile:
            case = cases[PROFILED.index(args.profile)]
            case.remindkit(200)
            stats = str(Path(scratch) / "render.prof")
            cProfile.runctx("work(20000)", {}, {"work": case.remindkit}, stats)
            pstats.Stats(stats).sort_stats("tottime").print_stats(25)
            return
        before = os.getloadavg()[0]
        rates = measure(cases, args.rounds, args.batch)
        loads = (before, os.getloadavg()[0])
    print(
        f"remindkit render benchmark · Python {py_platform.python_version()} · "
        f"jinja2 {jinja2.__version__} · one process · {args.rounds} rounds × "
        f"{args.batch:,} renders · target ≥ {TARGET_COLD:,}/s cold"
    )
    report(rates, loads)


if __name__ == "__main__":
    sys.exit(main())
