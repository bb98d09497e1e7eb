"""Benchmark SMS rendering (SPEC §10: ≥ 20,000 renders/s on one core).

    .venv/bin/python bench/render.py                 # every case, ~2 s each
    .venv/bin/python bench/render.py --seconds 5
    .venv/bin/python bench/render.py --profile       # cProfile of the shipped-template case

One process, so one core. Contexts are 1,000 synthetic borrowers (names with compound
surnames, Shanghai and Urumqi zones, amounts to the fen, due dates from 40 days ago to a
week ahead, one in ten with several installments consolidated). Each render is
the whole ``Renderer.render`` call: variables built from the installments, the sandboxed
template run, whitespace collapsed, the signature added and the SMS length measured.

Cases:

- ``shipped``: every shipped SMS template (variants included) in turn;
- ``filters``: one template leaning on the costly filters (yuan, rmb_upper, cn_date,
  cn_weekday, relative_day, mask_phone);
- ``filters, caches cold``: the same over 100,000 borrowers, so nearly every amount is new
  to the filter caches (a large feed's amounts rarely repeat);
- ``plain``: the same sentence with plain variables only;
- ``naive``: what a first implementation would do for the ``filters`` template — a new
  ``jinja2.Environment()`` per message, ``from_string`` on the source, the same filters
  registered, rendered with the same variables, nothing cached.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform as py_platform
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import cycle, islice
from pathlib import Path

import jinja2

from remindkit.models import Borrower, Gender, Installment
from remindkit.render import (
    MessageContext,
    Renderer,
    TemplateCatalog,
    collapse_whitespace,
    measure_sms,
    shipped_templates_dir,
)
from remindkit.render.filters import FILTERS
from remindkit.testing import demo_platform

TARGET = 20_000
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
PLATFORM = demo_platform()
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


def contexts(count: int = 1000, seed: int = 20261201) -> list[MessageContext]:
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


def timed(work: Callable[[int], None], seconds: float) -> float:
    """Renders per second: the best of three runs of about ``seconds / 3`` each."""
    work(200)  # warm up: compile, fill caches
    batch, best = 1000, 0.0
    for _ in range(3):
        started = time.perf_counter()
        done = 0
        while time.perf_counter() - started < seconds / 3:
            work(batch)
            done += batch
        best = max(best, done / (time.perf_counter() - started))
    return best


def shipped_case(ctxs: list[MessageContext]) -> Callable[[int], None]:
    renderer = Renderer(TemplateCatalog(shipped_templates_dir()), PLATFORM)
    files = [
        renderer.catalog.get(tid)
        for tid in renderer.catalog.ids()
        if tid.split("/", 1)[1].startswith("sms")
    ]
    jobs = cycle([(files[i % len(files)], ctx) for i, ctx in enumerate(ctxs)])

    def work(n: int) -> None:
        for file, ctx in islice(jobs, n):
            renderer.render_file(file, ctx)

    return work


def single_case(root: Path, ctxs: list[MessageContext]) -> Callable[[int], None]:
    renderer = Renderer(TemplateCatalog(root), PLATFORM)
    each = cycle(ctxs)  # carries on across batches: the cold case must not restart

    def work(n: int) -> None:
        for ctx in islice(each, n):
            renderer.render("pre_due/sms", ctx)

    return work


def naive_case(source: str, ctxs: list[MessageContext]) -> Callable[[int], None]:
    renderer = Renderer(TemplateCatalog(Path()), PLATFORM)  # only for its variables()
    each = cycle(ctxs)

    def work(n: int) -> None:
        for ctx in islice(each, n):
            env = jinja2.Environment(undefined=jinja2.StrictUndefined)
            env.filters.update(FILTERS)
            body = env.from_string(source).render(renderer.variables(ctx))
            measure_sms(renderer.with_signature(collapse_whitespace(body)))

    return work


def write_templates(root: Path) -> tuple[Path, Path]:
    for name, body in (("filters", FILTERS_BODY), ("plain", PLAIN_BODY)):
        path = root / name / "zh_CN" / "pre_due" / "sms.j2"
        path.parent.mkdir(parents=True)
        path.write_text(META + body, encoding="utf-8")
    return root / "filters", root / "plain"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per case")
    parser.add_argument("--profile", action="store_true", help="cProfile the shipped case")
    args = parser.parse_args()
    ctxs = contexts()
    many = contexts(100_000, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        filters_root, plain_root = write_templates(Path(tmp))
        if args.profile:
            work = shipped_case(ctxs)
            work(200)
            stats = str(Path(tmp) / "render.prof")
            cProfile.runctx("work(20000)", globals(), {"work": work}, stats)
            pstats.Stats(stats).sort_stats("tottime").print_stats(25)
            return
        cases = [
            ("shipped SMS templates (all 8, mixed)", shipped_case(ctxs)),
            ("filters: yuan rmb_upper cn_date …", single_case(filters_root, ctxs)),
            ("filters, caches cold (100k borrowers)", single_case(filters_root, many)),
            ("plain variables only", single_case(plain_root, ctxs)),
            ("naive: Environment()+from_string per msg", naive_case(META + FILTERS_BODY, ctxs)),
        ]
        rates = [(label, timed(work, args.seconds)) for label, work in cases]
    naive = rates[-1][1]
    print(
        f"remindkit render benchmark · Python {py_platform.python_version()} · "
        f"jinja2 {jinja2.__version__} · one process · load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{len(ctxs)} borrower contexts (10% consolidated), target ≥ {TARGET:,}/s\n")
    print(f"{'case':<44}{'renders/s':>11}{'µs/render':>11}{'vs naive':>10}{'target':>8}")
    for label, rate in rates:
        verdict = "ok" if rate >= TARGET else "below"
        print(f"{label:<44}{rate:>11,.0f}{1e6 / rate:>11.1f}{rate / naive:>9.1f}×{verdict:>8}")


if __name__ == "__main__":
    sys.exit(main())
