"""``remindkit status``, ``remindkit outbox list|show|resolve``, ``remindkit purge``.

What an operator asks of the outbox: how many messages stand where; why a borrower got
nothing; what exactly was sent and when; what to do with messages whose outcome is unknown
(check the provider's console, then ``resolve --as sent|failed``); and removing records
past the audit period (SPEC §6.1: five years unless configured otherwise).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from remindkit.cli import app
from remindkit.cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    StoreOption,
    TemplatesOption,
    fail,
    open_cli_kit,
    print_json,
    stdout,
    usage_errors,
)
from remindkit.cli.summary import message_table
from remindkit.clock import SystemClock
from remindkit.outbox.plan_runs import PlanRun, PlanRuns
from remindkit.outbox.states import RESOLVABLE, MessageState
from remindkit.receipts import delivery_counts

outbox_app = typer.Typer(
    help="Look into the outbox: list, show and resolve messages.", no_args_is_help=True
)
app.add_typer(outbox_app, name="outbox")

_SHOWN_FIELDS = (
    "key", "state", "origin", "parent_key", "borrower_id", "loan_ids", "stage", "template_id",
    "channel", "fallback_channels", "send_at", "not_after", "attempts", "provider",
    "provider_message_id", "error_code", "reason", "sent_at", "template_hash",
    "delivery_status", "delivery_code", "delivered_at",
)  # fmt: skip
StateOption = Annotated[
    list[MessageState] | None,
    typer.Option("--state", help="Only messages in this state (repeatable).", case_sensitive=False),
]


@app.command("status")
def status_command(
    config: ConfigOption = None,
    store: StoreOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Counts by state, channel and provider, and the oldest message of unknown outcome."""
    kit = open_cli_kit(config, None, store)
    with kit, usage_errors():
        counts = kit.outbox.counts()
        oldest = kit.outbox.oldest(MessageState.UNKNOWN)
        delivery = delivery_counts(kit.outbox)
        runs = PlanRuns(kit.outbox).recent(limit=1)
    by_state = Counter[str]()
    for state, _, _, count in counts:
        by_state[state] += count
    if output is OutputFormat.JSON:
        print_json(
            {
                "store": kit.outbox.url,
                "by_state": dict(sorted(by_state.items())),
                "counts": [
                    {"state": s, "channel": c, "provider": p, "count": n} for s, c, p, n in counts
                ],
                "oldest_unknown": oldest.to_json() if oldest else None,
                "delivery": delivery,
                "last_plan": _plan_json(runs[0]) if runs else None,
            }
        )
        return
    table = Table(
        title=f"发件箱 {escape(kit.outbox.url)}", title_justify="left", box=box.SIMPLE_HEAD
    )
    for column in ("state", "channel", "provider"):
        table.add_column(column, no_wrap=True)
    table.add_column("count", justify="right")
    for state, channel, provider, count in counts:
        table.add_row(state, channel, provider or "-", str(count))
    stdout.print(table)
    total = sum(by_state.values())
    stdout.print(f"共 {total} 条：" + "，".join(f"{s} {n}" for s, n in sorted(by_state.items())))
    if delivery:
        stdout.print("回执：" + "，".join(f"{s} {n}" for s, n in delivery.items()))
    if runs:
        run = runs[0]
        done = f"完成于 {run.finished_at:%Y-%m-%d %H:%M:%S}Z" if run.finished_at else "未完成"
        stdout.print(f"最近一次计划（服务）：{run.slot:%Y-%m-%d %H:%M:%S}Z，{done}")
    if oldest is not None:
        when = oldest.sent_at or oldest.send_at
        stdout.print(
            f"[yellow]最早的结果未知消息：[/]{oldest.key}（{when:%Y-%m-%d %H:%M %Z}）"
            "——请到服务商后台核实后用 remindkit outbox resolve 处理"
        )


