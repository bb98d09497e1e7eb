"""Frozen value objects that cross module boundaries (feed → plan → outbox → dispatch)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from remindkit.errors import ArgumentError

DEFAULT_TIMEZONE = "Asia/Shanghai"
# The dates remindkit plans within (due dates, --at, a context's now): back far enough for
# loans long in collection, ahead far enough for a 30-year loan, and inside the range of
# the lunar calendar (1900–2099) the Spring Festival pause needs. Outside it a date is a
# data error, and date arithmetic near the years 1 and 9999 would overflow.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


class Channel(StrEnum):
    SMS = "sms"
    PUSH = "push"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = ""


class Status(StrEnum):
    """Installment status from the feed; only ``due`` and ``plan`` receive reminders."""

    DUE = "due"
    PAID = "paid"
    PLAN = "plan"
    DISPUTE = "dispute"
    PAUSED = "paused"


class Stage(StrEnum):
    """Where an installment stands relative to its due date (SPEC §5.1), plus event stages."""

    PRE_DUE = "pre_due"
    DUE_TODAY = "due_today"
    OVERDUE_EARLY = "overdue_early"
    OVERDUE = "overdue"
    OVERDUE_LATE = "overdue_late"
    PAYMENT_RECEIVED = "payment_received"
    PLAN_OFFER = "plan_offer"
    PLAN_INSTALLMENT = "plan_installment"
    CREDIT_NOTICE = "credit_notice"

    @classmethod
    def for_days_past_due(cls, dpd: int) -> Stage | None:
        """The reminder stage for ``dpd`` days past due; ``None`` before the pre-due window."""
        if dpd < -7:
            return None
        if dpd < 0:
            return cls.PRE_DUE
        if dpd == 0:
            return cls.DUE_TODAY
        if dpd <= 7:
            return cls.OVERDUE_EARLY
        if dpd <= 30:
            return cls.OVERDUE
        return cls.OVERDUE_LATE

    @property
    def is_overdue(self) -> bool:
        return self in (Stage.OVERDUE_EARLY, Stage.OVERDUE, Stage.OVERDUE_LATE)


# What a lender may offer a borrower who cannot pay in full (SPEC §13), in the order
# templates list them, with the words that promise each one in a message.
OFFER_TERMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "分期": ("分期",),
        "延期": ("延期", "展期"),
        "部分还款": ("部分还款", "先还一部分"),
        "减免": ("减免", "免息", "免除"),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    """The lender as borrowers see it. ``signature`` is shown as 【signature】 before every SMS;
    ``offers`` are the options the lender really makes (keys of :data:`OFFER_TERMS`);
    ``neutral_address`` greets a borrower of unknown gender (empty: plain 「您好」)."""

    name: str
    signature: str
    hotline: str
    app_name: str
    repay_url: str
    offers: tuple[str, ...] = ()
    neutral_address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Borrower:
    """The person who owes an installment. ``phone`` is E.164 (``+8613800138000``)."""

    id: str
    name: str
    gender: Gender = Gender.UNKNOWN
    phone: str | None = None
    push_token: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    opted_out: frozenset[Channel] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return zone_for(self.timezone)


@dataclass(frozen=True, slots=True, kw_only=True)
class Installment:
    """One amount due on one date for one loan: the unit of planning (SPEC §2, §3)."""

    loan_id: str
    installment_no: int = 1
    installments_total: int | None = None
    borrower: Borrower
    amount_due: Decimal
    due_date: date
    status: Status = Status.DUE
    product: str | None = None
    segment: str | None = None
    hardship: bool = False
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> tuple[str, int]:
        return (self.loan_id, self.installment_no)

    def days_past_due(self, today: date) -> int:
        """Days since the due date in the borrower's calendar; negative before it."""
        return (today - self.due_date).days


_ZONES: dict[str, ZoneInfo] = {}


def zone_for(name: str) -> ZoneInfo:
    """A cached ``ZoneInfo`` (constructing one per row is measurable in a 1M-row plan)."""
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def require_in_range(value: date, what: str = "date") -> None:
    """Refuse a date (or a datetime, by its own calendar date) outside ``EARLIEST_DATE`` …
    ``LATEST_DATE`` with an :class:`~remindkit.errors.ArgumentError` naming ``what``."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ArgumentError(
            what, f"must be from {EARLIEST_DATE} to {LATEST_DATE}, got {value.isoformat()}"
        )


_ALWAYS_AWARE = (ZoneInfo, type(UTC))


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Reject naive datetimes at the edges; remindkit never guesses a time zone.

    Raises :class:`~remindkit.errors.ArgumentError` (a ``ValueError``) naming ``what``, or
    ``TypeError`` when ``value`` is not a datetime at all.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{what}: expected a datetime, got {type(value).__name__}")
    zone = value.tzinfo
    # ZoneInfo and timezone always give an offset: no utcoffset() call (a plan checks
    # several datetimes per message).
    if zone is None or (zone.__class__ not in _ALWAYS_AWARE and value.utcoffset() is None):
        raise ArgumentError(
            what, f"must be timezone-aware (with a UTC offset), got {value.isoformat()}"
        )
    return value
