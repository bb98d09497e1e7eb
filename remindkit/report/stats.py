"""The statistics of the outcome report: proportions, their difference, a test, clustering.

Every function takes counts (already aggregated by the database) and returns values; none
reads rows. The choices, and why:

- **Wilson score interval** for one repayment rate (Wilson 1927). The textbook Wald
  interval ``p ± z·√(p(1−p)/n)`` covers far less than 95 % when ``n`` is small or ``p``
  is near 0 or 1 (it is ``[0, 0]`` for 0 of 20); Wilson's stays close to nominal there
  and never leaves ``[0, 1]`` (Brown, Cai & DasGupta 2001).
- **Newcombe's hybrid score interval** for the difference of two rates (Newcombe 1998,
  method 10, without continuity correction): built from the two Wilson intervals the
  report already shows, closed-form, and with coverage near 95 % where the Wald interval
  for a difference fails (small arms, rates near 0 or 1). Agresti–Caffo would do as well;
  Newcombe's is chosen so that the difference's interval agrees with the arms' own.
- **Two-proportion z-test** with the pooled rate under "no difference" (equivalent to the
  Pearson χ² test without continuity correction), two-sided.
- **Clustering**: the rates count installments, but a borrower with three installments
  usually repays all three or none, so installments are not independent trials and the
  plain intervals would be too narrow. The database returns, per arm, the sums over
  borrowers of ``m_b²``, ``y_b²`` and ``m_b·y_b`` (installments and repaid installments of
  borrower ``b``); :func:`design_effect` turns them into the ratio estimator's variance
  relative to independent installments (Kish's design effect), and the intervals and the
  test use the *effective* sample ``n / deff``. With one installment per borrower the
  design effect is exactly 1 and everything is the textbook formula.
- **Holm's step-down adjustment** when several variants are compared with one base (a
  family of comparisons in one experiment), so adding variants does not add false wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

LEVEL = 0.95
Z = NormalDist().inv_cdf(1 - (1 - LEVEL) / 2)  # 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_json(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True, slots=True, kw_only=True)
class Proportion:
    """``successes`` of ``trials`` (effective counts may be fractional), with its interval."""

    successes: float
    trials: float
    interval: Interval

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials > 0 else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSums:
    """Per-borrower sums of one arm: ``m`` installments, ``y`` of them repaid."""

    m: float
    y: float
    mm: float  # Σ m_b²
    yy: float  # Σ y_b²
    my: float  # Σ m_b·y_b


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    z: float
    p_value: float


def wilson(successes: float, trials: float, z: float = Z) -> Interval:
    """The Wilson score interval for ``successes`` of ``trials``; ``[0, 1]`` with no trials."""
    if trials <= 0:
        return Interval(0.0, 1.0)
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def proportion(successes: float, trials: float, z: float = Z) -> Proportion:
    return Proportion(successes=successes, trials=trials, interval=wilson(successes, trials, z))


def newcombe(treatment: Proportion, base: Proportion) -> Interval:
    """Newcombe's hybrid score interval for ``treatment.rate - base.rate``."""
    p1, p2 = treatment.rate, base.rate
    l1, u1 = treatment.interval.low, treatment.interval.high
    l2, u2 = base.interval.low, base.interval.high
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(max(-1.0, low), min(1.0, high))


def two_proportion_test(treatment: Proportion, base: Proportion) -> TestResult:
    """The pooled two-proportion z-test, two-sided; ``p = 1`` when it cannot be computed
    (an empty arm, or every trial a success or every one a failure in both)."""
    n1, n2 = treatment.trials, base.trials
    if n1 <= 0 or n2 <= 0:
        return TestResult(z=0.0, p_value=1.0)
    pooled = (treatment.successes + base.successes) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return TestResult(z=0.0, p_value=1.0)
    z = (treatment.rate - base.rate) / math.sqrt(variance)
    return TestResult(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))


def design_effect(sums: ClusterSums) -> float:
    """Variance of the ratio estimator ``y/m`` over borrowers, relative to independent
    installments: ``Σ(y_b − p·m_b)² / (m·p·(1−p))``, at least 1 (clustering is never taken
    to make an interval narrower). 1 when ``p`` is 0 or 1, or every borrower has one."""
    if sums.m <= 0 or sums.mm <= sums.m:
        return 1.0
    p = sums.y / sums.m
    if p <= 0 or p >= 1:
        return 1.0
    residual = sums.yy - 2 * p * sums.my + p * p * sums.mm
    return max(1.0, residual / (sums.m * p * (1 - p)))


def effective(sums: ClusterSums, z: float = Z) -> tuple[Proportion, float]:
    """The arm's rate with its interval on the effective sample, and the design effect."""
    deff = design_effect(sums)
    return proportion(sums.y / deff, sums.m / deff, z), deff


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
