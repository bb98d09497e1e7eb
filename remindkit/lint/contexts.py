"""The borrowers a template is rendered for while linting: sample files and worst cases.

Samples are the preview context files of ``config/samples/`` (SPEC §9). Worst cases
are built from :class:`WorstCase`, the declared maximum lengths of the variables: the
longest address (a compound surname, 司马先生, or the platform's neutral address for an
unknown gender when that is longer), the largest amount,
the longest product name, a consolidated message of several installments, dates that
carry a year (both sides of a new year) and the stage's extreme days past due.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from remindkit.context import load_preview_input
from remindkit.errors import InputError
from remindkit.models import Borrower, Gender, Installment, Platform
from remindkit.render import MessageContext

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Days past due each stage's messages may go out at; extremes suffice for the long stages.
STAGE_DAYS: dict[str, tuple[int, ...]] = {
    "pre_due": (-7, -3, -2, -1),
    "due_today": (0,),
    "overdue_early": (1, 7),
    "overdue": (8, 30),
    "overdue_late": (31, 999),
    "payment_received": (-7, 0, 30, 999),
    "plan_offer": (1, 30, 999),
    "plan_installment": (-7, -1, 0, 1, 30, 999),
    "credit_notice": (1, 15, 999),
}
_ANY_STAGE = (-7, 0, 7, 30, 999)
# Both sides of a new year, so every date is shown with its year (2027年1月4日).
_WORST_NOWS = (
    datetime(2026, 12, 28, 10, tzinfo=SHANGHAI),
    datetime(2027, 1, 5, 10, tzinfo=SHANGHAI),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorstCase:
    """Declared maximum lengths of the variables, for the worst-case SMS length."""

    name: str = "司马相如"  # compound surname: 司马先生 (4 characters)
    amount_due: Decimal = Decimal("99999.99")
    product: str = "禾苗分期"
    loan_id: str = "HM2026010199"
    installments_total: int = 12
    consolidated: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """One context to render with: where it comes from, the message and the platform."""

    name: str
    context: MessageContext
    platform: Platform


@dataclass(frozen=True, slots=True)
class SampleProblem:
    """A sample file that cannot be used, and why (named like the preview command does)."""

    path: Path
    message: str


def load_samples(directory: Path, platform: Platform) -> tuple[list[Sample], list[SampleProblem]]:
    """Every ``*.json`` context under ``directory``; a bad file is reported, the rest used."""
    samples: list[Sample] = []
    problems: list[SampleProblem] = []
    for path in sorted(directory.glob("*.json")):
        try:
            given = load_preview_input(path, platform)
        except (InputError, json.JSONDecodeError, ValueError) as exc:
            problems.append(SampleProblem(path, str(exc)))
            continue
        first = given.installments[0]
        now = given.now or _default_now(first.due_date, first.borrower.zone)
        context = MessageContext(installments=given.installments, now=now)
        samples.append(Sample(name=path.name, context=context, platform=given.platform))
    return samples, problems


def _default_now(due: date, zone: ZoneInfo) -> datetime:
    """A sample without ``now`` is read on its due day at 10:00: stable across runs."""
    return datetime.combine(due, time(10), tzinfo=zone)


def worst_cases(stage: str, worst: WorstCase, platform: Platform) -> Iterator[Sample]:
    """Longest-text contexts for a template of ``stage``."""
    for now in _WORST_NOWS:
        for days in STAGE_DAYS.get(stage, _ANY_STAGE):
            for count in sorted({1, worst.consolidated}):
                context = MessageContext(
                    installments=_installments(
                        worst, count, now.date() - timedelta(days=days), platform
                    ),
                    now=now,
                )
                name = f"最长情形（{_when(days)}，{count}笔，{now.date().isoformat()}）"
                yield Sample(name=name, context=context, platform=platform)


def _when(days_past_due: int) -> str:
    if days_past_due < 0:
        return f"到期前{-days_past_due}天"
    return f"逾期{days_past_due}天" if days_past_due else "到期当天"


def _installments(
    worst: WorstCase, count: int, due: date, platform: Platform
) -> tuple[Installment, ...]:
    # The longer of the two ways to address the borrower: 司马先生, or the neutral address.
    neutral_longer = len(platform.neutral_address) > len(worst.name[:2]) + 2
    gender = Gender.UNKNOWN if neutral_longer else Gender.MALE
    borrower = Borrower(id="B-worst", name=worst.name, gender=gender)
    return tuple(
        Installment(
            loan_id=f"{worst.loan_id[:-2]}{index:02d}" if count > 1 else worst.loan_id,
            installment_no=worst.installments_total,
            installments_total=worst.installments_total,
            borrower=borrower,
            amount_due=worst.amount_due,
            due_date=due,
            product=worst.product,
        )
        for index in range(count)
    )
