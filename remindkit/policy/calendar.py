"""Workdays, statutory holidays and the Spring Festival pause in mainland China.

Sources, in order (SPEC §5.3, collection-rules §6): the user's ``config/holidays.toml``,
then ``chinesecalendar`` (official State Council schedules, make-up workdays included),
then the ``holidays`` package for years chinesecalendar does not know yet. The last one
only *estimates* the schedule, so each such year is announced once with a warning.

The planner asks about every row of a feed, so answers are cached per day and schedules
per year.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import chinese_calendar
import holidays as holidays_package
from lunardate import LunarDate

from remindkit.errors import ConfigError

logger = logging.getLogger("remindkit.calendar")
# A library's warnings reach the handlers the application configures; without this, Python's
# last-resort handler would print them on stderr too, beside the planner's own warnings
# (``remindkit plan`` printed the 2027 estimate warning twice).
logger.addHandler(logging.NullHandler())

MAX_SEARCH_DAYS = 366
MAX_RANGE_DAYS = 31
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?")

# chinesecalendar names holidays in English; messages and reasons are read in Chinese.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争胜利70周年纪念日",
}
MAKE_UP_SUFFIX = "调休上班"


class DayKind(StrEnum):
    WORKDAY = "workday"
    HOLIDAY = "holiday"  # a statutory holiday or a weekend off-day


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's exceptions to "Monday–Friday work": named days off and make-up workdays."""

    days_off: Mapping[date, str]
    workdays: Mapping[date, str]
    estimated: bool


@dataclass(frozen=True, slots=True)
class Override:
    kind: DayKind
    name: str | None = None


def _chinese(name: str | None) -> str | None:
    return None if name is None else _CHINESE_NAMES.get(name, name)


@lru_cache(maxsize=256)
def official_schedule(year: int) -> YearSchedule | None:
    """The State Council schedule from chinesecalendar; ``None`` for years it lacks."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return None
    days_off = {
        d: _chinese(n) or "" for d, n in chinese_calendar.holidays.items() if d.year == year
    }
    workdays = {
        d: f"{_chinese(n) or ''}{MAKE_UP_SUFFIX}"
        for d, n in chinese_calendar.workdays.items()
        if d.year == year
    }
    return YearSchedule(MappingProxyType(days_off), MappingProxyType(workdays), estimated=False)


@lru_cache(maxsize=256)
def estimated_schedule(year: int) -> YearSchedule:
    """python-holidays' rule-based guess (no make-up workdays unless it knows them)."""
    china = holidays_package.country_holidays("CN", years=year, language="zh_CN")
    days_off = {d: str(n) for d, n in china.items() if d.year == year}
    # weekend_workdays lists the 调休 Saturdays/Sundays it knows (older releases lack it).
    known: set[date] = getattr(china, "weekend_workdays", set())
    workdays = {d: MAKE_UP_SUFFIX for d in known if d.year == year}
    return YearSchedule(MappingProxyType(days_off), MappingProxyType(workdays), estimated=True)


_EMPTY_YEAR = YearSchedule(MappingProxyType({}), MappingProxyType({}), estimated=False)


@lru_cache(maxsize=1024)
def _spring_festival(year: int, last_day: int) -> tuple[date, date]:
    new_year = _solar(LunarDate(year, 1, 1))
    return new_year - timedelta(days=1), _solar(LunarDate(year, 1, last_day))


def _solar(day: Any) -> date:
    # lunardate 0.3 renamed toSolarDate (now deprecated) to to_solar_date.
    convert = getattr(day, "to_solar_date", None) or day.toSolarDate
    result: date = convert()
    return result


