"""The re-check right before sending (SPEC §5.3, §6.3): is this message still right, now?

The plan was made hours earlier from the feed of the morning. Before a message is committed
``sending``, each of these is asked again, in this order; the first that objects decides:

1. ``not_after`` passed → ``expired``.
2. An installment is ``paid``/``dispute``/``paused`` by the backend's ``status_check`` hook
   or by the latest feed the outbox heard → ``cancelled`` (nobody is reminded of a debt
   paid an hour ago). A hook that fails defers the message a minute: no check, no send.
3. The contact window, now, in the borrower's zone: before it opens → deferred to the
   opening; after it closed → ``expired``.
4. The recipient: no phone/token for the channel → ``suppressed no_contact``; a contact a
   provider refused permanently → the step's next channel (a fallback row) or
   ``suppressed bad_contact``.
5. The caps against what may actually have reached the borrower today (``sending``,
   ``sent``, ``unknown``), not what was planned: over a count cap → ``frequency_cap``;
   too soon after the last contact → deferred by ``min_gap`` if that still fits before
   ``not_after``, else ``suppressed min_gap``. A message allowed past today (a thank-you)
   is deferred to the next day's window instead of suppressed.

Verdicts are values; the dispatcher applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from remindkit.models import Channel, Installment, Stage, Status, zone_for
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.states import CancelReason, RecheckReason
from remindkit.outbox.values import Contact, InstallmentRef
from remindkit.policy.caps import Caps
from remindkit.policy.decision import Reason
from remindkit.policy.window import SendWindow, local_time

# A backend hook: the installment's status right now, or None when it does not know.
StatusCheck = Callable[[str, int], Status | str | None]
STOP_REASONS: Mapping[Status, str] = {
    Status.PAID: CancelReason.STATUS_PAID.value,
    Status.DISPUTE: CancelReason.STATUS_DISPUTE.value,
    Status.PAUSED: CancelReason.STATUS_PAUSED.value,
}
HOOK_RETRY = timedelta(minutes=1)


class Action(StrEnum):
    SEND = "send"
    CANCEL = "cancel"
    EXPIRE = "expire"
    SUPPRESS = "suppress"
    DEFER = "defer"
    FALL_BACK = "fall_back"  # suppress this row (bad contact) and try the next channel


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    action: Action
    reason: str | None = None
    until: datetime | None = None  # for DEFER
    address: str | None = None  # for SEND
    # A stop status the backend's hook told and the store did not know yet (for CANCEL).
    learned: tuple[Installment, Status] | None = None

    @classmethod
    def send(cls, address: str) -> Verdict:
        return cls(action=Action.SEND, address=address)


@dataclass(slots=True, kw_only=True)
class Facts:
    """What the store said about one claimed batch, updated as the batch is decided."""

    statuses: Mapping[InstallmentRef, Status]
    flagged: set[tuple[Channel, str]]
    contacts: dict[str, list[Contact]] = field(default_factory=dict)

    def contacted(
        self, message: OutboxMessage, refs: tuple[InstallmentRef, ...], at: datetime
    ) -> None:
        self.contacts.setdefault(message.borrower_id, []).append(
            Contact(borrower_id=message.borrower_id, key=message.key, sent_at=at, installments=refs)
        )


def day_start(day: date, timezone: str) -> datetime:
    """Local midnight of ``day`` in ``timezone``, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=zone_for(timezone)).astimezone(UTC)


