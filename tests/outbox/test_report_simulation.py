"""The report's statistics on simulated borrowers whose truth is known.

Populations are written in bulk (:mod:`remindkit.report.sample`): borrowers with one to three
installments (repaid together: clustered), reminded while unpaid, repaying within 7 days of
the first message with a known probability per variant. The report must find the truth as
often as its 95 % claims say: over 200 seeded runs,

- with a true uplift of 12 percentage points, Newcombe's interval covers it in 95 % of runs:
  the test accepts 180–200 covered (a correct 95 % interval falls below 180 with
  probability about 0.3 %, binomial(200, 0.95));
- with no true difference, a difference is claimed (优于/不如) in 5 % of runs: the test
  accepts 3–19 claims (a correct 5 % test lands outside with probability about 0.4 %);
  more would be false wins, fewer an over-cautious rule that never finds anything.

The runs are seeded, so the test is deterministic; SQLite only (the statistics do not
depend on the database; the counting rules are checked on both in test_report_counts.py).
One campaign also goes end to end through ``Kit.run_once``, the dispatcher and
``Kit.record_status`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from conftest import KitFactory
from sqlalchemy import delete

from remindkit.models import Channel, Stage
from remindkit.outbox.schema import installments, message_installments, messages, reach
from remindkit.outbox.states import MessageState
from remindkit.outbox.store import Outbox
from remindkit.report import Comparison, Verdict, build_report
from remindkit.report.sample import Experiment, Step, fill
from remindkit.testing import FrozenClock

START = datetime.fromisoformat("2026-11-02T10:00:00+08:00")
RUNS = 200
PER_ARM = 300
UPLIFT = (0.30, 0.42)
NONE = (0.30, 0.30)
# Every stage × channel is an experiment of its own in the report: one outbox holds eight
# runs with an uplift and eight without, so 25 fills and reports make 200 runs of each.
GROUPS = [(stage, channel) for stage in Stage if stage is not Stage.PAYMENT_RECEIVED
          for channel in Channel]  # fmt: skip
BATCHES = RUNS // (len(GROUPS) // 2)


def experiment(
    name: str, group: tuple[Stage, Channel], rates: tuple[float, float], per_arm: int
) -> Experiment:
    stage, channel = group
    return Experiment(
        name=name,
        start=START,
        borrowers=2 * per_arm,
        steps=(
            Step(stage=stage, channel=channel, day=0),
            Step(stage=stage, channel=channel, day=3),
        ),
        tested=group,
        repay_within={"a": rates[0], "b": rates[1]},
    )


def clear(outbox: Outbox) -> None:
    with outbox.transaction() as connection:
        for table in (message_installments, messages, installments, reach):
            connection.execute(delete(table))


@dataclass
class Tally:
    covered: int = 0
    claimed: int = 0
    won: int = 0
    runs: int = 0


def test_intervals_cover_the_truth_and_no_difference_is_rarely_claimed(tmp_path: Path) -> None:
    outbox = Outbox.open(f"sqlite:///{tmp_path / 'simulated.db'}")
    uplift, none = Tally(), Tally()
    for batch in range(BATCHES):
        clear(outbox)
        for index, group in enumerate(GROUPS):
            rates = UPLIFT if index % 2 == 0 else NONE
            fill(outbox, experiment(f"r{batch}g{index}", group, rates, PER_ARM), seed=batch)
        report = build_report(outbox, as_of=START + timedelta(days=30), windows=(7,))
        assert len(report.comparisons) == len(GROUPS)
        for index, comparison in enumerate(report.comparisons):
            rates = UPLIFT if GROUPS.index(_group(comparison)) % 2 == 0 else NONE
            tally = uplift if rates is UPLIFT else none
            interval = comparison.primary.interval
            tally.runs += 1
            tally.covered += interval.low <= rates[1] - rates[0] <= interval.high
            tally.claimed += comparison.verdict in (Verdict.BETTER, Verdict.WORSE)
            tally.won += comparison.verdict is Verdict.BETTER
            assert index < len(GROUPS)
    outbox.close()
    print(f"\nuplift {uplift}\nnone {none}")
    assert uplift.runs == none.runs == RUNS
    assert 180 <= uplift.covered <= RUNS
    assert 180 <= none.covered <= RUNS
    assert 3 <= none.claimed <= 19
    # Honest, not mute: a 12-point uplift on 300 borrowers a side is usually found, and
    # never the wrong way round.
    assert uplift.won >= RUNS // 2
    assert uplift.claimed == uplift.won


def _group(comparison: Comparison) -> tuple[Stage, Channel]:
    return (Stage(comparison.stage), Channel(comparison.channel))


def test_tiny_samples_say_insufficient(tmp_path: Path) -> None:
    outbox = Outbox.open(f"sqlite:///{tmp_path / 'tiny.db'}")
    fill(outbox, experiment("tiny", (Stage.OVERDUE_EARLY, Channel.SMS), (0.1, 0.9), 20), seed=1)
    report = build_report(outbox, as_of=START + timedelta(days=30))
    (comparison,) = report.comparisons
    outbox.close()
    assert comparison.verdict is Verdict.INSUFFICIENT
    assert comparison.conclusion.startswith("样本不足")


MORNING = datetime.fromisoformat("2026-12-01T08:30:00+08:00")
TEN = datetime.fromisoformat("2026-12-01T10:00:00+08:00")


def test_a_campaign_through_kit_and_dispatch_is_reported_exactly(make_kit: KitFactory) -> None:
    """Borrowers one day overdue get the shipped ``overdue_early/sms`` (variants a and b by
    the sticky hash), sent by the dispatcher at 10:00; they pay through
    ``Kit.record_status`` with a known probability per variant; the report counts exactly
    what happened, and with 60-odd borrowers a side it says 样本不足."""
    kit = make_kit(at=MORNING)
    clock = kit.clock
    assert isinstance(clock, FrozenClock)
    rows = [
        {"loan_id": f"HM{n:04d}", "borrower_id": f"B{n:04d}", "name": "王芳", "gender": "female",
         "phone": f"1380013{n:04d}", "amount_due": "500.00", "due_date": "2026-11-30"}
        for n in range(120)
    ]  # fmt: skip
    kit.run_once(rows)
    clock.set(TEN)
    assert kit.dispatch_due().counts["sent"] == 120
    sent = kit.outbox.messages(states=(MessageState.SENT,), limit=200)
    variants = {m.borrower_id: m.variant for m in sent}
    assert set(variants.values()) == {"a", "b"}
    rng = random.Random(7)
    repaid = {"a": 0, "b": 0}
    for message in sent:
        if rng.random() < {"a": 0.2, "b": 0.6}[message.variant]:
            clock.set(TEN + timedelta(hours=rng.uniform(1, 24 * 6)))
            kit.record_status(message.loan_ids[0], 1, "paid")
            repaid[message.variant] += 1
    report = build_report(kit.outbox, as_of=TEN + timedelta(days=10))
    for variant in "ab":
        cell = next(c for c in report.cells if c.variant == variant)
        members = sum(1 for v in variants.values() if v == variant)
        assert (cell.stage, cell.channel) == ("overdue_early", "sms")
        assert (cell.borrowers, cell.installments, cell.messages) == (members, members, members)
        assert (cell.window(7).matured, cell.window(7).repaid) == (members, repaid[variant])
        assert cell.window(3).repaid <= repaid[variant]
    (comparison,) = report.comparisons
    assert comparison.verdict is Verdict.INSUFFICIENT
    thanks = [c for c in report.not_counted if c.stage == "payment_received"]
    assert sum(c.messages for c in thanks) == sum(repaid.values())
