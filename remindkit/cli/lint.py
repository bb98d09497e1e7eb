"""``remindkit lint [PATH]...``: check templates before they reach a borrower (SPEC §9).

Exit 0 when there is no error (warnings allowed), 1 when any error, 2 on usage or config
errors. ``--format json`` prints SPEC §9's shape on stdout alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    ConfigOption,
    FormatOption,
    OutputFormat,
    TemplatesOption,
    fail,
    load_cli_settings,
    note_sample_platform,
    preview_platform,
    print_json,
    resolve_templates_dir,
    stdout,
)
from remindkit.cli.output import Cell, grid, paragraph, print_line, print_lines
from remindkit.lint import Finding, LintReport, default_samples_dir, lint_report
from remindkit.lint.files import SUFFIX

_SEVERITY_LABEL = {"error": ("错误", "bold red"), "warning": ("警告", "yellow")}


@app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Template root, locale directory or .j2 files (default: the templates dir).",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option(
            "--samples",
            help="Sample contexts rendered for every template (default: config/samples).",
            file_okay=False,
        ),
    ] = None,
    show_explained: Annotated[
        bool,
        typer.Option(
            "--show-explained",
            help="Also list warnings the templates explain in their metadata (lint: {rule: why}).",
        ),
    ] = False,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Lint templates: forbidden language, PII, SMS length, missing elements, tone and more."""
    settings = load_cli_settings(config)
    targets = paths or [resolve_templates_dir(templates, settings)]
    for target in targets:
        if not target.exists():
            fail(f"{target}: no such file or directory")
        if target.is_file() and target.suffix != SUFFIX:
            fail(f"{target}: not a template (.j2) file")
    if samples is not None and not samples.is_dir():
        fail(f"--samples: {samples} is not a directory")
    platform = preview_platform(settings)
    report = lint_report(
        targets,
        platform=platform,
        samples_dir=samples if samples is not None else default_samples_dir(),
    )
    if report.templates == 0:
        fail(f"no .j2 template files under {', '.join(str(t) for t in targets)}")
    if output is OutputFormat.JSON:
        print_json(report.to_json(show_explained=show_explained))
    else:
        _print_text(report, platform.signature, show_explained=show_explained)
    note_sample_platform(settings)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _print_text(report: LintReport, signature: str, *, show_explained: bool) -> None:
    shown = [*report.findings, *(report.explained if show_explained else ())]
    shown.sort(key=Finding.sort_key)
    for template_id in dict.fromkeys(finding.template_id for finding in shown):
        print_line("")
        print_line(Text(template_id, style="bold"))
        rows = [_row(finding) for finding in shown if finding.template_id == template_id]
        print_lines(grid(("位置", "级别", "规则", "说明"), rows, width=stdout.width, indent=2))
    if report.lengths:
        _print_lengths(report, signature)
    print_line("")
    paragraph(_summary(report, show_explained=show_explained), style=_colour(report))


def _print_lengths(report: LintReport, signature: str) -> None:
    """Each SMS template's worst case with this signature, and the room left before one
    more part: a longer product name or signature eats into it."""
    print_line("")
    paragraph(
        f"短信最长情形（含签名【{signature}】，按 70 字一条、分条时 67 字一条）：", style="bold"
    )
    rows: list[list[str | Cell]] = []
    for length in report.lengths:
        tight = length.margin < 0 or length.parts > length.max_parts
        rows.append(
            [
                length.template_id,
                f"{length.chars} 字",
                f"{length.parts}/{length.max_parts} 条",
                Cell(f"余 {length.margin} 字", "red" if tight else ""),
            ]
        )
    print_lines(grid(("模板", "最长", "条数/允许", "余量"), rows, width=stdout.width, indent=2))


def _row(finding: Finding) -> list[str | Cell]:
    where = f"第 {finding.line} 行" if finding.line else "配置"
    if finding.explained:
        label = Cell("已说明", "dim")
        message = f"{finding.message}\n理由：{finding.explained}"
    else:
        label = Cell(*_SEVERITY_LABEL[finding.severity.value])
        message = finding.message
    return [where, label, Cell(finding.rule.value, "cyan"), message]


def _colour(report: LintReport) -> str:
    return "bold " + ("red" if report.errors else ("yellow" if report.warnings else "green"))


def _summary(report: LintReport, *, show_explained: bool) -> str:
    text = f"检查了 {report.templates} 个模板：{report.errors} 个错误，{report.warnings} 个警告"
    if report.explained:
        text += f"（另有 {len(report.explained)} 条警告已在模板元数据中说明理由"
        text += "）" if show_explained else "，加 --show-explained 查看）"
    return text + "。"
