"""Test doubles and sample factories that remindkit users can import in their own tests.

``FrozenClock`` stands in for the system clock; ``make_installment`` and ``demo_platform``
build valid values with sensible defaults, overridable by keyword.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from remindkit.config import PlatformSettings
from remindkit.models import Installment, Platform, require_aware
from remindkit.parse import parse_installment


class FrozenClock:
    """A clock that stands still until told to move; satisfies ``remindkit.clock.Clock``."""

    def __init__(self, now: datetime) -> None:
        self._now = require_aware(now, "FrozenClock time")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, now: datetime) -> None:
        self._now = require_aware(now, "FrozenClock time")


def demo_platform(**overrides: str) -> Platform:
    """The fictitious lender of the shipped samples and built-in settings (禾苗金融)."""
    return replace(PlatformSettings().to_platform(), **overrides)


def make_installment(**fields: Any) -> Installment:
    """A valid installment from feed-style fields (SPEC §3); defaults fill the rest.

    Values go through the same validation as a feed row, so a test cannot build an
    installment the feed would have rejected.
    """
    row: dict[str, Any] = {
        "loan_id": "HM20260001",
        "borrower_id": "B0001",
        "name": "王芳",
        "gender": "female",
        "phone": "13800138000",
        "amount_due": "1234.50",
        "due_date": "2026-12-01",
    }
    row.update(fields)
    return parse_installment(row)
