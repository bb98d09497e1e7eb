"""Test doubles and sample factories that remindkit users can import in their own tests.

``FrozenClock`` stands in for the system clock; ``make_installment``, ``demo_platform`` and
``demo_settings`` build valid values with sensible defaults, overridable by keyword. The
demo lender (禾苗金融) is fictional: use it in tests and previews, never to send.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from remindkit.config import Settings
from remindkit.models import Installment, Platform, require_aware
from remindkit.parse import parse_installment
from remindkit.resources import sample_platform, sample_platform_settings


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


def demo_platform(**overrides: Any) -> Platform:
    """The fictitious lender of the shipped samples (禾苗金融), for tests and previews only:
    :func:`remindkit.resources.sample_platform` with fields overridden by keyword."""
    return replace(sample_platform(), **overrides)


def demo_settings(**fields: Any) -> Settings:
    """Settings signed by the fictitious sample lender, for tests: a ``Kit`` built on them
    plans and renders (``Settings()`` alone has no platform and refuses). ``fields`` are
    further :class:`~remindkit.config.Settings` fields."""
    return Settings(platform=sample_platform_settings(), **fields)


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
