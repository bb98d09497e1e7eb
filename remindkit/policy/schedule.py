"""On which local day a cadence step fires: holidays and the Spring Festival pause (SPEC §5.3).

A step's nominal day is ``due_date + offset_days``. Small rules move it:

- :class:`OverdueOnWorkdays`: an overdue step (offset > 0) on a non-workday (statutory
  holiday, weekend off-day or a day off from the override file; make-up workdays 调休
  count as workdays) moves to the next workday. Pre-due and due-day steps are sent on holidays.
- :class:`SpringFestivalPause`: nothing goes out from 除夕 to 初N (default 初三). A pre-due or
  due-day step inside the pause for a due date inside the pause goes out on the last
  workday before the pause; any other step inside it goes out the day after the pause.

Every step maps to exactly one day, so a message is neither lost nor doubled however the
planning horizon (``--days``) is cut. Steps of one installment that land on the same day
collapse into the latest step (one message per installment per day).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from remindkit.policy.cadence import CadenceStep
from remindkit.policy.decision import join_notes

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5  # date.weekday()
# Rules move a step forward (or, for the pause, before it); a few rounds reach a fixed point.
_MAX_ROUNDS = 6


class WorkdayCalendar(Protocol):
    """The part of ``remindkit.policy.calendar.HolidayCalendar`` the schedule uses."""

    def is_workday(self, day: date) -> bool: ...
    def holiday_name(self, day: date) -> str | None: ...
    def next_workday(self, day: date) -> date: ...
    def last_workday_before(self, day: date) -> date: ...
    def spring_festival_pause(self, year: int, last_day: int = 3) -> tuple[date, date]: ...
    def in_spring_festival_pause(self, day: date, last_day: int = 3) -> bool: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class StepDate:
    """A step of one due date, and the day it fires on after the rules so far."""

    due: date
    step: CadenceStep
    day: date
    note: str | None = None

    @classmethod
    def nominal(cls, due: date, step: CadenceStep) -> StepDate:
        return cls(due=due, step=step, day=due + timedelta(days=step.offset_days))

    @property
    def overdue(self) -> bool:
        return self.step.offset_days > 0

    def moved(self, day: date, note: str) -> StepDate:
        return replace(self, day=day, note=join_notes(self.note, note))


class StepRule(Protocol):
    def __call__(self, step: StepDate) -> StepDate: ...


@dataclass(frozen=True, slots=True)
class OverdueOnWorkdays:
    """Overdue-stage messages wait for the next workday."""

    calendar: WorkdayCalendar

    def __call__(self, step: StepDate) -> StepDate:
        if not step.overdue or self.calendar.is_workday(step.day):
            return step
        return step.moved(self.calendar.next_workday(step.day), f"deferred: {self._why(step.day)}")

    def _why(self, day: date) -> str:
        name = self.calendar.holiday_name(day)
        if name:
            return f"holiday {name}"
        # An unnamed day off from the override file may fall on any weekday.
        return "weekend" if day.weekday() >= _SATURDAY else "day off"


@dataclass(frozen=True, slots=True)
class SpringFestivalPause:
    """No reminders from 除夕 to 初``last_day``."""

    calendar: WorkdayCalendar
    last_day: int = 3

    def __call__(self, step: StepDate) -> StepDate:
        if not self.calendar.in_spring_festival_pause(step.day, self.last_day):
            return step
        first, last = self._pause_around(step.day)
        note = f"moved: Spring Festival pause {first.isoformat()}..{last.isoformat()}"
        if not step.overdue and first <= step.due <= last:
            return step.moved(self.calendar.last_workday_before(first), note)
        return step.moved(last + _ONE_DAY, note)

    def _pause_around(self, day: date) -> tuple[date, date]:
        # 除夕 falls between late January and mid February, so the pause is in day's year.
        return self.calendar.spring_festival_pause(day.year, self.last_day)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """A step that fires on ``day`` for one due date."""

    day: date
    step: CadenceStep
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StepSchedule:
    """The rules, applied in order until the day stops moving.

    Contract for rules: an overdue step (offset > 0) is only ever moved later.
    """

    rules: tuple[StepRule, ...] = ()

    def effective(self, due: date, step: CadenceStep) -> StepDate:
        current = StepDate.nominal(due, step)
        for _ in range(_MAX_ROUNDS):
            moved = current
            for rule in self.rules:
                moved = rule(moved)
            if moved.day == current.day:
                return moved
            current = moved
        return current

    def hits(
        self, steps: Sequence[CadenceStep], due: date, days: Sequence[date]
    ) -> tuple[Hit, ...]:
        """The steps of ``due`` firing on any of ``days``, one (the latest step) per day."""
        wanted = set(days)
        last = max(wanted)
        by_day: dict[date, list[StepDate]] = {}
        for step in steps:
            if step.offset_days > 0 and due + timedelta(days=step.offset_days) > last:
                # Rules only ever move an overdue step later: this one cannot fire in the
                # horizon, and asking the calendar about it would only warn about a far year.
                continue
            fired = self.effective(due, step)
            if fired.day in wanted:
                by_day.setdefault(fired.day, []).append(fired)
        return tuple(_collapse(day, fired) for day, fired in sorted(by_day.items()))


def _collapse(day: date, fired: list[StepDate]) -> Hit:
    fired.sort(key=lambda item: item.step.offset_days)
    latest, others = fired[-1], [item.step.offset_days for item in fired[:-1]]
    merged = f"merged: steps {', '.join(f'{o:+d}' for o in others)}" if others else None
    # Keep why the earlier steps moved here: the operator sees one line for all of them.
    return Hit(day=day, step=latest.step, note=join_notes(*(i.note for i in fired), merged))
