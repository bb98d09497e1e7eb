"""``remindkit report``: which wording helps borrowers repay, with honest intervals.

Text for people is Chinese (ids, template ids and states as they are), laid out by
:mod:`remindkit.cli.output`; ``--format json`` prints the whole report; ``--format html`` a
self-contained page with the repayment curves (the ``report`` extra, matplotlib).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    AtOption,
    ConfigOption,
    StoreOption,
    fail,
    open_cli_kit,
    parse_at,
    print_json,
    usage_errors,
)
from remindkit.cli.output import Cell as Shown
from remindkit.cli.output import grid, paragraph, print_lines, stdout
from remindkit.clock import SystemClock
from remindkit.report import DEFAULT_WINDOWS, Report, build_report
from remindkit.report.model import Cell, StageTotal, WindowRate

CURVE_DAYS_MIN = 14


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}")


def parse_windows(value: str) -> tuple[int, ...]:
    """``3d,7d`` (or ``3,7``) → (3, 7); anything else exits 2 naming the bad part."""
    days: list[int] = []
    for part in value.split(","):
        text = part.strip().lower().removesuffix("d")
        if not text.isascii() or not text.isdigit():
            fail(f"--within: {part.strip()!r} is not a number of days such as 7d")
        days.append(int(text))
    return tuple(days)


@app.command("report")
def report_command(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Installments first reminded on or after this day."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="… and on or before this day (YYYY-MM-DD, borrower-local)."),
    ] = None,
    within: Annotated[
        str,
        typer.Option("--within", help="Repayment windows after the first message of a stage."),
    ] = ",".join(f"{days}d" for days in DEFAULT_WINDOWS),
    at: AtOption = None,
    config: ConfigOption = None,
    store: StoreOption = None,
    output: Annotated[
        ReportFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
    ] = ReportFormat.TEXT,
) -> None:
    """Repayment after reminders, per stage, channel and template variant, with intervals."""
    first, last = parse_day(since, "--since"), parse_day(until, "--until")
    windows = parse_windows(within)
    as_of = parse_at(at) or SystemClock().now()
    render_html = _html_renderer() if output is ReportFormat.HTML else None
    kit = open_cli_kit(config, None, store)
    with kit, usage_errors():
        report = build_report(
            kit.outbox,
            as_of=as_of,
            since=first,
            until=last,
            windows=windows,
            curve_days=max(CURVE_DAYS_MIN, *windows) if render_html else 0,
        )
    if output is ReportFormat.JSON:
        print_json(report.to_json())
    elif render_html is not None:
        typer.echo(render_html(report), nl=False)
    else:
        print_text(report)


def _html_renderer() -> Callable[[Report], str]:
    try:
        from remindkit.report.html import render_html  # noqa: PLC0415 - matplotlib is heavy
    except ImportError as exc:
        fail(
            f"--format html needs the report extra ({exc.name} is missing): "
            "pip install 'remindkit[report]'"
        )
    return render_html


def _count(value: int) -> str:
    return f"{value:,}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(rate: WindowRate) -> str:
    if rate.rate is None:
        return "-"
    low, high = rate.interval.low * 100, rate.interval.high * 100
    return f"{rate.rate * 100:.1f}%（{low:.1f}–{high:.1f}%）"


def print_text(report: Report) -> None:
    width = stdout.width
    period = (
        "全部"
        if report.since is None and report.until is None
        else f"{report.since or '最早'} 至 {report.until or '今'}"
    )
    windows = "、".join(f"{days} 天" for days in report.windows)
    paragraph(
        f"还款效果报告：截至 {report.as_of.isoformat(timespec='minutes')}，首条消息日期{period}；"
        f"看首条消息后 {windows}内的还款，结论按 {report.primary_days} 天。"
    )
    if not report.cells:
        paragraph("还没有已发送的提醒：发件箱里没有 sent 状态的消息。")
        return
    if not report.receipts:
        paragraph("送达：发件箱尚无送达回执，送达数未知（-）。")
    else:
        paragraph("送达：按服务商回执计（delivered 或 read）；没有回执的消息不算送达也不算未送达。")
    _print_totals(report, width)
    for group in report.groups():
        _print_group(report, group, width)
    _print_not_counted(report, width)


def _total_row(total: StageTotal) -> list[str]:
    return [
        total.stage or "全部",
        _count(total.borrowers),
        _count(total.installments),
        _count(total.messages),
        _count(total.repaid),
        _ratio(total.messages_per_repaid),
    ]


def _print_totals(report: Report, width: int) -> None:
    stdout.print()
    paragraph("各阶段（每期还款所用消息数越少越好）：")
    headers = ("阶段", "借款人", "分期", "消息", "之后还款", "每期还款消息数")
    rows = [_total_row(total) for total in (*report.stages, report.overall)]
    print_lines(grid(headers, rows, width=width))


def _reach_row(cell: Cell) -> list[str]:
    return [
        cell.variant,
        _count(cell.borrowers),
        _count(cell.installments),
        _count(cell.messages),
        "-" if cell.delivered is None else _count(cell.delivered),
        _count(cell.paid_before),
        _count(cell.opted_out),
        _ratio(cell.messages_per_repaid),
    ]


def _print_group(report: Report, group: tuple[str, str], width: int) -> None:
    cells = report.cells_of(group)
    stdout.print()
    paragraph(f"{group[0]} · {group[1]}", style="bold")
    headers = ("变体", "借款人", "分期", "消息", "送达", "先已还款", "退订", "每期还款消息数")
    print_lines(grid(headers, [_reach_row(cell) for cell in cells], width=width, indent=2))
    rows: list[list[str | Shown]] = []
    for cell in cells:
        for rate in cell.windows:
            rows.append(
                [cell.variant, f"{rate.days} 天", _count(rate.matured), _count(rate.repaid),
                 _rate(rate)]
            )  # fmt: skip
    rate_headers = ("变体", "窗口", "已满期", "还款", "还款率（95% 区间）")
    print_lines(grid(rate_headers, rows, width=width, indent=2))
    for comparison in report.comparisons_of(group):
        paragraph(f"结论：{comparison.conclusion}", indent=2)


def _print_not_counted(report: Report, width: int) -> None:
    if not report.not_counted:
        return
    stdout.print()
    paragraph("未计入的消息（只有 sent 计入；致谢 payment_received 不是提醒）：")
    by_template: dict[str, list[str]] = {}
    for count in report.not_counted:
        template = f"{count.stage}/{count.channel}" + (
            "" if count.variant == "a" else f".{count.variant}"
        )
        by_template.setdefault(template, []).append(f"{count.state} {_count(count.messages)}")
    rows = [[template, "，".join(states)] for template, states in by_template.items()]
    lines: list[Text] = grid(("模板", "状态与条数"), rows, width=width)
    print_lines(lines)
