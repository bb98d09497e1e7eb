"""Crontab lines as APScheduler triggers: five fields as cron has them, six with seconds first."""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week")


def cron_trigger(line: str, timezone: str) -> CronTrigger:
    """``"30 8 * * *"`` → every day at 08:30 in ``timezone``; ``ValueError`` if malformed."""
    fields = line.split()
    if len(fields) == len(_FIELDS) - 1:
        return CronTrigger.from_crontab(line, timezone=timezone)
    if len(fields) != len(_FIELDS):
        raise ValueError(f"expected 5 or 6 fields, got {len(fields)}")
    return CronTrigger(timezone=timezone, **dict(zip(_FIELDS, fields, strict=True)))
