"""Small outboxes built by hand for the report's counting rules.

Messages enter through ``Outbox.enqueue`` (real keys, links and installments), are moved to
their final state with the time they went out (a sent one's reach written as settling
writes it), and payments go through
``Outbox.record_statuses`` (recorded once, as from a feed or ``Kit.record_status``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from conftest import planned
from sqlalchemy import update

from remindkit.dispatch.recheck import STOP_REASONS
from remindkit.models import Channel, Stage, Status
from remindkit.outbox.opt_outs import OptOut, record_opt_outs
from remindkit.outbox.reach import record_reach
from remindkit.outbox.schema import messages
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox, StatusUpdate
from remindkit.report import Report, build_report
from remindkit.report.model import Cell

T0 = datetime.fromisoformat("2026-11-02T10:00:00+08:00")
LATER = T0 + timedelta(days=30)


@dataclass
class World:
    outbox: Outbox

    def send(
        self,
        borrower: str,
        loans: tuple[tuple[str, int], ...] = (("L1", 1),),
        *,
        at: datetime = T0,
        stage: Stage = Stage.OVERDUE_EARLY,
        channel: Channel = Channel.SMS,
        variant: str = "a",
        state: MessageState = MessageState.SENT,
        receipt: str | None = None,
    ) -> str:
        """One message about ``loans`` for ``borrower``, in ``state``, sent at ``at``."""
        message = planned(borrower, loans=loans, stage=stage, channel=channel, send_at=at)
        suffix = "" if variant == "a" else f".{variant}"
        message = replace(message, template_id=f"{stage.value}/{channel.value}{suffix}")
        self.outbox.enqueue([message], now=at)
        with self.outbox.transaction() as connection:
            connection.execute(
                update(messages)
                .where(messages.c.key == message.key)
                .values(
                    state=state.value,
                    sent_at=at if state in (MessageState.SENT, MessageState.UNKNOWN) else None,
                    delivery_status=receipt,
                )
            )
            if state is MessageState.SENT:  # as the store does for a message it marks sent
                record_reach(connection, [message.key])
        return message.key

    def pay(self, loan: str, number: int = 1, *, at: datetime) -> None:
        update_ = StatusUpdate(
            loan_id=loan, installment_no=number, borrower_id="", status=Status.PAID
        )
        self.outbox.record_statuses(
            [update_], now=at, cancel=STOP_REASONS, reminded_within=timedelta(days=30)
        )

    def opt_out(self, borrower: str, channel: Channel, *, at: datetime) -> None:
        record_opt_outs(self.outbox, [OptOut(borrower_id=borrower, channel=channel)], now=at)

    def report(self, *, as_of: datetime = LATER, **options: object) -> Report:
        return build_report(self.outbox, as_of=as_of, **options)  # type: ignore[arg-type]


def cell(report: Report, stage: Stage, channel: Channel, variant: str = "a") -> Cell:
    return next(
        c
        for c in report.cells
        if (c.stage, c.channel, c.variant) == (stage.value, channel.value, variant)
    )
