from datetime import UTC, date, datetime, time

import pytest

from remindkit.policy.window import SendWindow, in_no_contact_period, local_time


def test_fit_moves_times_into_the_window_on_the_same_day() -> None:
    window = SendWindow(start=time(9), end=time(20))
    assert window.fit(time(7, 30)) == time(9)
    assert window.fit(time(10)) == time(10)
    assert window.fit(time(19, 59)) == time(19, 59)
    # The end is exclusive: the last minute before it is the nearest time inside.
    assert window.fit(time(20)) == time(19, 59)
    assert window.fit(time(21, 30)) == time(19, 59)


@pytest.mark.parametrize(
    ("start", "end"), [(time(7, 59), time(20)), (time(9), time(22, 1)), (time(12), time(11))]
)
def test_windows_reaching_into_the_night_or_reversed_are_refused(start: time, end: time) -> None:
    with pytest.raises(ValueError, match=r"hard limit: no collection contact|before end"):
        SendWindow(start=start, end=end)


def test_window_may_end_exactly_at_22() -> None:
    assert SendWindow(start=time(8), end=time(22)).latest == time(21, 59)


def test_the_window_closes_at_its_end_in_the_borrowers_zone() -> None:
    window = SendWindow()
    assert window.closes(date(2026, 12, 1), "Asia/Urumqi").isoformat() == (
        "2026-12-01T20:00:00+06:00"
    )
    assert window.closes(date(2026, 12, 1), "Asia/Shanghai").isoformat() == (
        "2026-12-01T20:00:00+08:00"
    )


@pytest.mark.parametrize(
    ("moment", "inside"),
    [(time(21, 59, 59), False), (time(22), True), (time(7, 59), True), (time(8), False)],
)
def test_no_contact_period_runs_from_22_to_08(moment: time, inside: bool) -> None:
    assert in_no_contact_period(moment) is inside


def test_local_time_across_a_dst_change() -> None:
    spring = local_time(date(2026, 3, 8), time(10), "America/New_York")
    assert spring.isoformat() == "2026-03-08T10:00:00-04:00"


def test_a_window_end_in_a_dst_gap_is_the_instant_clocks_jump() -> None:
    # Easter Island springs forward at 22:00 on 5 Sep 2026: 22:00 does not exist that day.
    # The window closes at the jump, written in the offset then in force.
    closes = SendWindow(start=time(8), end=time(22)).closes(date(2026, 9, 5), "Pacific/Easter")
    assert closes.isoformat() == "2026-09-05T23:00:00-05:00"
    assert closes == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_a_step_time_in_a_dst_overlap_is_its_first_occurrence() -> None:
    # Easter Island falls back at 22:00 on 4 Apr 2026: 21:00–22:00 happens twice.
    first = local_time(date(2026, 4, 4), time(21, 30), "Pacific/Easter")
    assert first.isoformat() == "2026-04-04T21:30:00-05:00"
