"""The states of an outbox message and the transitions between them (SPEC §6.2, §6.3).

::

    planned ──claim (lease)──▶ planned ──commit──▶ sending ──▶ sent
       │                                              ├──▶ failed   permanent refusal
       │                                              ├──▶ unknown  maybe accepted
       │                                              └──▶ planned  certainly not accepted
       │                                                   (transient error after retries,
       │                                                   provider configuration error)
       ├──▶ cancelled  stop status (paid, dispute, paused) or an API call
       ├──▶ expired    ``not_after`` passed before it could go out
       └──▶ suppressed policy at plan time or at the re-check before sending

    unknown ──resolve (a human, or a late answer from the provider)──▶ sent | failed

A row leaves ``sending`` only on an answer from the provider, or through the reaper once its
lease has expired, and then only to ``unknown``: never back to ``planned`` (§6.3).
"""

from __future__ import annotations

from enum import StrEnum


class MessageState(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    UNKNOWN = "unknown"

    @property
    def final(self) -> bool:
        """No automatic transition leaves this state (``unknown`` waits for a human)."""
        return self not in (MessageState.PLANNED, MessageState.SENDING)


# States that count as "contacted" for the caps at the re-check: a message that may have
# reached the borrower must hold the caps as if it had.
CONTACTED = (MessageState.SENDING, MessageState.SENT, MessageState.UNKNOWN)
# What a human may decide for an ``unknown`` message after checking the provider's console.
RESOLVABLE = (MessageState.SENT, MessageState.FAILED)


class Origin(StrEnum):
    """Why a row exists: the planner, a fallback after a permanent error, or an event."""

    PLAN = "plan"
    FALLBACK = "fallback"
    EVENT = "event"


class CancelReason(StrEnum):
    STATUS_PAID = "status_paid"
    STATUS_DISPUTE = "status_dispute"
    STATUS_PAUSED = "status_paused"
    API = "cancelled_by_api"


class RecheckReason(StrEnum):
    """Why the re-check right before sending stopped a message (suppressed or expired)."""

    FREQUENCY_CAP = "frequency_cap"
    MIN_GAP = "min_gap"
    BAD_CONTACT = "bad_contact"
    WINDOW_CLOSED = "window_closed"
    NOT_AFTER = "not_after_passed"
    NO_TEMPLATE = "no_template"
    RENDER_FAILED = "render_failed"
