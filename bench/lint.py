"""Benchmark ``remindkit lint`` on the shipped templates (issue: under 2 s with start-up).

    .venv/bin/python bench/lint.py            # 5 runs of each
    .venv/bin/python bench/lint.py --runs 9

Prints, as medians:

- ``cli``: ``remindkit lint templates/`` as a user runs it, interpreter start included;
- ``cli --version``: the same executable doing nothing, i.e. start-up and imports alone;
- ``in-process``: ``lint_report`` on the shipped set in an already started interpreter
  (the linting itself: static checks, text rules, renderings over samples and worst
  cases), with the number of templates.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("remindkit")


def wall(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    cli = wall([str(EXE), "lint", "templates/"], runs)
    version = wall([str(EXE), "--version"], runs)
    seconds, templates = in_process(runs)
    print(f"cli            remindkit lint templates/   {cli:.2f} s (median of {runs})")
    print(f"cli --version  start-up and imports alone  {version:.2f} s")
    print(f"in-process     lint_report, {templates} templates   {seconds:.2f} s")


if __name__ == "__main__":
    main()
