"""Stop statuses and payments reaching the outbox, and the thank-you (SPEC §5.1, §5.3).

Feeds and the backend tell remindkit that an installment is ``paid``, ``dispute`` or
``paused``. The outbox then cancels every queued message that mentions it, and the first
time an installment is seen paid (recorded once in the store, whichever process saw it) a
borrower who had a reminder sent in the last 30 days gets one ``payment_received`` message:

- on SMS when the borrower has a usable phone, else on push;
- at once if the contact window is open, else when it next opens (22:00–08:00 holds);
- with two windows to go out (today's or the next one), so the caps defer it rather than
  drop it; the Spring Festival pause lets it through (SPEC §5.3).

Its key is made from the installment and the local day it was first seen paid, so it is
planned once however often the payment is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from remindkit.errors import TemplateError
from remindkit.feed import FeedItem
from remindkit.models import Channel, Installment, Stage, Status, zone_for
from remindkit.outbox.records import restore, snapshot
from remindkit.outbox.values import FirstPaid, StatusUpdate
from remindkit.plan import PlannedMessage, TemplatePicker
from remindkit.policy.decision import MessageStatus
from remindkit.policy.keys import message_key
from remindkit.policy.rules import choose_channel
from remindkit.policy.stages import template_group
from remindkit.policy.window import SendWindow, local_time

STOP_STATUSES = frozenset({Status.PAID, Status.DISPUTE, Status.PAUSED})
# The thank-you prefers SMS: a push may never be opened.
THANK_YOU_CHANNELS = (Channel.SMS, Channel.PUSH)
TAP_BATCH = 5000


def status_update(item: Installment, status: Status | None = None) -> StatusUpdate:
    """The update a row (or the backend's word ``status`` about it) brings to the outbox."""
    status = status or item.status
    return StatusUpdate(
        loan_id=item.loan_id,
        installment_no=item.installment_no,
        borrower_id=item.borrower.id,
        status=status,
        context=snapshot([replace(item, status=status)]) if status is Status.PAID else None,
    )


def tap_statuses(
    feed: Iterable[FeedItem], flush: Callable[[list[StatusUpdate]], None]
) -> Iterator[FeedItem]:
    """Pass the feed through unchanged, handing rows in a stop status to ``flush`` in
    batches as they go by (memory stays flat however long the feed)."""
    pending: list[StatusUpdate] = []
    for item in feed:
        if isinstance(item, Installment) and item.status in STOP_STATUSES:
            pending.append(status_update(item))
            if len(pending) >= TAP_BATCH:
                flush(pending)
                pending = []
        yield item
    if pending:
        flush(pending)


@dataclass(frozen=True, slots=True, kw_only=True)
class ThankYouPolicy:
    window: SendWindow
    picker: TemplatePicker
    locale: str

    def message(self, paid: FirstPaid, now: datetime) -> PlannedMessage | None:
        """The thank-you for an installment first seen paid; ``None`` if the borrower was
        not reminded recently, or cannot be reached, or no template exists."""
        if not paid.reminded or not paid.context:
            return None
        installments = tuple(replace(item, status=Status.PAID) for item in restore(paid.context))
        first = installments[0]
        choice = choose_channel(THANK_YOU_CHANNELS, first.borrower)
        if not choice.usable:
            return None
        try:
            template = self.picker.pick(
                template_group(Stage.PAYMENT_RECEIVED, choice.channel),
                first.borrower.id,
                self.locale,
            )
        except TemplateError:
            return None
        timezone = first.borrower.timezone
        send_at, day = self._slot(now, timezone)
        closes = self.window.closes(day + timedelta(days=1), timezone)
        paid_day = paid.paid_at.astimezone(zone_for(timezone)).date()
        return PlannedMessage(
            key=message_key(
                borrower_id=first.borrower.id,
                installments=[item.key for item in installments],
                stage=Stage.PAYMENT_RECEIVED,
                day=paid_day,
                channel=choice.channel,
            ),
            borrower_id=first.borrower.id,
            loan_ids=tuple(dict.fromkeys(item.loan_id for item in installments)),
            installments=installments,
            stage=Stage.PAYMENT_RECEIVED,
            template_id=template.template_id,
            channel=choice.channel,
            fallback_channels=choice.fallbacks,
            day=day,
            send_at=send_at,
            not_after=closes,
            status=MessageStatus.PLANNED,
            reason="payment received",
        )

    def _slot(self, now: datetime, timezone: str) -> tuple[datetime, date]:
        local = now.astimezone(zone_for(timezone))
        today = local.date()
        opens = local_time(today, self.window.start, timezone)
        if local < opens:
            return opens, today
        if local < self.window.closes(today, timezone):
            return local, today
        tomorrow = today + timedelta(days=1)
        return local_time(tomorrow, self.window.start, timezone), tomorrow
