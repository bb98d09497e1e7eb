"""Frequency caps and the minimum gap for one borrower's local day (SPEC §5.3).

Messages are considered most important first (the caller's ``rank``); each takes the
earliest time at or after the one it asked for that keeps ``min_gap`` from the messages
already placed and is still inside the window. A message that finds no such time is
suppressed ``min_gap``; one over a count cap is suppressed ``frequency_cap``; one whose
window has closed before it may go (``--at`` late in the day) is suppressed
``window_closed``. Gaps are measured in real elapsed time, not wall-clock time; send
times are given in the zone of ``closes`` (the borrower's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remindkit.models import require_aware
from remindkit.policy.decision import Decision, Reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Caps:
    per_installment_per_day: int = 1
    per_borrower_per_day: int = 2
    min_gap: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if self.per_installment_per_day < 0 or self.per_borrower_per_day < 0:
            raise ValueError("caps must not be negative")
        if self.min_gap < timedelta(0):
            raise ValueError("min_gap must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class SlotRequest:
    """A message asking for a time: ``earliest`` is its step time (or the planning time,
    whichever is later), ``closes`` the (exclusive) end of its window that day."""

    earliest: datetime
    closes: datetime
    installments: tuple[tuple[str, int], ...]
    rank: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        require_aware(self.earliest, "SlotRequest.earliest")
        require_aware(self.closes, "SlotRequest.closes")


def apply_caps(requests: Sequence[SlotRequest], caps: Caps) -> list[Decision]:
    """A decision per request, in the order given; requests are one borrower's local day."""
    if len(requests) == 1:  # most borrowers have one message a day: nothing to rank
        only = requests[0]
        return [place_alone(only.earliest, only.closes, caps, installments=bool(only.installments))]
    decisions: dict[int, Decision] = {}
    placed: list[datetime] = []
    per_installment: Counter[tuple[str, int]] = Counter()
    order = sorted(range(len(requests)), key=lambda i: (requests[i].rank, i))
    for index in order:
        request = requests[index]
        decision = _place(request, placed, per_installment, caps)
        if decision.planned and decision.send_at is not None:
            placed.append(decision.send_at.astimezone(UTC))
            per_installment.update(request.installments)
        decisions[index] = decision
    return [decisions[i] for i in range(len(requests))]


def place_alone(
    earliest: datetime, closes: datetime, caps: Caps, *, installments: bool = True
) -> Decision:
    """The decision for a borrower's only message of the day (``installments``: it is about
    some): what :func:`apply_caps` gives one request, without a :class:`SlotRequest`."""
    if earliest >= closes:
        return Decision.suppress(Reason.WINDOW_CLOSED)
    # Nothing placed yet: only a cap of 0 refuses.
    if caps.per_borrower_per_day <= 0 or (installments and caps.per_installment_per_day <= 0):
        return Decision.suppress(Reason.FREQUENCY_CAP)
    # The first message of the day goes when it asks, in the borrower's zone (the window's).
    return Decision.send(earliest.astimezone(closes.tzinfo))


def _place(
    request: SlotRequest,
    placed: list[datetime],
    per_installment: Counter[tuple[str, int]],
    caps: Caps,
) -> Decision:
    if request.earliest >= request.closes:
        return Decision.suppress(Reason.WINDOW_CLOSED)
    limit = caps.per_installment_per_day
    if len(placed) >= caps.per_borrower_per_day or (
        # Nothing placed yet counts 0 for every installment: only a cap of 0 refuses then.
        (per_installment or limit <= 0)
        and any(per_installment[key] >= limit for key in request.installments)
    ):
        return Decision.suppress(Reason.FREQUENCY_CAP)
    slot = _first_free(request, placed, caps.min_gap)
    if slot is None:
        return Decision.suppress(Reason.MIN_GAP)
    # In the borrower's zone, the zone of the window, whatever zone ``earliest`` came in.
    at = slot.astimezone(request.closes.tzinfo)
    note = f"deferred: {Reason.MIN_GAP.value}" if slot > request.earliest else None
    return Decision.send(at, note)


def _first_free(request: SlotRequest, placed: list[datetime], gap: timedelta) -> datetime | None:
    if not placed:  # the first message of the day goes when it asks, if the window is open
        return request.earliest if request.earliest < request.closes else None
    earliest = request.earliest.astimezone(UTC)
    closes = request.closes.astimezone(UTC)
    candidates = sorted({earliest, *(p + gap for p in placed if p + gap > earliest)})
    for candidate in candidates:
        if candidate >= closes:
            return None
        if all(abs(candidate - p) >= gap for p in placed):
            return candidate
    return None
