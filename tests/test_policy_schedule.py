from datetime import date, time

import pytest

from remindkit.models import Channel
from remindkit.policy.cadence import CadenceStep
from remindkit.policy.calendar import DayKind, HolidayCalendar, Override
from remindkit.policy.schedule import (
    Hit,
    OverdueOnWorkdays,
    SpringFestivalPause,
    StepDate,
    StepSchedule,
)


def _step(offset: int, *channels: Channel) -> CadenceStep:
    return CadenceStep(offset_days=offset, channels=channels or (Channel.SMS,), send_time=time(10))


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return HolidayCalendar()


@pytest.fixture(scope="module")
def schedule(calendar: HolidayCalendar) -> StepSchedule:
    return StepSchedule((SpringFestivalPause(calendar), OverdueOnWorkdays(calendar)))


def test_overdue_step_on_a_statutory_holiday_waits_for_the_next_workday(
    calendar: HolidayCalendar,
) -> None:
    fired = OverdueOnWorkdays(calendar)(StepDate.nominal(date(2026, 10, 1), _step(1)))
    assert fired.day == date(2026, 10, 8)
    assert fired.note == "deferred: holiday 国庆节"


def test_overdue_step_on_a_weekend_waits_for_monday(calendar: HolidayCalendar) -> None:
    fired = OverdueOnWorkdays(calendar)(StepDate.nominal(date(2026, 10, 16), _step(1)))
    assert (fired.day, fired.note) == (date(2026, 10, 19), "deferred: weekend")


def test_a_weekday_made_a_day_off_by_the_override_file_is_not_called_a_weekend() -> None:
    # Wednesday 2 Dec 2026 off without a name, Thursday 3 Dec off for the company party.
    calendar = HolidayCalendar(
        {
            date(2026, 12, 2): Override(DayKind.HOLIDAY),
            date(2026, 12, 3): Override(DayKind.HOLIDAY, "公司年会"),
        }
    )
    rule = OverdueOnWorkdays(calendar)
    unnamed = rule(StepDate.nominal(date(2026, 12, 1), _step(1)))
    named = rule(StepDate.nominal(date(2026, 12, 2), _step(1)))
    assert (unnamed.day, unnamed.note) == (date(2026, 12, 4), "deferred: day off")
    assert (named.day, named.note) == (date(2026, 12, 4), "deferred: holiday 公司年会")


def test_overdue_step_on_a_make_up_workday_is_sent(calendar: HolidayCalendar) -> None:
    # 2026-10-10 is a Saturday worked in exchange for the National Day holiday (调休).
    fired = OverdueOnWorkdays(calendar)(StepDate.nominal(date(2026, 10, 9), _step(1)))
    assert (fired.day, fired.note) == (date(2026, 10, 10), None)


def test_pre_due_and_due_day_steps_are_sent_on_holidays(calendar: HolidayCalendar) -> None:
    rule = OverdueOnWorkdays(calendar)
    for offset in (-1, 0):
        fired = rule(StepDate.nominal(date(2026, 10, 2), _step(offset)))
        assert fired.day == date(2026, 10, 2 + offset)
        assert fired.note is None


def test_pre_due_step_inside_the_pause_for_a_due_date_inside_goes_before_it(
    calendar: HolidayCalendar,
) -> None:
    # 2026: 除夕 16 Feb … 初三 19 Feb; 14 Feb is a make-up Saturday, the last workday before.
    fired = SpringFestivalPause(calendar)(StepDate.nominal(date(2026, 2, 18), _step(-1)))
    assert fired.day == date(2026, 2, 14)
    assert fired.note == "moved: Spring Festival pause 2026-02-16..2026-02-19"


def test_pre_due_step_inside_the_pause_for_a_later_due_date_goes_after_it(
    calendar: HolidayCalendar,
) -> None:
    fired = SpringFestivalPause(calendar)(StepDate.nominal(date(2026, 2, 21), _step(-3)))
    assert fired.day == date(2026, 2, 20)


def test_the_pause_length_is_configurable(calendar: HolidayCalendar) -> None:
    rule = SpringFestivalPause(calendar, last_day=6)
    fired = rule(StepDate.nominal(date(2026, 2, 21), _step(-1)))  # 20 Feb is 初四
    assert fired.day == date(2026, 2, 14)


def test_overdue_step_after_the_pause_also_waits_for_a_workday(schedule: StepSchedule) -> None:
    fired = schedule.effective(date(2026, 2, 16), _step(1))
    assert fired.day == date(2026, 2, 24)
    assert fired.note == (
        "moved: Spring Festival pause 2026-02-16..2026-02-19; deferred: holiday 春节"
    )


def test_every_step_fires_on_exactly_one_day(schedule: StepSchedule) -> None:
    steps = [_step(offset) for offset in (-3, -1, 0, 1, 3, 7, 15, 30)]
    for due in (date(2026, 2, 16), date(2026, 10, 1), date(2026, 12, 31)):
        days = [date.fromordinal(due.toordinal() + n) for n in range(-40, 60)]
        fired_per_step = {
            step.offset_days: sum(
                1 for day in days for hit in schedule.hits(steps, due, [day]) if hit.step == step
            )
            for step in steps
        }
        merged = schedule.hits(steps, due, days)
        assert len({hit.day for hit in merged}) == len(merged)
        assert all(count <= 1 for count in fired_per_step.values())


def test_steps_landing_on_one_day_collapse_into_the_latest(schedule: StepSchedule) -> None:
    steps = [_step(1), _step(3), _step(7)]
    hits = schedule.hits(steps, date(2026, 10, 1), [date(2026, 10, 8)])
    assert hits == (
        Hit(
            day=date(2026, 10, 8),
            step=_step(7),
            note="deferred: holiday 国庆节; merged: steps +1, +3",
        ),
    )


def test_hits_outside_the_days_are_not_returned(schedule: StepSchedule) -> None:
    assert schedule.hits([_step(-1)], date(2026, 12, 10), [date(2026, 12, 1)]) == ()
