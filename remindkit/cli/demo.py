"""``remindkit demo``: a simulated week of the sample feed, end to end, in a few seconds.

A frozen clock walks from Tuesday 2026-12-01 to Monday 2026-12-07. Each morning at 08:30 the
shipped sample feed is planned and put into a temporary SQLite outbox (``run --once``'s
work); every half hour from 09:00 to 20:00 what is due is dispatched through the ``console``
provider, which prints each message as the borrower's phone shows it (numbers masked). The
week is scripted to show what a real one brings:

- Tuesday 10:00, the sample push token of B1012 is "unregistered": the push fails, the
  token is flagged and the same step's SMS goes out at once;
- Tuesday 10:00, the SMS gateway is busy for B1013's first try: retried, then sent;
- Friday 09:15, 欧阳女士 (B1008) pays the installment due that day: her queued reminder
  is cancelled, the feed says ``paid`` from then on, and she gets one thank-you.

It ends with the outbox status table. Nothing leaves the machine; the sample lender is
fictional and the output says so. ``--store URL`` keeps the outbox for ``remindkit status``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import typer
from rich.text import Text

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_FINDINGS,
    ConfigOption,
    StoreOption,
    TemplatesOption,
    fail,
    load_cli_settings,
    resolve_templates_dir,
    usage_errors,
)
from remindkit.cli.output import Cell, grid, paragraph, print_line, print_lines, stdout
from remindkit.clock import Clock
from remindkit.errors import PermanentDeliveryError, RemindkitError, TransientDeliveryError
from remindkit.masking import mask_address
from remindkit.models import Channel
from remindkit.providers.base import Envelope, Receipt
from remindkit.providers.console import ConsoleProvider
from remindkit.resources import shipped_sample_feed, with_sample_platform
from remindkit.testing import FrozenClock

if TYPE_CHECKING:
    from remindkit.dispatch import DispatchReport
    from remindkit.kit import Kit

START = datetime.fromisoformat("2026-12-01T08:30:00+08:00")  # Tuesday, 08:30 Beijing time
DAYS = 7
TICK = timedelta(minutes=30)
WEEKDAYS = "一二三四五六日"
UNREGISTERED_TOKEN = "tok-b1012"
BUSY_ONCE_PHONE = "+8615012345678"  # B1013
PAYER = ("HM2026072284", 2, "B1008")
PAYMENT_AT = datetime.fromisoformat("2026-12-04T09:15:00+08:00")


class DemoConsole(ConsoleProvider):
    """The console provider, with the week's two scripted provider answers, printing each
    message under the clock's time."""

    name: ClassVar[str] = "console"

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self._busy_key: str | None = None

    def send(self, envelope: Envelope) -> Receipt:
        when = f"{self.clock.now():%H:%M}"
        to = mask_address(envelope.channel, envelope.to)
        if envelope.to == UNREGISTERED_TOKEN:
            _event(when, f"推送 → {to}：（模拟）设备令牌已失效，标记后改发短信", style="yellow")
            raise PermanentDeliveryError("unregistered push token (simulated)", code="UNREGISTERED")
        with self._lock:  # the first message to that number, first try only
            busy = envelope.to == BUSY_ONCE_PHONE and self._busy_key is None
            if busy:
                self._busy_key = envelope.key
        if busy:
            _event(when, f"短信 → {to}：（模拟）短信网关繁忙，自动重试", style="yellow")
            raise TransientDeliveryError("gateway busy (simulated)", code="busy", retry_after=1)
        label = "短信" if envelope.channel is Channel.SMS else "推送"
        shown = (
            envelope.text
            if envelope.channel is Channel.SMS
            else f"{envelope.title}｜{envelope.body}"
        )
        with self._lock:  # one message's lines together, whatever the other threads print
            _event(when, f"{label} → {to}")
            paragraph(shown or "", indent=9)
            number = next(self._ids)
        return Receipt(provider=self.name, provider_message_id=f"console-{number}")


def _event(when: str, text: str, style: str = "") -> None:
    paragraph(f"{when}  {text}", indent=2, style=style)


@app.command()
def demo(
    store: StoreOption = None,
    config: ConfigOption = None,
    templates: TemplatesOption = None,
) -> None:
    """A simulated week of the sample feed through a temporary outbox, printed, not sent."""
    with _outbox_url(store) as url:
        problems = _week(url, config, templates)
    if problems:
        raise typer.Exit(EXIT_FINDINGS)


