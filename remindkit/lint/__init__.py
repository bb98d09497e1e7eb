"""Template linting (SPEC §9): forbidden language, PII, length, missing elements and more.

::

    from remindkit.lint import lint
    findings = lint(["templates"])              # list[Finding], explained warnings marked
    report = lint_report(["templates"])         # counts and the SPEC §9 JSON shape
    lint_text("请加微信还款")                     # the text rules on a draft line

Rule ids and their definitions: ``docs/lint-rules.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from remindkit.errors import InputError
from remindkit.lint.contexts import Sample, WorstCase
from remindkit.lint.engine import LintSetup, lint_paths, lint_text
from remindkit.lint.findings import RULE_IDS, Finding, LintReport, Rule, Severity
from remindkit.models import Platform
from remindkit.resources import sample_platform

__all__ = [
    "RULE_IDS",
    "Finding",
    "LintReport",
    "Rule",
    "Sample",
    "Severity",
    "WorstCase",
    "default_samples_dir",
    "lint",
    "lint_report",
    "lint_text",
]


def default_samples_dir() -> Path | None:
    """``config/samples`` in the working directory, else the shipped samples, else none."""
    local = Path("config/samples")
    if local.is_dir():
        return local
    from remindkit.resources import shipped_samples_dir  # noqa: PLC0415 - only when needed

    try:
        return shipped_samples_dir()
    except FileNotFoundError:
        return None


def lint_report(
    paths: Iterable[Path | str] | Path | str,
    *,
    platform: Platform | None = None,
    samples_dir: Path | None = None,
    worst_case: WorstCase | None = None,
) -> LintReport:
    """Lint template files or directories (a template root, a locale dir, or ``.j2`` files).

    ``platform`` signs the SMS (default: the fictional sample lender); ``samples_dir``
    holds the preview contexts rendered for every template (default:
    :func:`default_samples_dir`); ``worst_case`` declares the maximum variable lengths.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    targets = [Path(p) for p in paths]
    for target in targets:
        if not target.exists():
            raise InputError(f"{target}: no such file or directory")
    setup = LintSetup.create(
        platform or sample_platform(),
        samples_dir if samples_dir is not None else default_samples_dir(),
        worst_case,
    )
    return lint_paths(targets, setup)


def lint(
    paths: Iterable[Path | str] | Path | str,
    *,
    platform: Platform | None = None,
    samples_dir: Path | None = None,
    worst_case: WorstCase | None = None,
) -> list[Finding]:
    """Every finding, sorted by template and line; explained warnings have ``explained`` set."""
    report = lint_report(paths, platform=platform, samples_dir=samples_dir, worst_case=worst_case)
    return sorted([*report.findings, *report.explained], key=Finding.sort_key)
