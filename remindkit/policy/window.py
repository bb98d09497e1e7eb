"""The contact window in the borrower's own time zone (SPEC §5.3).

Nothing is ever sent between 22:00 and 08:00 local (collection rules §1: no collection
contact 22:00–08:00); the configured window must sit inside 08:00–22:00. The window is
``[start, end)``: its end is exclusive (as in ``remindkit.config.ContactWindow``), so the
latest send time is one minute before it. A step time outside the window moves to the
nearest time inside it on the same local day, and a message not sent by the window's end
that day expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from remindkit.models import zone_for

NO_CONTACT_START = time(22, 0)
NO_CONTACT_END = time(8, 0)
NO_CONTACT_RULE = (
    "no collection contact 22:00–08:00 local (NIFA 2024, national standard 2025, CBA 2026)"
)
# Config times have minute resolution: the last minute of an exclusive window.
_LAST_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendWindow:
    """The daily local window ``[start, end)``; ``end`` is also the expiry time."""

    start: time = time(9, 0)
    end: time = time(20, 0)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"window start {self.start} must be before end {self.end}")
        if in_no_contact_period(self.start) or self.end > NO_CONTACT_START:
            raise ValueError(
                f"window {self.start}–{self.end} reaches into 22:00–08:00; "
                f"hard limit: {NO_CONTACT_RULE}"
            )

    @property
    def latest(self) -> time:
        """The last minute a message may start going out."""
        return (datetime.combine(date.min, self.end) - _LAST_MINUTE).time()

    def fit(self, wanted: time) -> time:
        """The nearest time inside the window on the same day."""
        if wanted < self.start:
            return self.start
        if wanted >= self.end:
            return self.latest
        return wanted

    def closes(self, day: date, timezone: str) -> datetime:
        """When an unsent message of ``day`` expires (``not_after``)."""
        return local_time(day, self.end, timezone)


def in_no_contact_period(moment: time) -> bool:
    """True from 22:00 (inclusive) to 08:00 (exclusive), local time."""
    return moment >= NO_CONTACT_START or moment < NO_CONTACT_END


@lru_cache(maxsize=65536)
def local_time(day: date, wall: time, timezone: str) -> datetime:
    """An aware datetime for a wall-clock time on a local day (cached: asked per message).

    A time that occurs twice (clocks falling back) is its first occurrence; a time that does
    not exist (clocks springing forward) is the instant of the jump, written in the offset
    in force from then, as every time in a plan is.
    """
    zone = zone_for(timezone)
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC).astimezone(zone)