@outbox_app.command("list")
def list_command(
    state: StateOption = None,
    borrower: Annotated[
        str | None, typer.Option("--borrower", help="Only this borrower id.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most this many.")
    ] = 100,
    config: ConfigOption = None,
    store: StoreOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """Messages, earliest send time first."""
    kit = open_cli_kit(config, None, store)
    with kit, usage_errors():
        found = kit.outbox.messages(states=tuple(state or ()), borrower_id=borrower, limit=limit)
    if output is OutputFormat.JSON:
        print_json({"messages": [message.to_json() for message in found]})
        return
    if not found:
        stdout.print("没有符合条件的消息。")
        return
    stdout.print(message_table(found))


@outbox_app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(help="Message key (rk1_…).")],
    config: ConfigOption = None,
    store: StoreOption = None,
    output: FormatOption = OutputFormat.TEXT,
) -> None:
    """One message: what it is about, its stored text, and every transition."""
    kit = open_cli_kit(config, None, store)
    with kit, usage_errors():
        message = kit.outbox.get(key)
        history = kit.outbox.history(key)
    if output is OutputFormat.JSON:
        print_json({"message": message.to_json(), "events": [e.to_json() for e in history]})
        return
    data = message.to_json()
    for name in _SHOWN_FIELDS:
        value = data[name]
        if value not in (None, [], ""):
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            stdout.print(f"[dim]{name:>20}[/] {escape(shown)}")
    if message.title:
        stdout.print(f"[dim]{'title':>20}[/] {escape(message.title)}")
    if message.text:
        stdout.print(f"[dim]{'text':>20}[/] {escape(message.text)}")
    table = Table(title="事件", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("at", "from → to", "worker", "reason"):
        table.add_column(column, overflow="fold")
    for event in history:
        table.add_row(
            f"{event.at:%Y-%m-%d %H:%M:%S}Z",
            f"{event.from_state.value if event.from_state else '-'} → {event.to_state.value}",
            escape(event.worker),
            escape(event.reason or ""),
        )
    stdout.print(table)


@outbox_app.command("resolve")
def resolve_command(
    key: Annotated[str, typer.Argument(help="Key of a message in state unknown.")],
    outcome: Annotated[
        MessageState,
        typer.Option(
            "--as", help="What the provider's records show: sent or failed.", case_sensitive=False
        ),
    ],
    note: Annotated[str, typer.Option("--note", help="Why (kept in the event history).")] = "",
    config: ConfigOption = None,
    store: StoreOption = None,
) -> None:
    """Record a person's decision on a message whose outcome was unknown."""
    if outcome not in RESOLVABLE:
        fail("--as: sent or failed")
    kit = open_cli_kit(config, None, store)
    with kit, usage_errors():
        message = kit.outbox.resolve(key, to=outcome, note=note, now=SystemClock().now())
    stdout.print(f"{message.key} → {message.state.value}")


@app.command("purge")
def purge_command(
    before: Annotated[
        str,
        typer.Option(
            "--before", help="Delete final messages created before this date (YYYY-MM-DD, UTC)."
        ),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Also inside the audit period (store.retention_days).")
    ] = False,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
    store: StoreOption = None,
) -> None:
    """Delete old records (final states only: planned, sending and unknown stay)."""
    try:
        cutoff = datetime.fromisoformat(before).replace(tzinfo=UTC)
    except ValueError:
        fail(f"--before: expected a date YYYY-MM-DD, got {before!r}")
    kit = open_cli_kit(config, templates, store)
    keep = timedelta(days=kit.settings.store.retention_days)
    if cutoff > SystemClock().now() - keep and not force:
        fail(
            f"--before {before} is inside the audit period of {kit.settings.store.retention_days} "
            "days (store.retention_days): records of sent messages are kept for regulators and "
            "complaints; add --force only if your own retention rule allows it"
        )
    with kit, usage_errors():
        deleted = kit.outbox.purge(before=cutoff)
    stdout.print(f"已删除 {deleted} 条消息及其事件记录。")


def _plan_json(run: PlanRun) -> dict[str, object]:
    return {
        "slot": run.slot.isoformat(),
        "worker": run.worker,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "planned": run.planned,
        "suppressed": run.suppressed,
        "rejected": run.rejected,
        "inserted": run.inserted,
    }