class Recheck:
    def __init__(
        self, window: SendWindow, caps: Caps, status_check: StatusCheck | None = None
    ) -> None:
        self.window = window
        self.caps = caps
        self.status_check = status_check

    def judge(
        self,
        message: OutboxMessage,
        installments: tuple[Installment, ...],
        *,
        now: datetime,
        facts: Facts,
    ) -> Verdict:
        if now >= message.not_after:
            return Verdict(action=Action.EXPIRE, reason=RecheckReason.NOT_AFTER.value)
        # A thank-you is about a paid installment: the stop statuses do not apply to it.
        stopped = (
            None
            if message.stage is Stage.PAYMENT_RECEIVED
            else self._stopped(installments, facts, now)
        )
        held = stopped or self._window(message, now)
        if held is not None:
            return held
        recipient = self._recipient(message, installments[0], facts)
        if recipient.action is not Action.SEND:
            return recipient
        return self._caps(message, installments, now, facts) or recipient

    def _recipient(self, message: OutboxMessage, first: Installment, facts: Facts) -> Verdict:
        address = _address(message.channel, first)
        if address is None:
            return Verdict(action=Action.SUPPRESS, reason=Reason.NO_CONTACT.value)
        if (message.channel, address) in facts.flagged:
            action = Action.FALL_BACK if message.fallbacks else Action.SUPPRESS
            return Verdict(action=action, reason=RecheckReason.BAD_CONTACT.value)
        return Verdict.send(address)

    def _stopped(
        self, installments: Iterable[Installment], facts: Facts, now: datetime
    ) -> Verdict | None:
        for item in installments:
            status = facts.statuses.get(item.key)
            if self.status_check is not None:
                try:
                    answer = self.status_check(item.loan_id, item.installment_no)
                except Exception as exc:  # the backend's hook: never send unchecked
                    return Verdict(
                        action=Action.DEFER,
                        reason=f"status_check failed: {type(exc).__name__}",
                        until=now + HOOK_RETRY,
                    )
                if answer is not None:
                    try:
                        status = Status(answer)
                    except ValueError:
                        return Verdict(
                            action=Action.DEFER,
                            reason=f"status_check answered {str(answer)[:40]!r}",
                            until=now + HOOK_RETRY,
                        )
            if status is not None and status in STOP_REASONS:
                heard = status if facts.statuses.get(item.key) is not status else None
                return Verdict(
                    action=Action.CANCEL,
                    reason=STOP_REASONS[status],
                    learned=(item, status) if heard else None,
                )
        return None

    def _window(self, message: OutboxMessage, now: datetime) -> Verdict | None:
        local = now.astimezone(zone_for(message.timezone))
        opens = local_time(local.date(), self.window.start, message.timezone)
        closes = local_time(local.date(), self.window.end, message.timezone)
        if local < opens:
            return Verdict(action=Action.DEFER, reason="deferred: window not open", until=opens)
        if local >= closes:
            tomorrow = local_time(
                local.date() + timedelta(days=1), self.window.start, message.timezone
            )
            if tomorrow < message.not_after:
                return Verdict(
                    action=Action.DEFER, reason="deferred: window closed", until=tomorrow
                )
            return Verdict(action=Action.EXPIRE, reason=RecheckReason.WINDOW_CLOSED.value)
        return None

    def _caps(
        self,
        message: OutboxMessage,
        installments: tuple[Installment, ...],
        now: datetime,
        facts: Facts,
    ) -> Verdict | None:
        local_day = now.astimezone(zone_for(message.timezone)).date()
        since = day_start(local_day, message.timezone)
        today = [c for c in facts.contacts.get(message.borrower_id, []) if c.sent_at >= since]
        refs = {item.key for item in installments}
        per_installment = max(
            (sum(1 for c in today if ref in c.installments) for ref in refs), default=0
        )
        if (
            len(today) >= self.caps.per_borrower_per_day
            or per_installment >= self.caps.per_installment_per_day
        ):
            return self._later_day(message, local_day, Reason.FREQUENCY_CAP.value)
        if today and self.caps.min_gap:
            ready = max(c.sent_at for c in today) + self.caps.min_gap
            if ready > now:
                closes = local_time(local_day, self.window.end, message.timezone)
                if ready < min(message.not_after, closes):
                    return Verdict(action=Action.DEFER, reason="deferred: min_gap", until=ready)
                return self._later_day(message, local_day, Reason.MIN_GAP.value)
        return None

    def _later_day(self, message: OutboxMessage, local_day: date, reason: str) -> Verdict:
        tomorrow = local_time(local_day + timedelta(days=1), self.window.start, message.timezone)
        if tomorrow < message.not_after:
            return Verdict(action=Action.DEFER, reason=f"deferred: {reason}", until=tomorrow)
        return Verdict(action=Action.SUPPRESS, reason=reason)


def _address(channel: Channel, installment: Installment) -> str | None:
    borrower = installment.borrower
    if channel in borrower.opted_out:
        return None
    return borrower.phone if channel is Channel.SMS else borrower.push_token