@contextmanager
def _outbox_url(store: str | None) -> Iterator[str]:
    if store is not None:
        yield store
        return
    with tempfile.TemporaryDirectory(prefix="remindkit-demo-") as folder:
        yield f"sqlite:///{Path(folder) / 'remindkit.db'}"


def _week(url: str, config: Path | None, templates: Path | None) -> int:
    from remindkit.kit import Kit  # noqa: PLC0415 - the kit is heavy: imported when run

    settings = with_sample_platform(load_cli_settings(config))[0]
    # One send at a time: the week reads in order (a real run sends from many threads).
    dispatch = settings.dispatch.model_copy(update={"workers": 1, "batch_size": 20})
    settings = settings.model_copy(update={"dispatch": dispatch})
    clock = FrozenClock(START)
    provider = DemoConsole(clock)
    with usage_errors():
        kit = Kit(
            settings,
            templates=resolve_templates_dir(templates, settings),
            clock=clock,
            store=url,
            providers={Channel.SMS: provider, Channel.PUSH: provider},
            sleep=lambda _seconds: None,  # the scripted retry goes at once
        )
        kit.outbox  # noqa: B018 - opened (and a bad --store refused) before the week starts
    rows = _sample_rows()
    print_line(
        Text("remindkit demo · 示例数据的一周（临时发件箱，消息只打印，不会发出）", style="bold")
    )
    problems = 0
    with kit:
        for day in range(DAYS):
            problems += _day(kit, clock, rows, START + timedelta(days=day))
        _status(kit)
    return problems


def _sample_rows() -> list[dict[str, str]]:
    with shipped_sample_feed().open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _day(kit: Kit, clock: FrozenClock, rows: list[dict[str, str]], morning: datetime) -> int:
    print_line("")
    print_line(Text(f"{morning:%-m月%-d日} 星期{WEEKDAYS[morning.weekday()]}", style="bold"))
    clock.set(morning)
    try:
        report = kit.run_once([dict(row) for row in rows])
    except RemindkitError as exc:
        fail(str(exc))
    bad = len(report.rejected_rows)
    rejected = f"；拒绝 {bad} 行（示例数据里故意放了坏行）" if bad else ""
    _event(
        f"{morning:%H:%M}",
        f"计划：{report.planned} 条待发，{report.suppressed} 条不发{rejected}",
        style="dim",
    )
    problems = _unexpected(report.dispatch)
    moment = morning + TICK
    while moment.hour < 20 or (moment.hour == 20 and moment.minute == 0):
        if morning.date() == PAYMENT_AT.date() and moment - TICK < PAYMENT_AT <= moment:
            _payment(kit, clock, rows)
        clock.set(moment)
        with usage_errors():
            problems += _unexpected(kit.dispatch_due())
        moment += TICK
    return problems


def _unexpected(report: DispatchReport) -> int:
    """What the script did not ask for: the refused push token is part of the story."""
    scripted = 1 if report["failed"] == 1 else 0
    return report.problems - scripted


def _payment(kit: Kit, clock: FrozenClock, rows: list[dict[str, str]]) -> None:
    clock.set(PAYMENT_AT)
    loan_id, number, borrower = PAYER
    with usage_errors():
        result = kit.record_status(loan_id, number, "paid", borrower_id=borrower)
    for row in rows:  # from now on the lender's feed says so too
        if row["loan_id"] == loan_id and row["installment_no"] == str(number):
            row["status"] = "paid"
    _event(
        f"{PAYMENT_AT:%H:%M}",
        f"{borrower} 已还款（尾号{loan_id[-4:]}第{number}期）：取消 {result.cancelled} 条待发提醒，"
        f"安排 {result.thanked} 条还款致谢",
        style="green",
    )


def _status(kit: Kit) -> None:
    print_line("")
    print_line(Text("一周后的发件箱（remindkit status）", style="bold"))
    counts = kit.outbox.counts()
    table: list[list[str | Cell]] = [
        [state, channel, provider or "-", str(count)] for state, channel, provider, count in counts
    ]
    headers = ["状态", "渠道", "发送服务", "条数"]
    print_lines(grid(headers, table, width=min(stdout.width, 60), indent=2))
    total = sum(count for *_, count in counts)
    paragraph(f"共 {total} 条记录，每条消息的状态、原因和发送内容都在发件箱里。", indent=2)
    paragraph("查看一条消息的全部事件：remindkit outbox show KEY", indent=2)
