"""``remindkit run``: the daemon (:mod:`remindkit.service`); ``run --once``: one pass for cron.

``run`` without ``--once`` schedules plan, dispatch and reap jobs until SIGTERM/SIGINT, then
exits 0 once the sends in flight are recorded (1 if they did not finish in
``service.stop_seconds``). ``run --once`` plans the feed, enqueues, applies its stop
statuses and sends what is due. It is made for cron: each run reaps stale leases first, so
a run killed half-way leaves nothing ``sending`` for long, and re-running never sends a
message twice (the outbox keys).
Exit 0 when everything due went out (or was rightly held back), 1 when a message failed,
ended ``unknown``, a provider stopped, a template broke or feed rows were rejected; 2 on
usage or configuration errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

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
from remindkit.sources import open_feed

if TYPE_CHECKING:
    from remindkit.kit import Kit


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
    """Run remindkit as a service (plan, dispatch and reap on a schedule); --once: one pass."""
    kit = open_cli_kit(config, templates, store)
    if feed is None and kit.settings.feed.path is None and kit.settings.feed.kind != "sql":
        fail("no feed: pass --feed FILE or set [feed] path (or a sql source) in the config")
    if not once:
        if at is not None:
            fail("--at goes with --once: the service runs on the real clock")
        _serve(kit, feed)
    when = parse_at(at)
    with usage_errors():
        items = open_feed(kit.settings.feed, feed)
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


def _serve(kit: Kit, feed: Path | None) -> NoReturn:
    from remindkit.daemon import run_daemon  # noqa: PLC0415 - APScheduler, uvicorn: only here

    code = run_daemon(kit, feed)
    raise typer.Exit(code)
