"""``remindkit plan``: what would be sent to whom, when, on which channel — or why not.

Prints the plan and writes nothing (SPEC §9). Exit 0 when every feed row was read, 1 when
some rows were rejected (the plan of the other rows is still printed), 2 on usage or
config errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    AtOption,
    ConfigOption,
    FormatOption,
    OutputFormat,
    TemplatesOption,
    fail,
    load_cli_kit,
    note_sample_platform,
    parse_at,
    print_json,
    stderr,
    stdout,
)
from remindkit.cli.output import Cell, grid, paragraph, print_line, print_lines, warning_line
from remindkit.clock import SystemClock
from remindkit.errors import RemindkitError
from remindkit.feed import PROGRESS_EVERY, FeedFile, FeedItem, read_feed
from remindkit.plan import Plan, PlannedMessage
from remindkit.policy.horizon import MAX_DAYS

# People read the first rows; the whole plan is one --format json away.
TEXT_ROWS = 500

FeedOption = Annotated[
    Path,
    typer.Option(
        "--feed", help="Loan feed: .csv or .jsonl/.ndjson (optionally .gz).", dir_okay=False
    ),
]
DaysOption = Annotated[
    int,
    typer.Option("--days", min=1, max=MAX_DAYS, help="Plan this many borrower-local days."),
]


@app.command("plan")
def plan_command(
    feed: FeedOption,
    at: AtOption = None,
    days: DaysOption = 1,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Plan reminders for the borrower-local day of --at (default now) and the days after."""
    kit = load_cli_kit(config, templates, sample_platform=True)
    when = parse_at(at) or SystemClock().now()
    try:
        items = read_feed(feed)
        result = kit.plan(with_progress(items), at=when, days=days)
    except RemindkitError as exc:
        fail(str(exc))
    for warning in result.warnings:
        warning_line(warning)
    if output is OutputFormat.JSON:
        print_json(result.to_json())
    else:
        _print_text(result)
    note_sample_platform(kit.settings)
    if result.rejected_rows:
        raise typer.Exit(EXIT_FINDINGS)


def with_progress(items: Iterable[FeedItem]) -> Iterable[FeedItem]:
    """Show rows read on a terminal (SPEC §8); silent when stderr is a pipe or a file.

    A feed file stays one (so the planner still builds values only for the rows it wants):
    its reader reports the count as it goes.
    """
    if not stderr.is_terminal:
        return items
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    progress = Progress(*columns, console=stderr, transient=True)
    task = progress.add_task("读取数据：0 行", total=None)

    def report(count: int) -> None:
        progress.update(task, description=f"读取数据：{count:,} 行")

    progress.start()
    if isinstance(items, FeedFile):
        return items.watched(report, progress.stop)
    return _counted(items, report, progress.stop)


def _counted(
    items: Iterable[FeedItem], report: Callable[[int], None], done: Callable[[], None]
) -> Iterator[FeedItem]:
    try:
        for count, item in enumerate(items, start=1):
            if not count % PROGRESS_EVERY:
                report(count)
            yield item
    finally:
        done()


def _print_text(result: Plan) -> None:
    statuses = Counter(message.status.value for message in result.messages)
    paragraph(
        f"共 {len(result.messages)} 条消息：计划发送 {statuses['planned']} 条，"
        f"不发送 {statuses['suppressed']} 条；拒绝 {len(result.rejected_rows)} 行数据。"
    )
    shown = result.messages[:TEXT_ROWS]
    for day in sorted({message.day for message in shown}):
        print_line("")
        print_line(Text(f"{day.isoformat()}（{_WEEKDAYS[day.weekday()]}）", style="bold"))
        print_lines(_message_rows([m for m in shown if m.day == day]))
    hidden = len(result.messages) - len(shown)
    if hidden > 0:
        print_line("")
        paragraph(f"另有 {hidden} 条消息未列出，用 --format json 查看全部。")
    if result.rejected_rows:
        print_line("")
        paragraph("被拒绝的数据行（其余各行照常计划）：", style="bold")
        print_lines(_rejected_rows(result))


_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _message_rows(messages: Iterable[PlannedMessage]) -> list[Text]:
    # Short fixed columns first; reasons and loan ids (the longest) wrap last.
    rows: list[list[str | Cell]] = []
    for message in messages:
        fallbacks = "".join(f" >{channel.value}" for channel in message.fallback_channels)
        style = "" if message.planned else "yellow"
        details = "、".join(message.loan_ids)
        if message.reason:
            details = f"{message.reason} · {details}"
        rows.append(
            [
                message.send_at.strftime("%H:%M%z"),
                message.borrower_id,
                message.template_id + fallbacks,
                Cell(message.status.value, style),
                details,
            ]
        )
    headers = ("时间", "借款人", "模板", "状态", "原因 · 借款")
    return grid(headers, rows, width=stdout.width, indent=2)


def _rejected_rows(result: Plan) -> list[Text]:
    rows = [
        [str(rejected.row), rejected.field or "-", rejected.reason]
        for rejected in result.rejected_rows[:TEXT_ROWS]
    ]
    return grid(("行", "字段", "原因"), rows, width=stdout.width, indent=2)
