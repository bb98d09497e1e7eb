"""``remindkit lint [PATH]...``: check templates before they reach a borrower (SPEC §9).

Exit 0 when there is no error (warnings allowed), 1 when any error, 2 on usage or config
errors. ``--format json`` prints SPEC §9's shape on stdout alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    ConfigOption,
    FormatOption,
    OutputFormat,
    TemplatesOption,
    fail,
    load_cli_settings,
    print_json,
    resolve_templates_dir,
    stdout,
)
from remindkit.lint import Finding, LintReport, default_samples_dir, lint_report
from remindkit.lint.files import SUFFIX

_SEVERITY_LABEL = {"error": "[bold red]错误[/]", "warning": "[yellow]警告[/]"}


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
    report = lint_report(
        targets,
        platform=settings.platform.to_platform(),
        samples_dir=samples if samples is not None else default_samples_dir(),
    )
    if report.templates == 0:
        fail(f"no .j2 template files under {', '.join(str(t) for t in targets)}")
    if output is OutputFormat.JSON:
        print_json(report.to_json(show_explained=show_explained))
    else:
        _print_text(report, show_explained=show_explained)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _print_text(report: LintReport, *, show_explained: bool) -> None:
    shown = [*report.findings, *(report.explained if show_explained else ())]
    shown.sort(key=Finding.sort_key)
    current = None
    for finding in shown:
        if finding.template_id != current:
            current = finding.template_id
            stdout.print(f"\n[bold]{escape(current)}[/]")
        stdout.print(_row(finding))
    stdout.print()
    stdout.print(_summary(report, show_explained=show_explained))


def _row(finding: Finding) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", min_width=6, no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, style="cyan")
    grid.add_column(overflow="fold")
    where = f"{finding.line} 行" if finding.line else "配置"
    label = "[dim]已说明[/]" if finding.explained else _SEVERITY_LABEL[finding.severity.value]
    message = escape(finding.message)
    if finding.explained:
        message += f"\n[dim]理由：{escape(finding.explained)}[/]"
    grid.add_row(where, label, finding.rule.value, message)
    return grid


def _summary(report: LintReport, *, show_explained: bool) -> str:
    colour = "red" if report.errors else ("yellow" if report.warnings else "green")
    text = (
        f"[bold {colour}]检查了 {report.templates} 个模板："
        f"{report.errors} 个错误，{report.warnings} 个警告[/]"
    )
    if report.explained:
        text += f"（另有 {len(report.explained)} 条警告已在模板元数据中说明理由"
        text += "）" if show_explained else "，加 --show-explained 查看）"
    return text
