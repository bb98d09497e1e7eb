"""The report's values: frozen, built from the database's aggregates, printed three ways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from remindkit.report.stats import Interval, Proportion


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowRate:
    """Repayment within ``days`` of the first message of the stage, among the installments
    whose ``days`` have passed (``matured``); the interval is on the effective sample."""

    days: int
    matured: int
    repaid: int
    design_effect: float
    effective: Proportion

    @property
    def rate(self) -> float | None:
        return self.repaid / self.matured if self.matured else None

    @property
    def interval(self) -> Interval:
        return self.effective.interval

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "matured": self.matured,
            "repaid": self.repaid,
            "rate": self.rate,
            "interval": self.interval.to_json(),
            "design_effect": self.design_effect,
            "effective_matured": self.effective.trials,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One stage × channel × variant: who was reached, with how many messages, and what
    followed. ``delivered``: messages a receipt said delivered (or read), of the
    ``receipts`` that came back; ``None`` when none came back (unknown, not zero)."""

    stage: str
    channel: str
    variant: str
    borrowers: int
    installments: int
    messages: int
    delivered: int | None
    receipts: int
    paid_before: int
    repaid: int
    opted_out: int
    windows: tuple[WindowRate, ...]

    @property
    def group(self) -> tuple[str, str]:
        return (self.stage, self.channel)

    @property
    def template_id(self) -> str:
        base = f"{self.stage}/{self.channel}"
        return base if self.variant == "a" else f"{base}.{self.variant}"

    @property
    def messages_per_repaid(self) -> float | None:
        return self.messages / self.repaid if self.repaid else None

    def window(self, days: int) -> WindowRate:
        return next(rate for rate in self.windows if rate.days == days)

    def to_json(self, shown: tuple[int, ...]) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "channel": self.channel,
            "variant": self.variant,
            "template_id": self.template_id,
            "borrowers": self.borrowers,
            "installments": self.installments,
            "messages": self.messages,
            "delivered": self.delivered,
            "with_receipt": self.receipts,
            "paid_before_first_message": self.paid_before,
            "repaid_since_first_message": self.repaid,
            "messages_per_repaid": self.messages_per_repaid,
            "opted_out": self.opted_out,
            "windows": [self.window(days).to_json() for days in shown],
        }


class Verdict(StrEnum):
    """What a comparison may say (the rule: :mod:`remindkit.report.conclude`)."""

    INSUFFICIENT = "insufficient"  # below the minimum sample: nothing is known yet
    UNDECIDED = "undecided"  # enough sample, no significant difference, not equivalent
    EQUIVALENT = "equivalent"  # the whole interval within the equivalence margin
    BETTER = "better"
    WORSE = "worse"


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """``variant − base`` repayment within ``days``: Newcombe's interval and the z-test."""

    days: int
    difference: float
    interval: Interval
    z: float
    p_value: float

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "difference": self.difference,
            "interval": self.interval.to_json(),
            "z": self.z,
            "p_value": self.p_value,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    stage: str
    channel: str
    variant: str
    base: str
    differences: tuple[Difference, ...]
    primary_days: int
    p_adjusted: float  # Holm, over the group's challengers, at the primary window
    verdict: Verdict
    conclusion: str

    @property
    def primary(self) -> Difference:
        return next(d for d in self.differences if d.days == self.primary_days)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "channel": self.channel,
            "variant": self.variant,
            "base": self.base,
            "windows": [difference.to_json() for difference in self.differences],
            "primary_days": self.primary_days,
            "p_adjusted": self.p_adjusted,
            "verdict": self.verdict.value,
            "conclusion": self.conclusion,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StageTotal:
    """A stage's reach across channels and variants (``stage`` ``None``: every stage, each
    installment once from its first reminder)."""

    stage: str | None
    borrowers: int
    installments: int
    messages: int
    repaid: int

    @property
    def messages_per_repaid(self) -> float | None:
        return self.messages / self.repaid if self.repaid else None

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "borrowers": self.borrowers,
            "installments": self.installments,
            "messages": self.messages,
            "repaid_since_first_message": self.repaid,
            "messages_per_repaid": self.messages_per_repaid,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StateCount:
    """Messages of one stage × channel × variant in one state (the uncounted listed apart)."""

    stage: str
    channel: str
    variant: str
    state: str
    messages: int

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "channel": self.channel,
            "variant": self.variant,
            "state": self.state,
            "messages": self.messages,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Curve:
    """Repayment within 1, 2, … days for one variant, for the chart."""

    stage: str
    channel: str
    variant: str
    points: tuple[WindowRate, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    as_of: datetime
    since: date | None
    until: date | None
    windows: tuple[int, ...]
    cells: tuple[Cell, ...]
    comparisons: tuple[Comparison, ...]
    stages: tuple[StageTotal, ...]
    overall: StageTotal
    not_counted: tuple[StateCount, ...]
    receipts: bool
    curves: tuple[Curve, ...] = ()

    @property
    def primary_days(self) -> int:
        return max(self.windows)

    def groups(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(cell.group for cell in self.cells))

    def cells_of(self, group: tuple[str, str]) -> list[Cell]:
        return [cell for cell in self.cells if cell.group == group]

    def comparisons_of(self, group: tuple[str, str]) -> list[Comparison]:
        return [c for c in self.comparisons if (c.stage, c.channel) == group]

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "windows_days": list(self.windows),
            "primary_days": self.primary_days,
            "delivery_receipts": self.receipts,
            "cells": [cell.to_json(self.windows) for cell in self.cells],
            "comparisons": [comparison.to_json() for comparison in self.comparisons],
            "stages": [stage.to_json() for stage in self.stages],
            "overall": self.overall.to_json(),
            "not_counted": [count.to_json() for count in self.not_counted],
        }
