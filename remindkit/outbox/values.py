"""The values the store takes and gives: what enqueueing did, status updates, transitions.

Frozen, keyword-only, and free of SQLAlchemy: the dispatcher and the kit build and read
them without knowing how the store keeps its rows.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from remindkit.models import Status
from remindkit.outbox.states import MessageState

# Rows per statement: small enough for SQLite's 32,766 bound parameters with ~30 columns.
BATCH = 500
T = TypeVar("T")
InstallmentRef = tuple[str, int]


def worker_id() -> str:
    """``host:pid:random``: unique per process, readable in ``events.worker``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnqueueResult:
    inserted: int = 0
    already_known: int = 0
    suppressed: int = 0

    def __add__(self, other: EnqueueResult) -> EnqueueResult:
        return EnqueueResult(
            inserted=self.inserted + other.inserted,
            already_known=self.already_known + other.already_known,
            suppressed=self.suppressed + other.suppressed,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """The latest status of one installment, from a feed row or the backend."""

    loan_id: str
    installment_no: int
    borrower_id: str
    status: Status
    context: str | None = None  # snapshot of the feed row, kept for the thank-you

    @property
    def ref(self) -> InstallmentRef:
        return (self.loan_id, self.installment_no)


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstPaid:
    """An installment seen ``paid`` for the first time, and whether it had a reminder sent
    recently (SPEC §5.1: the thank-you goes only to borrowers who were reminded)."""

    update: StatusUpdate
    paid_at: datetime
    context: str  # the feed row's snapshot, else the latest message's
    reminded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One message moving from the state the caller holds to ``to``, with its columns."""

    key: str
    to: MessageState
    reason: str | None = None
    values: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A message that may have reached the borrower (for the caps at the re-check)."""

    borrower_id: str
    key: str
    sent_at: datetime
    installments: tuple[InstallmentRef, ...]


def chunks(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
