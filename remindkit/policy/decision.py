"""What a policy answers: send at T, send later with a note, or suppress with a reason.

Suppression reasons are short machine-readable codes (SPEC §5.3 names them); notes on
messages that are still planned start with ``deferred:`` or ``moved:`` and say why in words
an operator reads in ``remindkit plan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from remindkit.models import require_aware


class MessageStatus(StrEnum):
    """The two states a plan can give a message (the outbox adds the rest, SPEC §6.2)."""

    PLANNED = "planned"
    SUPPRESSED = "suppressed"


class Reason(StrEnum):
    """Why a message is suppressed."""

    WINDOW_CLOSED = "window_closed"
    FREQUENCY_CAP = "frequency_cap"
    MIN_GAP = "min_gap"
    OPTED_OUT = "opted_out"
    NO_CONTACT = "no_contact"
    NO_TEMPLATE = "no_template"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A policy's verdict on one message; ``reason`` is a code when suppressed, else a note."""

    status: MessageStatus
    send_at: datetime | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.send_at is not None:
            require_aware(self.send_at, "Decision.send_at")

    @classmethod
    def send(cls, at: datetime, note: str | None = None) -> Decision:
        return cls(status=MessageStatus.PLANNED, send_at=at, reason=note)

    @classmethod
    def suppress(cls, reason: Reason | str) -> Decision:
        return cls(status=MessageStatus.SUPPRESSED, reason=str(reason))

    @property
    def planned(self) -> bool:
        return self.status is MessageStatus.PLANNED


_SEPARATOR = "; "


def join_notes(*notes: str | None) -> str | None:
    """Several notes on one message, in the order the policies added them, each once."""
    parts = [part for note in notes if note for part in note.split(_SEPARATOR)]
    return _SEPARATOR.join(dict.fromkeys(parts)) if parts else None
