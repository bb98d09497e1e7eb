"""Holiday calendar: official 2026 facts, make-up workdays, 除夕 from the lunar calendar,
the estimate warning for uncovered years, and user overrides."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from lunardate import LunarDate

from remindkit.errors import ConfigError
from remindkit.policy.calendar import DayKind, HolidayCalendar, Override

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def calendar() -> HolidayCalendar:
    return HolidayCalendar()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- official 2026 schedule (chinesecalendar) -----------------------------------------------


def test_national_day_2026_is_seven_days_off(calendar: HolidayCalendar) -> None:
    for day in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert calendar.is_holiday(day), day
        assert calendar.is_statutory_holiday(day), day
        assert calendar.holiday_name(day) == "国庆节"
    assert calendar.is_workday(date(2026, 9, 30))
    assert calendar.is_workday(date(2026, 10, 8))
    assert calendar.holiday_name(date(2026, 10, 8)) is None


@pytest.mark.parametrize(
    ("day", "weekday", "name"),
    [
        (date(2026, 1, 4), 6, "元旦调休上班"),  # a Sunday
        (date(2026, 2, 14), 5, "春节调休上班"),  # a Saturday
        (date(2026, 2, 28), 5, "春节调休上班"),
        (date(2026, 5, 9), 5, "劳动节调休上班"),
        (date(2026, 9, 20), 6, "国庆节调休上班"),  # a Sunday
        (date(2026, 10, 10), 5, "国庆节调休上班"),
    ],
)
def test_make_up_workdays_2026_are_workdays(
    calendar: HolidayCalendar, day: date, weekday: int, name: str
) -> None:
    assert day.weekday() == weekday
    assert calendar.is_workday(day)
    assert not calendar.is_statutory_holiday(day)
    assert calendar.holiday_name(day) == name


def test_ordinary_weekend_is_a_holiday_but_not_statutory(calendar: HolidayCalendar) -> None:
    saturday = date(2026, 10, 17)
    assert saturday.weekday() == 5
    assert calendar.is_holiday(saturday)
    assert not calendar.is_statutory_holiday(saturday)
    assert calendar.holiday_name(saturday) is None


def test_weekend_inside_a_holiday_is_statutory(calendar: HolidayCalendar) -> None:
    assert date(2026, 10, 3).weekday() == 5
    assert calendar.is_statutory_holiday(date(2026, 10, 3))


def test_next_and_last_workday(calendar: HolidayCalendar) -> None:
    assert calendar.next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert calendar.next_workday(date(2026, 10, 8)) == date(2026, 10, 8)
    assert calendar.next_workday(date(2026, 9, 19)) == date(2026, 9, 20)  # Sat → make-up Sunday
    assert calendar.last_workday_before(date(2026, 10, 1)) == date(2026, 9, 30)
    assert calendar.last_workday_before(date(2026, 10, 9)) == date(2026, 10, 8)
    # 2026-02-15 (Sun) is already off; Saturday 02-14 is a make-up workday.
    assert calendar.last_workday_before(date(2026, 2, 16)) == date(2026, 2, 14)


def test_official_years_give_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    warnings: list[str] = []
    calendar = HolidayCalendar(warn=warnings.append)
    with caplog.at_level(logging.WARNING, logger="remindkit.calendar"):
        for day in days(date(2026, 1, 1), date(2026, 12, 31)):
            calendar.is_workday(day)
    assert warnings == []
    assert caplog.records == []
    assert calendar.estimated_years == frozenset()


# --- Spring Festival -----------------------------------------------------------------------


def test_chuxi_2026_is_the_day_before_lunar_new_year(calendar: HolidayCalendar) -> None:
    new_year = date(2026, 2, 17)
    assert LunarDate.from_solar_date(2026, 2, 17) == LunarDate(2026, 1, 1)
    assert LunarDate.from_solar_date(2026, 2, 16).month == 12  # still the old lunar year
    assert calendar.spring_festival_pause(2026) == (new_year - timedelta(days=1), date(2026, 2, 19))
    assert calendar.spring_festival_pause(2026, last_day=6) == (
        date(2026, 2, 16),
        date(2026, 2, 22),
    )
    assert calendar.spring_festival_pause(2027) == (date(2027, 2, 5), date(2027, 2, 8))


def test_in_spring_festival_pause(calendar: HolidayCalendar) -> None:
    assert not calendar.in_spring_festival_pause(date(2026, 2, 15))
    assert calendar.in_spring_festival_pause(date(2026, 2, 16))
    assert calendar.in_spring_festival_pause(date(2026, 2, 19))
    assert not calendar.in_spring_festival_pause(date(2026, 2, 20))
    assert calendar.in_spring_festival_pause(date(2026, 2, 20), last_day=4)
    assert not calendar.in_spring_festival_pause(date(2026, 12, 31))


def test_spring_festival_last_day_is_checked(calendar: HolidayCalendar) -> None:
    with pytest.raises(ValueError, match=r"1\.\.15"):
        calendar.spring_festival_pause(2026, last_day=16)


def test_years_without_lunar_data_skip_the_pause_with_one_warning() -> None:
    warnings: list[str] = []
    calendar = HolidayCalendar(warn=warnings.append)
    assert not calendar.in_spring_festival_pause(date(2150, 2, 1))
    assert not calendar.in_spring_festival_pause(date(2150, 2, 2))
    assert len(warnings) == 1
    assert warnings[0].startswith("Spring Festival pause skipped for 2150")


# --- years chinesecalendar lacks: estimate + one warning per year ---------------------------


def test_2027_is_estimated_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    warnings: list[str] = []
    calendar = HolidayCalendar(warn=warnings.append)
    with caplog.at_level(logging.WARNING, logger="remindkit.calendar"):
        assert calendar.is_holiday(date(2027, 10, 1))  # National Day, estimated
        assert calendar.holiday_name(date(2027, 10, 1)) == "国庆节"
        assert calendar.is_workday(date(2027, 10, 8))
        for day in days(date(2027, 1, 1), date(2027, 12, 31)):
            calendar.is_workday(day)
    assert len(warnings) == 1
    assert "holiday dates for 2027 are estimates" in warnings[0]
    assert "config/holidays.toml" in warnings[0]
    assert [r.getMessage() for r in caplog.records] == warnings
    assert calendar.estimated_years == frozenset({2027})

    calendar.is_workday(date(2028, 3, 1))
    assert len(warnings) == 2
    assert "2028" in warnings[1]
    assert calendar.estimated_years == frozenset({2027, 2028})


def test_complete_years_in_the_override_file_are_not_estimated(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(
        'complete_years = [2027]\n[holidays]\n"2027-10-01..2027-10-07" = "国庆节"\n'
        '[workdays]\n"2027-10-09" = "国庆节调休上班"\n',
        encoding="utf-8",
    )
    warnings: list[str] = []
    calendar = HolidayCalendar.from_file(path, warn=warnings.append)
    assert calendar.is_holiday(date(2027, 10, 7))
    assert calendar.is_workday(date(2027, 10, 9))  # a Saturday
    assert calendar.is_workday(date(2027, 6, 9))  # the estimate's 端午节 is not used
    assert calendar.is_statutory_holiday(date(2027, 10, 1))
    assert warnings == []
    assert calendar.estimated_years == frozenset()


# --- overrides -----------------------------------------------------------------------------


def test_overrides_win_over_the_official_schedule() -> None:
    calendar = HolidayCalendar(
        {
            date(2026, 10, 8): DayKind.HOLIDAY,
            date(2026, 10, 2): DayKind.WORKDAY,
            date(2026, 12, 31): Override(DayKind.HOLIDAY, "公司年会"),
        }
    )
    assert calendar.is_holiday(date(2026, 10, 8))
    assert calendar.is_workday(date(2026, 10, 2))
    assert calendar.holiday_name(date(2026, 12, 31)) == "公司年会"
    assert calendar.is_statutory_holiday(date(2026, 12, 31))
    assert not calendar.is_statutory_holiday(date(2026, 10, 8))  # unnamed day off
    assert calendar.next_workday(date(2026, 10, 1)) == date(2026, 10, 2)


def test_override_file_wins(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(
        '[holidays]\n"2026-12-31" = "公司年会"\n"2026-12-28..2026-12-29" = ""\n'
        '[workdays]\n2026-10-07 = "值班"\n',
        encoding="utf-8",
    )
    calendar = HolidayCalendar.from_file(path)
    assert calendar.is_holiday(date(2026, 12, 31))
    assert calendar.is_holiday(date(2026, 12, 28))
    assert calendar.is_holiday(date(2026, 12, 29))
    assert calendar.is_workday(date(2026, 12, 30))
    assert calendar.is_workday(date(2026, 10, 7))  # official holiday, overridden
    assert calendar.holiday_name(date(2026, 10, 7)) == "值班"
    assert calendar.holiday_name(date(2026, 12, 28)) is None


def test_shipped_holidays_file_loads_and_its_commented_example_is_valid(tmp_path: Path) -> None:
    shipped = REPO / "config" / "holidays.toml"
    assert HolidayCalendar.from_file(shipped).is_workday(date(2026, 12, 31))
    example = [
        line[2:]
        for line in shipped.read_text(encoding="utf-8").splitlines()
        if line.startswith(("# [", '# "', "# complete_years"))
    ]
    path = tmp_path / "holidays.toml"
    path.write_text("\n".join(example) + "\n", encoding="utf-8")
    calendar = HolidayCalendar.from_file(path)
    assert calendar.holiday_name(date(2026, 12, 31)) == "公司年会（全员休息） company annual party"
    assert calendar.is_workday(date(2026, 12, 26))
    assert calendar.is_holiday(date(2027, 2, 13))


def test_no_override_file(calendar: HolidayCalendar) -> None:
    assert HolidayCalendar.from_file(None).is_workday(date(2026, 10, 8))


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[holidays]\n"2026-13-01" = "x"\n', 'holidays."2026-13-01"',
         "expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"),
        ('[workdays]\n"26-1-1" = "x"\n', 'workdays."26-1-1"',
         "expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"),
        ('[holidays]\n"2026-12-31..2026-12-01" = "x"\n', 'holidays."2026-12-31..2026-12-01"',
         "a range must run forward and span at most 31 days"),
        ('[holidays]\n"2026-12-31" = 1\n', 'holidays."2026-12-31"',
         "expected a name in quotes, got 1"),
        ('[holidays]\n"2026-12-31" = "a"\n[workdays]\n"2026-12-31" = "b"\n',
         'workdays."2026-12-31"', "2026-12-31 is listed twice"),
        ('[days_off]\n"2026-12-31" = "a"\n', "days_off",
         "unknown key (expected [holidays], [workdays], complete_years)"),
        ('holidays = "2026-12-31"\n', "holidays",
         'expected a table such as [holidays] "2026-12-31" = "…"'),
        ("complete_years = 2027\n", "complete_years", "expected a list of years, got 2027"),
    ],
)  # fmt: skip
def test_bad_override_file_names_file_and_key(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        HolidayCalendar.from_file(path)
    assert caught.value.key == key
    assert caught.value.reason == f"{reason} (in {path})"


def test_override_file_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text('[holidays]\n"2026-12-31" = \n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        HolidayCalendar.from_file(path)
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert "line 2" in str(caught.value)


def test_missing_override_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        HolidayCalendar.from_file(tmp_path / "absent.toml")
    assert caught.value.key == "holidays.override_file"


def test_a_year_of_days_off_bounds_the_search() -> None:
    overrides = {date(2026, 1, 1) + timedelta(days=n): DayKind.HOLIDAY for n in range(400)}
    with pytest.raises(ConfigError, match="no workday within 366 days"):
        HolidayCalendar(overrides).next_workday(date(2026, 1, 1))
