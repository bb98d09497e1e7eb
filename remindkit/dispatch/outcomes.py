"""What a provider's answer does to a message: the table of :mod:`remindkit.dispatch`, as code.

Pure: an answer and the message in, the transition and how the report counts it out. The
side effects an answer asks for (flag the contact and fall back, stop the provider) are
named in the :class:`Outcome` for the run to carry out.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from remindkit.dispatch.delivery import Answer
from remindkit.errors import (
    DeliveryOutcomeUnknownError,
    PermanentDeliveryError,
    ProviderConfigError,
    TransientDeliveryError,
)
from remindkit.masking import scrub
from remindkit.outbox.records import OutboxMessage
from remindkit.outbox.states import MessageState
from remindkit.outbox.values import StatusUpdate, Transition
from remindkit.providers.base import Receipt

log = logging.getLogger("remindkit.dispatch")
MAX_RESCHEDULE = timedelta(hours=4)


@dataclass(slots=True)
class DispatchReport:
    """What one ``dispatch_due`` call did, by outcome."""

    counts: Counter[str] = field(default_factory=Counter)
    # Stop statuses the ``status_check`` hook told that the outbox had not heard: the kit
    # records them as a feed's (a payment counts once and may earn its thank-you).
    learned: list[StatusUpdate] = field(default_factory=list)
    stopped_providers: dict[str, str] = field(default_factory=dict)
    template_errors: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, outcome: str) -> int:
        return self.counts[outcome]

    @property
    def problems(self) -> int:
        """Messages that need a person (failed, unknown) and providers that stopped."""
        return (
            self.counts["failed"]
            + self.counts["unknown"]
            + len(self.stopped_providers)
            + len(self.template_errors)
        )

    def to_json(self) -> dict[str, object]:
        return {
            "counts": {name: n for name, n in sorted(self.counts.items()) if n},
            "stopped_providers": dict(self.stopped_providers),
            "template_errors": dict(self.template_errors),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    move: Transition
    label: str  # the report's count: sent, failed, unknown, rescheduled, expired, held
    refused: PermanentDeliveryError | None = None  # flag the contact, try the next channel
    stop_provider: str | None = None  # the provider's configuration is wrong: stop it


def classify(
    provider_name: str, message: OutboxMessage, answer: Answer, now: datetime, backoff: timedelta
) -> Outcome:
    key = message.key
    if isinstance(answer, Receipt):
        values = {
            "provider_message_id": answer.provider_message_id,
            "provider": answer.provider,
            "error_code": None,
        }
        return Outcome(move=Transition(key=key, to=MessageState.SENT, values=values), label="sent")
    if isinstance(answer, TransientDeliveryError):
        move = reschedule(message, answer, now, backoff)
        return Outcome(
            move=move, label="rescheduled" if move.to is MessageState.PLANNED else "expired"
        )
    if isinstance(answer, PermanentDeliveryError):
        move = Transition(
            key=key,
            to=MessageState.FAILED,
            reason=f"refused by {provider_name}: {scrub(str(answer))}",
            values={"error_code": answer.code},
        )
        return Outcome(move=move, label="failed", refused=answer)
    if isinstance(answer, ProviderConfigError):
        move = Transition(
            key=key,
            to=MessageState.PLANNED,
            reason=f"not sent: provider {provider_name} stopped (configuration)",
            values={"error_code": answer.code},
        )
        return Outcome(move=move, label="held", stop_provider=scrub(str(answer)))
    return Outcome(move=_unknown(provider_name, message, answer), label="unknown")


def _unknown(provider_name: str, message: OutboxMessage, answer: Answer) -> Transition:
    if isinstance(answer, DeliveryOutcomeUnknownError):
        reason = f"outcome unknown ({provider_name}): {scrub(str(answer))}"
        code = answer.code
    else:
        log.error(
            "provider %s raised %s; message marked unknown", provider_name, type(answer).__name__
        )
        reason = f"provider {provider_name} raised {type(answer).__name__}: may have been sent"
        code = None
    return Transition(
        key=message.key, to=MessageState.UNKNOWN, reason=reason, values={"error_code": code}
    )


def reschedule(
    message: OutboxMessage, error: TransientDeliveryError, now: datetime, backoff: timedelta
) -> Transition:
    """Back to ``planned`` after a backoff that doubles per attempt (at least the provider's
    ``Retry-After``), or ``expired`` when that would pass ``not_after``."""
    attempts = message.attempts + 1
    delay = min(backoff * 2 ** (attempts - 1), MAX_RESCHEDULE)
    if error.retry_after:
        delay = max(delay, timedelta(seconds=error.retry_after))
    when = now + delay
    detail = scrub(str(error)) + (f" [{error.code}]" if error.code else "")
    if when >= message.not_after:
        return Transition(
            key=message.key,
            to=MessageState.EXPIRED,
            reason=f"transient errors until the window closed: {detail}",
            values={"error_code": error.code},
        )
    return Transition(
        key=message.key,
        to=MessageState.PLANNED,
        reason=f"retry later: {detail}",
        values={"next_attempt_at": when, "error_code": error.code},
    )
