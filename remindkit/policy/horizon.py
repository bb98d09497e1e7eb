"""The local days a plan covers, per time zone, and which steps fire on them.

``remindkit plan --at T --days N`` covers, for each borrower, the N local days starting
with the borrower-local date of T. A feed of a million rows has a handful of time zones,
cadence profiles and due dates, so both answers are cached: a row costs a few dict
look-ups, and rows with nothing to send that day are dropped at once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from remindkit.errors import ArgumentError
from remindkit.models import require_aware, require_in_range, zone_for
from remindkit.policy.cadence import Cadence
from remindkit.policy.schedule import Hit, StepSchedule

MAX_DAYS = 366


class Horizon:
    """The planned local days for each time zone."""

    def __init__(self, at: datetime, days: int = 1) -> None:
        require_aware(at, "at")
        require_in_range(at, "at")
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days: expected an int, got {type(days).__name__}")
        if not 1 <= days <= MAX_DAYS:
            raise ArgumentError("days", f"must be 1–{MAX_DAYS}, got {days}")
        self.at = at
        self.length = days
        self._days: dict[str, tuple[date, ...]] = {}

    def days(self, timezone: str) -> tuple[date, ...]:
        cached = self._days.get(timezone)
        if cached is None:
            first = self.at.astimezone(zone_for(timezone)).date()
            cached = tuple(first + timedelta(days=n) for n in range(self.length))
            self._days[timezone] = cached
        return cached


class HitFinder:
    """The steps firing in the horizon for (profile, due date, time zone), cached."""

    def __init__(self, cadence: Cadence, schedule: StepSchedule, horizon: Horizon) -> None:
        self.cadence = cadence
        self.schedule = schedule
        self.horizon = horizon
        self._hits: dict[tuple[str, date, date], tuple[Hit, ...]] = {}

    def hits(self, profile: str, due: date, timezone: str) -> tuple[Hit, ...]:
        days = self.horizon.days(timezone)
        key = (profile, due, days[0])
        cached = self._hits.get(key)
        if cached is None:
            steps = self.cadence.steps(profile)
            cached = self._hits[key] = self.schedule.hits(steps, due, days)
        return cached
