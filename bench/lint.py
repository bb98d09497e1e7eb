"""Benchmark ``remindkit lint`` and the command line's start-up (targets: ``lint templates/``
under 2 s; ``remindkit --version`` ≤ 150 ms and ``remindkit lint FILE`` ≤ 400 ms, as the
pre-commit hook and cron run them).

    .venv/bin/python bench/lint.py            # 9 runs of each, interleaved
    .venv/bin/python bench/lint.py --runs 15

Each command is a process of its own, as a user runs it; the commands take turns run by
run, and each figure is the min and median wall time:

- ``python -c pass`` and ``import typer, jinja2, pydantic, babel.dates``: the floors, the
  interpreter alone and the libraries any linting command needs;
- ``every library a lint loads``: those plus phonenumbers, PyYAML, OpenCC, rich, Babel's
  zh_CN data and a first pydantic model class (pydantic's lazily imported model
  machinery): the floor of ``lint FILE``, which loads all of them;
- ``remindkit --version``: the command line's own start-up (no command module loaded);
- ``remindkit lint FILE``: one template checked over every sample and worst case;
- ``remindkit lint templates/``: every shipped template;
- ``in-process``: ``lint_report`` on the shipped set in an already started interpreter
  (the linting itself: static checks, text rules, renderings over samples and worst
  cases), with the number of templates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("remindkit")


FILE = "templates/zh_CN/pre_due/sms.j2"
LIBRARIES = "import typer, jinja2, pydantic, babel.dates"
# Every library a lint of one file loads, with pydantic's model machinery (a first model
# class) and Babel's zh_CN data: what no lint can start faster than.
LINT_LIBRARIES = (
    "import typer, jinja2.sandbox, pydantic, babel.dates, babel.numbers, phonenumbers, yaml,"
    " opencc, rich.console, tomllib; babel.Locale.parse('zh_CN').decimal_formats;"
    " type('M', (pydantic.BaseModel,), {'__annotations__': {'x': int}})"
)
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    f"python -c '{LIBRARIES}'": [sys.executable, "-c", LIBRARIES],
    "python -c 'every library a lint loads'": [sys.executable, "-c", LINT_LIBRARIES],
    "remindkit --version": [str(EXE), "--version"],
    f"remindkit lint {FILE}": [str(EXE), "lint", FILE],
    "remindkit lint templates/": [str(EXE), "lint", "templates/"],
}
TARGETS = {"remindkit --version": 0.150, f"remindkit lint {FILE}": 0.400}


def walls(runs: int) -> dict[str, list[float]]:
    """Each command's wall times, the commands taking turns (one warm-up round first)."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for round_number in range(runs + 1):
        for name, args in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(args, cwd=ROOT, check=False, capture_output=True)
            if round_number:
                times[name].append(time.perf_counter() - start)
    return times


def in_process(runs: int) -> tuple[float, int]:
    from remindkit.lint import lint_report

    samples = ROOT / "config" / "samples"
    lint_report(ROOT / "templates", samples_dir=samples)  # warm the lexicon and OpenCC
    times = []
    templates = 0
    for _ in range(runs):
        start = time.perf_counter()
        report = lint_report(ROOT / "templates", samples_dir=samples)
        times.append(time.perf_counter() - start)
        templates = report.templates
    return statistics.median(times), templates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    load = os.getloadavg()[0]
    times = walls(runs)
    seconds, templates = in_process(runs)
    print(f"remindkit lint start-up · {runs} runs of each, interleaved · load average {load:.2f}")
    print(f"{'command':64} {'min ms':>8} {'median ms':>10} {'target ms':>10}")
    for name, values in times.items():
        target = f"{TARGETS[name] * 1000:.0f}" if name in TARGETS else ""
        print(
            f"{name:64} {min(values) * 1000:8.0f} {statistics.median(values) * 1000:10.0f}"
            f" {target:>10}"
        )
    print(f"in-process: lint_report, {templates} templates: {seconds * 1000:.0f} ms (median)")


if __name__ == "__main__":
    main()
