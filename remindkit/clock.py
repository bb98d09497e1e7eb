"""Time is injected: every component asks a ``Clock``, so tests and ``--at`` can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from remindkit.errors import ArgumentError
from remindkit.models import require_in_range


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


MAX_INSTANT_TEXT = 64  # the longest ISO 8601 spelling has about 40 characters


def parse_instant(text: str, what: str = "--at") -> datetime:
    """An ISO 8601 instant with its UTC offset (``2026-12-01T10:00+08:00``) from 2000 to
    2099 (``remindkit.models.EARLIEST_DATE`` … ``LATEST_DATE``); naive is refused."""
    shown = repr(text) if len(text) <= MAX_INSTANT_TEXT else f"{text[:MAX_INSTANT_TEXT]!r}…"
    try:
        if len(text) > MAX_INSTANT_TEXT:
            raise ValueError(text)
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ArgumentError(
            what, f"expected ISO 8601 such as 2026-12-01T10:00+08:00, got {shown}"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ArgumentError(what, f"needs a UTC offset such as +08:00, got {shown}")
    require_in_range(value, what)
    return value
