"""Per-installment rules: stop statuses and channel choice with opt-outs (SPEC §5.3)."""

from __future__ import annotations

from dataclasses import dataclass

from remindkit.models import Borrower, Channel, Installment, Status
from remindkit.policy.decision import Reason

# Only these receive reminders; paid, dispute and paused stop everything (SPEC §3, §5.3).
REMINDABLE = frozenset({Status.DUE, Status.PLAN})


def is_remindable(installment: Installment) -> bool:
    return installment.status in REMINDABLE


def has_contact(borrower: Borrower, channel: Channel) -> bool:
    """SMS needs a phone number, push a device token."""
    if channel is Channel.SMS:
        return borrower.phone is not None
    return borrower.push_token is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelChoice:
    """The first usable channel of a step and the usable ones after it (fallbacks, §6.4).

    When none is usable, ``channel`` is the step's first preference and ``reason`` says why:
    ``opted_out`` if the borrower refused any of the step's channels, else ``no_contact``.
    """

    channel: Channel
    fallbacks: tuple[Channel, ...] = ()
    reason: Reason | None = None

    @property
    def usable(self) -> bool:
        return self.reason is None


def choose_channel(preference: tuple[Channel, ...], borrower: Borrower) -> ChannelChoice:
    usable = tuple(
        channel
        for channel in preference
        if channel not in borrower.opted_out and has_contact(borrower, channel)
    )
    if usable:
        return ChannelChoice(channel=usable[0], fallbacks=usable[1:])
    refused = any(channel in borrower.opted_out for channel in preference)
    reason = Reason.OPTED_OUT if refused else Reason.NO_CONTACT
    return ChannelChoice(channel=preference[0], reason=reason)
