"""Property-based tests of the planner over random feeds, time zones, settings and ``--at``."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remindkit.config import (
    CadenceProfile,
    Caps,
    ContactWindow,
    Settings,
    Step,
    default_settings,
)
from remindkit.models import Borrower, Channel, Installment, Status, zone_for
from remindkit.plan import Plan, Planner
from remindkit.policy.calendar import HolidayCalendar

ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Kathmandu",
    "America/New_York",
    "America/St_Johns",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)
STOP = (Status.PAID, Status.DISPUTE, Status.PAUSED)
CALENDAR = HolidayCalendar()
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def windows(draw: st.DrawFn) -> ContactWindow:
    start = draw(st.integers(8 * 60, 20 * 60))
    end = draw(st.integers(start + 1, 22 * 60))
    return ContactWindow(start=time(*divmod(start, 60)), end=time(*divmod(end, 60)))


@st.composite
def plan_settings(draw: st.DrawFn) -> Settings:
    caps = Caps(
        per_installment_per_day=draw(st.integers(1, 2)),
        per_borrower_per_day=draw(st.integers(1, 3)),
        min_gap_minutes=draw(st.integers(0, 300)),
    )
    cadence = {"default": draw(profiles()), "gold": draw(profiles())}
    update = {"window": draw(windows()), "caps": caps, "cadence": cadence}
    return default_settings().model_copy(update=update)


@st.composite
def profiles(draw: st.DrawFn) -> CadenceProfile:
    """Dense random profiles, send times anywhere in 08:00–21:59, so caps and windows bite."""
    offsets = draw(st.sets(st.integers(-7, 12), min_size=5, max_size=12))
    channel_orders = [
        (Channel.SMS,),
        (Channel.PUSH,),
        (Channel.PUSH, Channel.SMS),
        (Channel.SMS, Channel.PUSH),
    ]
    return CadenceProfile(
        steps=tuple(
            Step(
                offset_days=offset,
                channels=draw(st.sampled_from(channel_orders)),
                send_time=time(*divmod(draw(st.integers(8 * 60, 22 * 60 - 1)), 60)),
            )
            for offset in sorted(offsets)
        )
    )


@st.composite
def borrowers(draw: st.DrawFn, index: int) -> Borrower:
    return Borrower(
        id=f"B{index}",
        name="王芳",
        # Mostly reachable borrowers, so that caps and windows have messages to act on.
        phone=draw(st.sampled_from(["+8613800138000"] * 4 + [None])),
        push_token=draw(st.sampled_from([f"tok{index}"] * 2 + [None])),
        timezone=draw(st.sampled_from(ZONES)),
        opted_out=draw(st.sampled_from([frozenset()] * 4 + [frozenset({c}) for c in Channel])),
    )


@st.composite
def feeds(draw: st.DrawFn, around: date) -> list[Installment]:
    rows: list[Installment] = []
    for index in range(draw(st.integers(2, 5))):
        borrower = draw(borrowers(index))
        for number in range(1, draw(st.integers(2, 6)) + 1):
            rows.append(
                Installment(
                    loan_id=f"L{index}-{draw(st.integers(0, 2))}",
                    installment_no=number,
                    borrower=borrower,
                    amount_due=Decimal("100.00"),
                    due_date=around + timedelta(days=draw(st.integers(-12, 7))),
                    status=draw(st.sampled_from([Status.DUE] * 3 + list(Status))),
                    hardship=draw(st.booleans()),
                    segment=draw(st.sampled_from([None, "default", "gold"])),
                )
            )
    return _unique(rows)


def _unique(rows: list[Installment]) -> list[Installment]:
    seen: dict[tuple[str, str, int], Installment] = {}
    for row in rows:
        seen.setdefault((row.borrower.id, *row.key), row)
    return list(seen.values())


instants = st.datetimes(
    min_value=datetime(2025, 6, 1),  # noqa: DTZ001 (hypothesis adds the zone)
    max_value=datetime(2027, 6, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Settings, datetime, int, list[Installment]]:
    at = draw(instants)
    return draw(plan_settings()), at, draw(st.integers(1, 3)), draw(feeds(at.date()))


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(zone_for(timezone))


def _zones(feed: list[Installment]) -> dict[str, str]:
    return {row.borrower.id: row.borrower.timezone for row in feed}


@PROPERTY_SETTINGS
@given(cases())
def test_messages_stay_inside_the_window_and_the_horizon(
    case: tuple[Settings, datetime, int, list[Installment]],
) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    zones = _zones(feed)
    for message in result.planned:
        local = _local(message.send_at, zones[message.borrower_id])
        assert time(8) <= local.time() < time(22), message
        assert config.window.start <= local.time() < config.window.end, message
        assert local.date() == message.day
        assert at <= message.send_at < message.not_after
    for message in result.messages:
        first = _local(at, zones[message.borrower_id]).date()
        assert first <= message.day < first + timedelta(days=days)


@PROPERTY_SETTINGS
@given(cases())
def test_caps_are_never_exceeded(case: tuple[Settings, datetime, int, list[Installment]]) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    per_day: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    per_installment: Counter[tuple[str, date, tuple[str, int]]] = Counter()
    for message in result.planned:
        per_day[(message.borrower_id, message.day)].append(message.send_at)
        for item in message.installments:
            per_installment[(message.borrower_id, message.day, item.key)] += 1
    gap = timedelta(minutes=config.caps.min_gap_minutes)
    for times in per_day.values():
        assert len(times) <= config.caps.per_borrower_per_day
        ordered = sorted(t.astimezone(UTC) for t in times)
        assert all(b - a >= gap for a, b in pairwise(ordered))
    assert all(n <= config.caps.per_installment_per_day for n in per_installment.values())


@PROPERTY_SETTINGS
@given(cases())
def test_stop_statuses_pause_and_holidays_are_respected(
    case: tuple[Settings, datetime, int, list[Installment]],
) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    for message in result.messages:
        assert all(item.status not in STOP for item in message.installments)
        assert not CALENDAR.in_spring_festival_pause(message.day)
        if message.stage.is_overdue or message.stage.value == "plan_offer":
            assert CALENDAR.is_workday(message.day), message


@PROPERTY_SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_plan_is_the_same_for_a_shuffled_feed_and_a_second_run(
    case: tuple[Settings, datetime, int, list[Installment]], shuffle: random.Random
) -> None:
    config, at, days, feed = case
    planner = Planner(config)
    first = planner.plan(feed, at=at, days=days)
    shuffled = list(feed)
    shuffle.shuffle(shuffled)
    assert planner.plan(shuffled, at=at, days=days) == first
    assert Planner(config).plan(feed, at=at, days=days).to_json() == first.to_json()
    keys = [message.key for message in first.messages]
    assert len(keys) == len(set(keys))


@PROPERTY_SETTINGS
@given(plan_settings(), st.dates(date(2025, 6, 1), date(2027, 6, 30)), st.data())
def test_a_multi_day_plan_is_the_union_of_day_plans(
    config: Settings, first: date, data: st.DataObject
) -> None:
    """Nothing is lost or doubled however ``--days`` cuts the calendar."""
    feed = data.draw(feeds(first))
    zone = data.draw(st.sampled_from(ZONES))
    feed = [
        Installment(**{**_fields(row), "borrower": _in_zone(row.borrower, zone)}) for row in feed
    ]

    def morning(day: date) -> datetime:
        return datetime.combine(day, time(5), tzinfo=zone_for(zone))

    planner = Planner(config)
    week = planner.plan(feed, at=morning(first), days=4)
    days = [planner.plan(feed, at=morning(first + timedelta(n)), days=1) for n in range(4)]
    assert _messages(week) == sorted(m for plan in days for m in _messages(plan))


def _messages(result: Plan) -> list[tuple[str, ...]]:
    return sorted(
        (m.key, m.send_at.isoformat(), m.status.value, m.reason or "") for m in result.messages
    )


def _fields(row: Installment) -> dict[str, object]:
    return {name: getattr(row, name) for name in Installment.__dataclass_fields__}


def _in_zone(borrower: Borrower, zone: str) -> Borrower:
    return Borrower(
        id=borrower.id,
        name=borrower.name,
        phone=borrower.phone,
        push_token=borrower.push_token,
        timezone=zone,
        opted_out=borrower.opted_out,
    )
