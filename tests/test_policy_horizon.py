from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from remindkit.models import Channel
from remindkit.policy.cadence import Cadence, CadenceStep
from remindkit.policy.horizon import HitFinder, Horizon
from remindkit.policy.schedule import StepSchedule

AT = datetime(2026, 12, 2, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 1 Dec 23:00 in Urumqi


def test_days_are_the_borrower_local_days_of_at() -> None:
    horizon = Horizon(AT, days=2)
    assert horizon.days("Asia/Shanghai") == (date(2026, 12, 2), date(2026, 12, 3))
    assert horizon.days("Asia/Urumqi") == (date(2026, 12, 1), date(2026, 12, 2))


def test_horizon_needs_an_aware_time_and_a_sane_length() -> None:
    with pytest.raises(ValueError, match="aware"):
        Horizon(datetime(2026, 12, 1), 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="days"):
        Horizon(AT, 0)


def test_hits_depend_on_the_zone_through_its_days() -> None:
    step = CadenceStep(offset_days=-1, channels=(Channel.SMS,), send_time=time(10))
    finder = HitFinder(Cadence(profiles={"default": (step,)}), StepSchedule(), Horizon(AT))
    assert [h.day for h in finder.hits("default", date(2026, 12, 3), "Asia/Shanghai")] == [
        date(2026, 12, 2)
    ]
    assert finder.hits("default", date(2026, 12, 3), "Asia/Urumqi") == ()
