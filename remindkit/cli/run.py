"""``remindkit run --once``: plan the feed, enqueue, apply its stop statuses, send what is due.

Made for cron: each run reaps stale leases first, so a run killed half-way leaves nothing
``sending`` for long, and re-running never sends a message twice (the outbox keys).
Exit 0 when everything due went out (or was rightly held back), 1 when a message failed,
ended ``unknown``, a provider stopped, a template broke or feed rows were rejected; 2 on
usage or configuration errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    AtOption,
    ConfigOption,
    FormatOption,
    OutputFormat,
    StoreOption,
    TemplatesOption,
    fail,
    open_cli_kit,
    parse_at,
    print_json,
    stderr,
    stdout,
    usage_errors,
)
from remindkit.cli.plan import DaysOption, with_progress
from remindkit.cli.summary import dispatch_summary, run_summary
from remindkit.errors import RemindkitError
from remindkit.feed import read_feed


@app.command("run")
def run_command(
    once: Annotated[
        bool, typer.Option("--once", help="Plan, enqueue and send what is due, then exit (cron).")
    ] = False,
    feed: Annotated[
        Path | None,
        typer.Option(
            "--feed", help="Loan feed (default: the config's [feed] path).", dir_okay=False
        ),
    ] = None,
    at: AtOption = None,
    days: DaysOption = 1,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
    store: StoreOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Run remindkit: with --once, one pass for cron."""
    if not once:
        fail(
            "run needs --once (one pass: plan, enqueue, send what is due); "
            "schedule it from cron or a systemd timer"
        )
    kit = open_cli_kit(config, templates, store)
    source = feed or kit.settings.feed.path
    if source is None:
        fail("no feed: pass --feed FILE or set [feed] path in the config")
    when = parse_at(at)
    with usage_errors():
        items = read_feed(source)
    try:
        with kit:
            report = kit.run_once(with_progress(items), at=when, days=days)
    except RemindkitError as exc:
        fail(str(exc))
    for warning in report.warnings:
        stderr.print(f"[yellow]提示：[/]{warning}", markup=True, highlight=False)
    if output is OutputFormat.JSON:
        print_json(
            {
                "rejected_rows": [
                    {"row": r.row, "field": r.field, "reason": r.reason}
                    for r in report.rejected_rows
                ],
                "enqueued": {
                    "inserted": report.enqueued.inserted,
                    "already_known": report.enqueued.already_known,
                    "suppressed": report.enqueued.suppressed,
                },
                "statuses": {
                    "cancelled": report.statuses.cancelled,
                    "thanked": report.statuses.thanked,
                },
                "reaped": {"unknown": report.reaped_unknown, "expired": report.reaped_expired},
                "dispatch": report.dispatch.to_json(),
            }
        )
    else:
        stdout.print(run_summary(report))
        stdout.print(dispatch_summary(report.dispatch))
    if report.problems:
        raise typer.Exit(EXIT_FINDINGS)
