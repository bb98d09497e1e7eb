"""Property-based tests of the planner over random feeds, time zones, settings and ``--at``."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remindkit import spill
from remindkit.config import (
    CadenceProfile,
    Caps,
    ContactWindow,
    Settings,
    Step,
    default_settings,
)
from remindkit.feed import FeedItem, RejectedRow
from remindkit.models import Borrower, Channel, Gender, Installment, Stage, Status, zone_for
from remindkit.plan import Plan, PlannedMessage, Planner, _plan_order, _Run
from remindkit.policy.calendar import HolidayCalendar
from remindkit.render import TemplateCatalog, shipped_templates_dir
from remindkit.testing import make_installment

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
    "America/Vancouver",
    # Clocks change at 22:00 here: 21:00–22:00 happens twice in April, 22:00–23:00 is
    # skipped in September, so window times fall in a DST overlap or gap.
    "Pacific/Easter",
)
STOP = (Status.PAID, Status.DISPUTE, Status.PAUSED)
CALENDAR = HolidayCalendar()
PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


WIDEST = ContactWindow(start=time(8), end=time(22))


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
        # Mostly usual gaps so that caps bite; any gap the settings accept now and then.
        min_gap_minutes=draw(st.one_of(st.sampled_from([0, 60, 120]), st.integers(0, 540))),
    )
    cadence = {"default": draw(profiles()), "gold": draw(profiles())}
    window = draw(st.one_of(st.just(ContactWindow()), st.just(WIDEST), windows()))
    update = {"window": window, "caps": caps, "cadence": cadence}
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
            if draw(st.integers(0, 19)) == 0:  # now and then a row in another zone
                rows[-1] = _in_zone(rows[-1], draw(st.sampled_from(ZONES)))
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


# Around 除夕 (2026-02-16, 2027-02-05), so that the Spring Festival pause is met often.
festive_instants = st.one_of(
    *(
        st.datetimes(
            min_value=first,
            max_value=first + timedelta(days=14),
            timezones=st.just(UTC),
        )
        for first in (datetime(2026, 2, 9), datetime(2027, 1, 29))  # noqa: DTZ001 (naive bounds)
    )
)


@st.composite
def window_edges(draw: st.DrawFn, window: ContactWindow) -> datetime:
    """``--at`` exactly at (or just before) a window edge in one of the zones, given in UTC."""
    day = draw(st.dates(date(2025, 6, 1), date(2027, 6, 30)))
    edge = draw(st.sampled_from([window.start, window.end]))
    before = draw(st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(minutes=1)]))
    local = datetime.combine(day, edge, tzinfo=zone_for(draw(st.sampled_from(ZONES))))
    return (local - before).astimezone(UTC)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Settings, datetime, int, list[Installment]]:
    config = draw(plan_settings())
    at = draw(st.one_of(instants, festive_instants, window_edges(config.window)))
    return config, at, draw(st.integers(1, 3)), draw(feeds(at.date()))


def _local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(zone_for(timezone))


def _zones(result: Plan) -> dict[str, str]:
    """Each borrower's zone: the zone of their first installment (by loan id and number) of
    those in the plan. (A row in a second zone with nothing to send in its own zone's days is
    dropped while the feed streams, before the borrower's zone is known.)"""
    first: dict[str, Installment] = {}
    for message in result.messages:
        for item in message.installments:
            known = first.get(message.borrower_id)
            if known is None or item.key < known.key:
                first[message.borrower_id] = item
    return {borrower: item.borrower.timezone for borrower, item in first.items()}


@PROPERTY_SETTINGS
@given(cases())
def test_messages_stay_inside_the_window_and_the_horizon(
    case: tuple[Settings, datetime, int, list[Installment]],
) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    zones = _zones(result)
    for message in result.planned:
        local = _local(message.send_at, zones[message.borrower_id])
        assert time(8) <= local.time() < time(22), message
        assert config.window.start <= local.time() < config.window.end, message
        assert local.date() == message.day
        assert at <= message.send_at < message.not_after
    for message in result.messages:
        zone = zones[message.borrower_id]
        first = _local(at, zone).date()
        assert first <= message.day < first + timedelta(days=days)
        # Times carry the borrower's offset in force at that instant (SPEC §9).
        for moment in (message.send_at, message.not_after):
            assert moment.isoformat() == _local(moment, zone).isoformat(), message


@PROPERTY_SETTINGS
@given(cases())
def test_caps_are_never_exceeded(case: tuple[Settings, datetime, int, list[Installment]]) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    per_day: Counter[tuple[str, date]] = Counter()
    per_installment: Counter[tuple[str, date, tuple[str, int]]] = Counter()
    per_borrower: dict[str, list[datetime]] = defaultdict(list)
    for message in result.planned:
        per_day[(message.borrower_id, message.day)] += 1
        per_borrower[message.borrower_id].append(message.send_at.astimezone(UTC))
        for item in message.installments:
            per_installment[(message.borrower_id, message.day, item.key)] += 1
    assert all(n <= config.caps.per_borrower_per_day for n in per_day.values())
    assert all(n <= config.caps.per_installment_per_day for n in per_installment.values())
    # The gap holds across days too: settings keep it shorter than the shortest night.
    gap = timedelta(minutes=config.caps.min_gap_minutes)
    for times in per_borrower.values():
        assert all(b - a >= gap for a, b in pairwise(sorted(times)))


@PROPERTY_SETTINGS
@given(cases())
def test_stop_statuses_opt_outs_wording_pause_and_holidays_are_respected(
    case: tuple[Settings, datetime, int, list[Installment]],
) -> None:
    config, at, days, feed = case
    result = Planner(config).plan(feed, at=at, days=days)
    for message in result.messages:
        assert all(item.status not in STOP for item in message.installments)
        assert not CALENDAR.in_spring_festival_pause(message.day)
        if message.stage.is_overdue or message.stage is Stage.PLAN_OFFER:
            assert CALENDAR.is_workday(message.day), message
        plan_wording = [
            item.hardship or item.status is Status.PLAN for item in message.installments
        ]
        # Hardship and repayment plans get plan_offer wording once overdue, and only they do.
        if message.stage is Stage.PLAN_OFFER:
            assert all(plan_wording), message
        assert not (message.stage.is_overdue and any(plan_wording)), message
    for message in result.planned:
        assert _usable(message), message


def _usable(message: PlannedMessage) -> bool:
    """Every merged installment's borrower accepts the channel and can be reached on it."""
    contact = {Channel.SMS: "phone", Channel.PUSH: "push_token"}[message.channel]
    return all(
        message.channel not in item.borrower.opted_out
        and getattr(item.borrower, contact) is not None
        for item in message.installments
    )


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
    feed = [_in_zone(row, zone) for row in feed]

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


def _in_zone(row: Installment, zone: str) -> Installment:
    return replace(row, borrower=replace(row.borrower, timezone=zone))


# --- Streaming and spilling -------------------------------------------------------------

IN_MEMORY = 10**9  # a threshold no test feed reaches: every kept row stays in memory


@st.composite
def rich_feeds(draw: st.DrawFn, around: date) -> list[FeedItem]:
    """Feeds with every field a spill must carry back, duplicate rows and rejected rows."""
    rows: list[FeedItem] = []
    for plain in draw(feeds(around)):
        row = replace(
            plain,
            amount_due=Decimal(draw(st.integers(1, 10**9))) / 100,
            installments_total=draw(st.sampled_from([None, 12])),
            product=draw(st.sampled_from([None, "禾苗贷"])),
            extra=draw(st.sampled_from([{}, {"branch": "深圳", "渠道": ""}])),
            borrower=replace(plain.borrower, gender=draw(st.sampled_from(list(Gender)))),
        )
        rows.append(row)
        if draw(st.integers(0, 9)) == 0:  # the same installment again, maybe changed
            rows.append(replace(row, amount_due=draw(st.sampled_from([row.amount_due, 1]))))
        if draw(st.integers(0, 9)) == 0:
            rows.append(RejectedRow(len(rows), "amount_due", "must be greater than 0"))
        if draw(st.integers(0, 9)) == 0:  # the same loan under another borrower (a warning)
            other = replace(row.borrower, id=draw(st.sampled_from(["B0", "B1", "B9"])))
            rows.append(replace(row, borrower=other))
    return rows


def _arranged(feed: list[FeedItem], how: str, rng: random.Random) -> list[FeedItem]:
    """The feed shuffled, grouped by borrower in random order, or sorted by borrower."""
    if how == "shuffled":
        return rng.sample(feed, len(feed))
    groups: dict[str, list[FeedItem]] = defaultdict(list)
    for item in feed:
        groups[item.borrower.id if isinstance(item, Installment) else ""].append(item)
    order = sorted(groups) if how == "sorted" else rng.sample(sorted(groups), len(groups))
    return [item for borrower in order for item in groups[borrower]]


@PROPERTY_SETTINGS
@given(
    cases(),
    st.data(),
    st.sampled_from(["shuffled", "grouped", "sorted"]),
    st.integers(1, 4),
    st.sampled_from([spill.MAX_RUNS, 1, 2]),
    st.randoms(use_true_random=False),
)
def test_streaming_and_spilling_give_the_plan_held_in_memory(
    case: tuple[Settings, datetime, int, list[Installment]],
    data: st.DataObject,
    how: str,
    limit: int,
    max_runs: int,
    rng: random.Random,
) -> None:
    config, at, days, _ = case
    feed = _arranged(data.draw(rich_feeds(at.date())), how, rng)
    reference = Planner(config, spill_after=IN_MEMORY).plan(feed, at=at, days=days)
    with patch.object(spill, "MAX_RUNS", max_runs):
        spilled = Planner(config, spill_after=limit).plan(feed, at=at, days=days)
        stream = Planner(config, spill_after=limit).stream(feed, at=at, days=days)
        streamed = list(stream)
    assert spilled == reference
    assert sorted(streamed, key=_plan_order) == list(reference.messages)
    assert (stream.rejected_rows, stream.warnings) == (reference.rejected_rows, reference.warnings)
    # Borrower by borrower, in borrower-id order, whatever the feed order.
    borrowers = [message.borrower_id for message in streamed]
    assert borrowers == sorted(borrowers)
    kept_rows = sum(len(message.installments) for message in reference.messages)
    if limit == 1 and kept_rows:
        assert stream.spilled_rows > 0
    # The keys and warnings never depend on feed order or on the threshold.
    in_order = Planner(config).plan(_arranged(feed, "sorted", rng), at=at, days=days)
    assert {m.key for m in in_order.messages} == {m.key for m in reference.messages}
    assert in_order.warnings == reference.warnings


@PROPERTY_SETTINGS
@given(cases(), st.data(), st.booleans())
def test_the_lone_message_shortcut_plans_what_the_general_path_plans(
    case: tuple[Settings, datetime, int, list[Installment]], data: st.DataObject, templates: bool
) -> None:
    config, at, days, _ = case
    feed = data.draw(rich_feeds(at.date()))
    catalog = TemplateCatalog(shipped_templates_dir()) if templates else None
    shortcut = Planner(config, catalog=catalog).plan(feed, at=at, days=days)
    with patch.object(_Run, "lone_fast_path", False):
        general = Planner(config, catalog=catalog).plan(feed, at=at, days=days)
    assert shortcut == general
    assert shortcut.to_json() == general.to_json()  # send times in the same zone too


def test_a_stream_tells_rejected_rows_and_warnings_only_once_exhausted() -> None:
    at = datetime(2026, 12, 1, 8, 30, tzinfo=zone_for("Asia/Shanghai"))
    row = make_installment(due_date="2026-12-02", segment="vip")
    stream = Planner(default_settings()).stream([row, row], at=at)
    with pytest.raises(RuntimeError, match="once every message was read"):
        _ = stream.warnings
    assert [message.loan_ids for message in stream] == [("HM20260001",)]
    assert stream.rejected_rows == ()
    assert len(stream.warnings) == 2  # the unknown segment, the duplicate row


def test_an_abandoned_stream_removes_its_spill(tmp_path: Path) -> None:
    at = datetime(2026, 12, 1, 8, 30, tzinfo=zone_for("Asia/Shanghai"))
    rows = [
        make_installment(borrower_id=f"B{n}", loan_id=f"L{n}", due_date="2026-12-02")
        for n in range(5)
    ]
    planner = Planner(default_settings(), spill_after=2, spill_directory=tmp_path)
    with planner.stream(rows, at=at) as stream:
        next(stream)
        assert stream.spilled_rows == 5
        assert list(tmp_path.iterdir())
    assert not list(tmp_path.iterdir())


def test_spill_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="spill_after"):
        Planner(default_settings(), spill_after=0)
