"""The report's statistics against published values and their defining properties."""

from __future__ import annotations

import pytest

from remindkit.report.stats import (
    ClusterSums,
    design_effect,
    holm,
    newcombe,
    proportion,
    two_proportion_test,
    wilson,
)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe 1998, Table I (Wilson)
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),  # Wald would say [0, 0]
        (20, 20, 0.8389, 1.0),
    ],
)
def test_wilson_matches_published_intervals(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson(successes, trials)
    assert interval.low == pytest.approx(low, abs=5e-4)
    assert interval.high == pytest.approx(high, abs=5e-4)


def test_wilson_without_trials_knows_nothing() -> None:
    assert wilson(0, 0).to_json() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        # Newcombe 1998, Table II, method 10 (hybrid score, no continuity correction)
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
    ],
)
def test_newcombe_matches_the_published_hybrid_score_intervals(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    interval = newcombe(proportion(x1, n1), proportion(x2, n2))
    assert interval.low == pytest.approx(low, abs=5e-4)
    assert interval.high == pytest.approx(high, abs=5e-4)


def test_the_two_proportion_test_is_pearsons_chi_square() -> None:
    # 56/70 vs 48/80 as a 2×2 table: N(ad − bc)² / (70·80·104·46) = 7.0234 (1 df).
    result = two_proportion_test(proportion(56, 70), proportion(48, 80))
    assert result.z**2 == pytest.approx(150 * (56 * 32 - 14 * 48) ** 2 / (70 * 80 * 104 * 46))
    assert result.p_value == pytest.approx(0.00804, abs=1e-4)
    assert two_proportion_test(proportion(0, 10), proportion(0, 10)).p_value == 1.0


def test_design_effect_is_one_for_single_installments_and_the_cluster_size_if_together() -> None:
    singles = ClusterSums(m=100, y=30, mm=100, yy=30, my=30)
    assert design_effect(singles) == 1.0
    # 50 borrowers with 3 installments each, 15 of whom repay all three: deff = 3.
    together = ClusterSums(m=150, y=45, mm=50 * 9, yy=15 * 9, my=15 * 9)
    assert design_effect(together) == pytest.approx(3.0)
    # Repayment independent of the borrower would give < 1: never taken to narrow.
    spread = ClusterSums(m=150, y=50, mm=50 * 9, yy=50, my=50 * 3)
    assert design_effect(spread) == 1.0


def test_holm_adjusts_step_down_and_keeps_order() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5]
