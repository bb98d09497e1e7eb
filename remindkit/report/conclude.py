"""Comparing a variant with its base, and the one-line Chinese conclusion: never a false win.

The rule, at the *primary* window (the longest of ``--within``; the shorter ones are shown
with their intervals but carry no conclusion, so several windows do not multiply the
chances of a false win):

1. **样本不足** (insufficient) unless both arms have at least :data:`MIN_MATURED`
   installments whose window has passed, and at least :data:`MIN_EVENTS` repaid and
   :data:`MIN_EVENTS` not repaid — effective counts, after the design effect. Below that the
   normal approximation behind the test is poor and one early lucky streak would read as
   a result.
2. **优于 / 不如** (better / worse) only if the two-sided z-test's p-value — Holm-adjusted
   when the group has several challengers — is below :data:`ALPHA` **and** Newcombe's 95 %
   interval for the difference excludes zero. Both must agree; near the boundary they can
   differ, and then nothing is claimed.
3. **相当** (equivalent) when the whole 95 % interval lies within ±:data:`EQUIVALENCE`
   (two percentage points): the variants may differ, but by less than matters.
4. Otherwise **样本不足** again, with the difference and its interval: the answer is not
   yet known, and more borrowers would tell.

What the rule cannot prevent: looking at the report every day and stopping the first day it
says 优于 inflates false wins beyond 5 %. Decide the sample (or the end date, ``--until``)
before looking; the minimum sample only keeps the earliest looks quiet.
"""

from __future__ import annotations

from collections.abc import Sequence

from remindkit.report.model import Cell, Comparison, Difference, Verdict, WindowRate
from remindkit.report.stats import newcombe, two_proportion_test

MIN_MATURED = 100
MIN_EVENTS = 10
ALPHA = 0.05
EQUIVALENCE = 0.02


def difference(treatment: WindowRate, base: WindowRate) -> Difference:
    test = two_proportion_test(treatment.effective, base.effective)
    return Difference(
        days=treatment.days,
        difference=treatment.effective.rate - base.effective.rate,
        interval=newcombe(treatment.effective, base.effective),
        z=test.z,
        p_value=test.p_value,
    )


def enough(rate: WindowRate) -> bool:
    arm = rate.effective
    repaid, trials = arm.successes, arm.trials
    return trials >= MIN_MATURED and repaid >= MIN_EVENTS and trials - repaid >= MIN_EVENTS


def verdict(
    treatment: WindowRate, base: WindowRate, found: Difference, p_adjusted: float
) -> Verdict:
    if not (enough(treatment) and enough(base)):
        return Verdict.INSUFFICIENT
    if p_adjusted < ALPHA and found.interval.excludes_zero():
        return Verdict.BETTER if found.interval.low > 0 else Verdict.WORSE
    if found.interval.low >= -EQUIVALENCE and found.interval.high <= EQUIVALENCE:
        return Verdict.EQUIVALENT
    return Verdict.UNDECIDED


def compare(
    cell: Cell, base: Cell, windows: Sequence[int], primary: int, p_adjusted: float, family: int
) -> Comparison:
    differences = tuple(difference(cell.window(days), base.window(days)) for days in windows)
    found = next(d for d in differences if d.days == primary)
    decided = verdict(cell.window(primary), base.window(primary), found, p_adjusted)
    return Comparison(
        stage=cell.stage,
        channel=cell.channel,
        variant=cell.variant,
        base=base.variant,
        differences=differences,
        primary_days=primary,
        p_adjusted=p_adjusted,
        verdict=decided,
        conclusion=conclusion(cell, base, found, decided, p_adjusted, family),
    )


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def _interval(found: Difference) -> str:
    return f"95% 区间 {_points(found.interval.low)}～{_points(found.interval.high)}"


def _p(p_adjusted: float, family: int) -> str:
    shown = "p<0.001" if p_adjusted < 0.001 else f"p={p_adjusted:.3f}"
    return f"{shown}，已按 Holm 校正 {family} 个对比" if family > 1 else shown


def conclusion(
    cell: Cell, base: Cell, found: Difference, decided: Verdict, p_adjusted: float, family: int
) -> str:
    """One line of Chinese for the comparison; the numbers are percentage points."""
    v, b, days = cell.variant, base.variant, found.days
    if decided is Verdict.INSUFFICIENT:
        have = f"{base.window(days).matured}/{cell.window(days).matured}"
        return (
            f"样本不足：{v} 与 {b} 尚无结论（{days}天内还款：每组至少需 {MIN_MATURED} 期"
            f"首条消息已满{days}天的分期，且还款与未还款各至少 {MIN_EVENTS} 期；现为 {have} 期）"
        )
    points = f"{abs(found.difference) * 100:.1f} 个百分点"
    evidence = f"（{_interval(found)}，{_p(p_adjusted, family)}）"
    if decided is Verdict.BETTER:
        return f"{v} 优于 {b}：{days}天内还款率高 {points}{evidence}"
    if decided is Verdict.WORSE:
        return f"{v} 不如 {b}：{days}天内还款率低 {points}{evidence}"
    if decided is Verdict.EQUIVALENT:
        margin = f"±{EQUIVALENCE * 100:.0f} 个百分点"
        return f"{v} 与 {b} 相当：{days}天内还款率相差在 {margin}以内（{_interval(found)}）"
    return (
        f"样本不足：{v} 与 {b} 的差异尚不显著（{days}天内还款率 {_points(found.difference)} 个"
        f"百分点，{_interval(found)}，{_p(p_adjusted, family)}），需要更多样本"
    )
