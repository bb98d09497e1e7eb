"""``remindkit plan``: what would be sent to whom, when, on which channel — or why not.

Prints the plan and writes nothing (SPEC §9). Exit 0 when every feed row was read, 1 when
some rows were rejected (the plan of the other rows is still printed), 2 on usage or
config errors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    parse_at,
    print_json,
    stderr,
    stdout,
)
from remindkit.clock import SystemClock
from remindkit.errors import RemindkitError
from remindkit.feed import FeedItem, read_feed
from remindkit.plan import Plan, PlannedMessage
from remindkit.policy.horizon import MAX_DAYS

# People read the first rows; the whole plan is one --format json away.
TEXT_ROWS = 500
_PROGRESS_EVERY = 10_000

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
    kit = load_cli_kit(config, templates)
    when = parse_at(at) or SystemClock().now()
    try:
        items = read_feed(feed)
        result = kit.plan(with_progress(items), at=when, days=days)
    except RemindkitError as exc:
        fail(str(exc))
    for warning in result.warnings:
        stderr.print(f"[yellow]warning:[/] {escape(warning)}", markup=True)
    if output is OutputFormat.JSON:
        print_json(result.to_json())
    else:
        _print_text(result)
    if result.rejected_rows:
        raise typer.Exit(EXIT_FINDINGS)


def with_progress(items: Iterable[FeedItem]) -> Iterator[FeedItem]:
    """Show rows read on a terminal (SPEC §8); silent when stderr is a pipe or a file."""
    if not stderr.is_terminal:
        yield from items
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task("reading feed: 0 rows", total=None)
        count = 0
        for count, item in enumerate(items, start=1):
            if count % _PROGRESS_EVERY == 0:
                progress.update(task, description=f"reading feed: {count:,} rows")
            yield item


def _print_text(result: Plan) -> None:
    statuses = Counter(message.status.value for message in result.messages)
    stdout.print(
        f"{len(result.messages)} messages: {statuses['planned']} planned, "
        f"{statuses['suppressed']} suppressed; {len(result.rejected_rows)} rows rejected"
    )
    shown = result.messages[:TEXT_ROWS]
    for day in sorted({message.day for message in shown}):
        stdout.print(_message_table(day, [m for m in shown if m.day == day]))
    hidden = len(result.messages) - len(shown)
    if hidden > 0:
        stdout.print(f"… {hidden} more messages (use --format json for all of them)")
    if result.rejected_rows:
        stdout.print(_rejected_table(result))


def _message_table(day: date, messages: Iterable[PlannedMessage]) -> Table:
    # One table per borrower-local day, five columns, so rows stay readable in 80 columns:
    # the template id names stage and channel, fallbacks follow it, the reason follows
    # the status, and loan ids (the longest) wrap last.
    table = Table(title=day.isoformat(), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("time", no_wrap=True)
    table.add_column("borrower", overflow="fold")
    table.add_column("template", no_wrap=True)
    table.add_column("status", overflow="fold")
    table.add_column("loans", overflow="fold", ratio=1)
    for message in messages:
        fallbacks = "".join(f" >{channel.value}" for channel in message.fallback_channels)
        reason = f": {escape(message.reason)}" if message.reason else ""
        status = message.status.value
        table.add_row(
            message.send_at.strftime("%H:%M%z"),
            # Feed values are data, not markup: "[b]" in an id must print as typed.
            escape(message.borrower_id),
            message.template_id + fallbacks,
            (status if message.planned else f"[yellow]{status}[/]") + reason,
            escape(", ".join(message.loan_ids)),
        )
    return table


def _rejected_table(result: Plan) -> Table:
    table = Table(title="rejected rows", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("row", justify="right")
    table.add_column("field")
    table.add_column("reason", overflow="fold")
    for rejected in result.rejected_rows[:TEXT_ROWS]:
        table.add_row(str(rejected.row), escape(rejected.field or "-"), escape(rejected.reason))
    return table
