"""The service's plan job, in process with a fake clock: which slot it plans, once, and the
horizon that covers every borrower's coming local day whatever the zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from remindkit.crontab import cron_trigger
from remindkit.kit import Kit
from remindkit.models import Channel
from remindkit.outbox.plan_runs import PlannerLock, PlanRuns
from remindkit.service import Service, horizon_days, latest_fire_time
from remindkit.testing import RecordingProvider, demo_settings

FIELDS = "loan_id,borrower_id,name,gender,phone,amount_due,due_date,timezone"
ROWS = [
    "LSH2,BSH2,王芳,female,13800000001,100.00,2026-12-02,Asia/Shanghai",  # SMS on 12-01
    "LSH3,BSH3,李娜,female,13800000002,100.00,2026-12-03,Asia/Shanghai",  # SMS on 12-02
    "LLA2,BLA2,张伟,male,13800000003,100.00,2026-12-02,America/Los_Angeles",  # SMS on LA 12-01
]


def fire(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_latest_slot_at_or_before_now() -> None:
    daily = cron_trigger("30 8 * * *", "Asia/Shanghai")
    assert latest_fire_time(daily, fire("2026-12-01T08:30:00+08:00")) == fire("2026-12-01T00:30Z")
    assert latest_fire_time(daily, fire("2026-12-01T08:29:59+08:00")) == fire("2026-11-30T00:30Z")
    seconds = cron_trigger("*/2 * * * * *", "UTC")
    assert latest_fire_time(seconds, fire("2026-12-01T10:00:05.5+00:00")) == fire(
        "2026-12-01T10:00:04Z"
    )
    yearly = cron_trigger("0 9 1 1 *", "UTC")
    assert latest_fire_time(yearly, fire("2026-12-01T10:00:00+00:00")) == fire("2026-01-01T09:00Z")
    assert horizon_days(fire("2026-12-01T00:30Z"), fire("2026-12-02T00:30Z")) == 2
    assert horizon_days(fire("2026-12-01T00:30Z"), fire("2026-12-08T00:30Z")) == 8


class Clock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def service(store_url: str, tmp_path: Path) -> Iterator[Service]:
    feed = tmp_path / "feed.csv"
    feed.write_text("\n".join([FIELDS, *ROWS]) + "\n", encoding="utf-8")
    provider = RecordingProvider()
    kit = Kit(
        demo_settings(), store=store_url, providers={Channel.SMS: provider, Channel.PUSH: provider}
    )
    made = Service(kit, feed=feed, now=Clock(fire("2026-12-01T08:30:05+08:00")))
    made.prepare()
    yield made
    kit.close()


def planned_loans(service: Service) -> set[str]:
    return {m.loan_ids[0] for m in service.kit.outbox.messages(limit=100)}


def test_each_slot_is_planned_once_with_every_zones_coming_day(service: Service) -> None:
    service.plan_job()
    # Shanghai's day has begun (12-01); Los Angeles is still on 11-30 at 16:30, and its 12-01
    # window opens (01:00 in Shanghai) before tomorrow's 08:30 plan: planned now. Shanghai's
    # 12-02 waits for tomorrow's plan, with tomorrow's feed.
    assert planned_loans(service) == {"LSH2", "LLA2"}
    runs = PlanRuns(service.kit.outbox)
    slot = fire("2026-12-01T00:30:00Z")
    first = runs.get(slot)
    assert first is not None
    assert first.planned == 2
    service.plan_job()  # the same slot again (another daemon, a restart): nothing happens
    assert runs.get(slot) == first
    assert isinstance(service.now, Clock)
    service.now.moment = fire("2026-12-02T10:00:00+08:00")  # back after downtime at 08:30
    service.plan_job()
    assert planned_loans(service) == {"LSH2", "LLA2", "LSH3"}
    assert [run.slot for run in runs.recent()] == [fire("2026-12-02T00:30Z"), slot]


def test_a_slot_held_by_another_planner_is_left_to_it(service: Service) -> None:
    assert service.runs is not None
    other = PlannerLock(service.kit.outbox)  # another process's lock, in effect
    service.lock = PlannerLock(service.kit.outbox)
    assert isinstance(service.now, Clock)
    with other.attempt() as held:
        assert held
        service.now.moment = fire("2026-12-02T08:30:00+08:00")  # the next plan is due now
        service.plan_job()  # waits for the lock until the next slot, then gives up
    assert planned_loans(service) == set()
    assert service.runs.recent() == []