class HolidayCalendar:
    """Answers "is this a workday?" for mainland China, with user overrides first."""

    def __init__(
        self,
        overrides: Mapping[date, DayKind | Override] | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        complete_years: frozenset[int] = frozenset(),
    ) -> None:
        """``complete_years``: years whose whole schedule is in ``overrides`` (no estimate)."""
        self.warn = warn
        self.complete_years = frozenset(complete_years)
        self._overrides = {
            day: value if isinstance(value, Override) else Override(DayKind(value))
            for day, value in (overrides or {}).items()
        }
        # Distinct dates in a feed are few (a few years of days), so these stay small.
        self._workday_cache: dict[date, bool] = {}
        self._years: dict[int, YearSchedule] = {}
        self._estimated: set[int] = set()
        self._no_lunar_years: set[int] = set()

    @classmethod
    def from_file(
        cls, path: Path | None, *, warn: Callable[[str], None] | None = None
    ) -> HolidayCalendar:
        """Read a holidays.toml (format documented in ``config/holidays.toml``)."""
        if path is None:
            return cls(warn=warn)
        overrides, complete = read_overrides(path)
        return cls(overrides, warn=warn, complete_years=complete)

    @property
    def estimated_years(self) -> frozenset[int]:
        """Years answered from the ``holidays`` package's estimate so far."""
        return frozenset(self._estimated)

    def is_workday(self, day: date) -> bool:
        cached = self._workday_cache.get(day)
        if cached is None:
            cached = self._workday_cache[day] = self._compute_workday(day)
        return cached

    def is_holiday(self, day: date) -> bool:
        return not self.is_workday(day)

    def is_statutory_holiday(self, day: date) -> bool:
        """A named day off: from the official schedule, its estimate, or an override."""
        if self.is_workday(day):
            return False
        override = self._overrides.get(day)
        if override is not None:
            return override.name is not None
        return day in self._schedule(day.year).days_off

    def holiday_name(self, day: date) -> str | None:
        """``国庆节`` for a day off, ``国庆节调休上班`` for a make-up workday, else ``None``."""
        override = self._overrides.get(day)
        if override is not None:
            return override.name
        schedule = self._schedule(day.year)
        return schedule.workdays.get(day) or schedule.days_off.get(day) or None

    def next_workday(self, day: date) -> date:
        """``day`` itself if it is a workday, else the first workday after it."""
        for offset in range(MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ConfigError("holidays", f"no workday within {MAX_SEARCH_DAYS} days from {day}")

    def last_workday_before(self, day: date) -> date:
        """The last workday strictly before ``day``."""
        for offset in range(1, MAX_SEARCH_DAYS + 1):
            candidate = day - timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise ConfigError("holidays", f"no workday within {MAX_SEARCH_DAYS} days before {day}")

    def spring_festival_pause(self, year: int, last_day: int = 3) -> tuple[date, date]:
        """(除夕, 初N) of the lunar year starting in ``year``, both inclusive (lunardate)."""
        if not 1 <= last_day <= 15:
            raise ValueError(f"last_day must be 1..15 (初一 to 十五), got {last_day}")
        try:
            return _spring_festival(year, last_day)
        except ValueError as exc:
            raise ValueError(f"no lunar calendar for {year}: {exc}") from None

    def in_spring_festival_pause(self, day: date, last_day: int = 3) -> bool:
        # 除夕 falls on 20 Jan at the earliest and 初十五 by early March, so the pause that
        # can contain ``day`` is always the one of ``day.year``.
        try:
            start, end = self.spring_festival_pause(day.year, last_day)
        except ValueError as exc:
            self._warn_no_lunar(day.year, str(exc))
            return False
        return start <= day <= end

    def _compute_workday(self, day: date) -> bool:
        override = self._overrides.get(day)
        if override is not None:
            return override.kind is DayKind.WORKDAY
        schedule = self._schedule(day.year)
        if day in schedule.workdays:
            return True
        if day in schedule.days_off:
            return False
        return day.weekday() < 5

    def _schedule(self, year: int) -> YearSchedule:
        schedule = self._years.get(year)
        if schedule is None:
            schedule = self._years[year] = self._load_year(year)
        return schedule

    def _load_year(self, year: int) -> YearSchedule:
        if year in self.complete_years:
            return _EMPTY_YEAR
        official = official_schedule(year)
        if official is not None:
            return official
        self._estimated.add(year)
        self._announce(
            f"holiday dates for {year} are estimates: chinesecalendar has no {year} schedule, "
            "so days off come from the 'holidays' package and make-up workdays (调休) may be "
            f"missing; add the official {year} schedule to config/holidays.toml "
            f"([holidays], [workdays], complete_years = [{year}])"
        )
        return estimated_schedule(year)

    def _warn_no_lunar(self, year: int, message: str) -> None:
        if year not in self._no_lunar_years:
            self._no_lunar_years.add(year)
            self._announce(f"Spring Festival pause skipped for {year}: {message}")

    def _announce(self, message: str) -> None:
        logger.warning(message)
        if self.warn is not None:
            self.warn(message)


# --- holidays.toml ------------------------------------------------------------------------

_SECTIONS = {"holidays": DayKind.HOLIDAY, "workdays": DayKind.WORKDAY}


def read_overrides(path: Path) -> tuple[dict[date, Override], frozenset[int]]:
    """Parse a holidays.toml; every problem is a ConfigError naming the file and the key."""
    data = _load_toml(path)
    overrides: dict[date, Override] = {}
    complete: frozenset[int] = frozenset()
    for section, content in data.items():
        if section == "complete_years":
            complete = _complete_years(path, content)
        elif section in _SECTIONS:
            _add_section(path, section, content, overrides)
        else:
            raise _file_error(
                path, section, "unknown key (expected [holidays], [workdays], complete_years)"
            )
    return overrides, complete


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError("holidays.override_file", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("holidays.override_file", f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path}: invalid TOML: {exc}") from None


def _file_error(path: Path, key: str, reason: str) -> ConfigError:
    return ConfigError(key, f"{reason} (in {path})")


def _complete_years(path: Path, value: object) -> frozenset[int]:
    if not isinstance(value, list) or not all(
        isinstance(y, int) and not isinstance(y, bool) and 1900 <= y <= 2100 for y in value
    ):
        raise _file_error(path, "complete_years", f"expected a list of years, got {value!r}")
    return frozenset(value)


def _add_section(
    path: Path, section: str, content: object, overrides: dict[date, Override]
) -> None:
    if not isinstance(content, dict):
        raise _file_error(path, section, 'expected a table such as [holidays] "2026-12-31" = "…"')
    for key, name in content.items():
        dotted = f'{section}."{key}"'
        if not isinstance(name, str):
            raise _file_error(path, dotted, f"expected a name in quotes, got {name!r}")
        for day in _days(path, dotted, key):
            if day in overrides:
                raise _file_error(path, dotted, f"{day} is listed twice")
            overrides[day] = Override(_SECTIONS[section], name.strip() or None)


def _days(path: Path, dotted: str, key: str) -> list[date]:
    match = _RANGE.fullmatch(key.strip())
    try:
        if match is None:
            raise ValueError
        first = date.fromisoformat(match[1])
        last = date.fromisoformat(match[2]) if match[2] else first
    except ValueError:
        raise _file_error(
            path, dotted, "expected a date YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
        ) from None
    span = (last - first).days
    if not 0 <= span < MAX_RANGE_DAYS:
        raise _file_error(
            path, dotted, f"a range must run forward and span at most {MAX_RANGE_DAYS} days"
        )
    return [first + timedelta(days=offset) for offset in range(span + 1)]
