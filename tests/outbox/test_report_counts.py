"""The report's counting rules, exactly, on small outboxes built by hand (SQLite and PostgreSQL).

One test per rule of the README's "Counting rules"; each would fail with its rule broken.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import OutboxFactory
from report_world import LATER, T0, World, cell

from remindkit.errors import ArgumentError
from remindkit.models import Channel, Stage
from remindkit.outbox.states import MessageState
from remindkit.report import Verdict

DAY = timedelta(days=1)
EARLY, SMS = Stage.OVERDUE_EARLY, Channel.SMS


@pytest.fixture
def world(open_outbox: OutboxFactory) -> World:
    return World(open_outbox())


def test_only_sent_messages_count_the_others_are_listed_apart(world: World) -> None:
    world.send("B1", (("L1", 1),))
    for number, state in enumerate(
        (
            MessageState.CANCELLED,
            MessageState.SUPPRESSED,
            MessageState.EXPIRED,
            MessageState.UNKNOWN,
            MessageState.FAILED,
            MessageState.PLANNED,
        ),
        start=2,
    ):
        world.send(f"B{number}", ((f"L{number}", 1),), state=state)
    world.pay("L1", at=T0 + DAY)
    world.pay("L5", at=T0 + DAY)  # unknown: may have reached the borrower, still not counted
    report = world.report()
    reached = cell(report, EARLY, SMS)
    assert (reached.borrowers, reached.installments, reached.messages) == (1, 1, 1)
    assert reached.window(7).repaid == 1
    assert len(report.cells) == 1
    apart = {(c.stage, c.variant, c.state): c.messages for c in report.not_counted}
    assert apart == {
        ("overdue_early", "a", state): 1
        for state in ("cancelled", "suppressed", "expired", "unknown", "failed", "planned")
    }
    assert (report.overall.borrowers, report.overall.installments, report.overall.messages) == (
        1,
        1,
        1,
    )


def test_a_borrower_is_counted_once_per_stage_in_the_variant_of_the_first_message(
    world: World,
) -> None:
    world.send("B1", at=T0)
    world.send("B1", at=T0 + 3 * DAY)
    world.send("B1", at=T0 + 5 * DAY, variant="b")  # weights changed: B1 stays in a
    world.send("B2", (("L2", 1),), at=T0, variant="b")
    report = world.report()
    first = cell(report, EARLY, SMS, "a")
    assert (first.borrowers, first.installments, first.messages) == (1, 1, 3)
    second = cell(report, EARLY, SMS, "b")
    assert (second.borrowers, second.installments, second.messages) == (1, 1, 1)
    assert report.stages[0].messages == 4
    assert report.stages[0].borrowers == 2


def test_a_payment_before_the_message_does_not_count_for_it(world: World) -> None:
    world.send("B1", (("L1", 1),), at=T0)  # the message that goes out on the old feed
    world.send("B2", (("L2", 1),), at=T0 + DAY)
    world.pay("L2", at=T0)  # paid before B2's first message
    world.pay("L1", at=T0 + 2 * DAY)
    reached = cell(world.report(), EARLY, SMS)
    assert (reached.installments, reached.paid_before, reached.repaid) == (2, 1, 1)
    assert (reached.window(7).matured, reached.window(7).repaid) == (2, 1)


def test_repaid_within_n_days_counts_from_the_first_message_up_to_exactly_n_days(
    world: World,
) -> None:
    for number, delay in enumerate(
        (
            timedelta(0),
            3 * DAY,
            3 * DAY + timedelta(seconds=1),
            7 * DAY,
            7 * DAY + timedelta(milliseconds=5),
        ),
        start=1,
    ):
        world.send(f"B{number}", ((f"L{number}", 1),), at=T0)
        world.send(f"B{number}", ((f"L{number}", 1),), at=T0 + 2 * DAY)  # a later reminder
        world.pay(f"L{number}", at=T0 + delay)
    world.send("B9", (("L9", 1),), at=T0)  # never paid
    reached = cell(world.report(), EARLY, SMS)
    assert (reached.window(3).matured, reached.window(3).repaid) == (6, 2)
    assert (reached.window(7).matured, reached.window(7).repaid) == (6, 4)
    assert reached.repaid == 5
    assert reached.messages == 11


def test_an_installment_counts_in_an_n_day_rate_only_once_its_n_days_have_passed(
    world: World,
) -> None:
    as_of = T0 + 10 * DAY
    world.send("B1", (("L1", 1),), at=as_of - 2 * DAY)
    world.send("B2", (("L2", 1),), at=as_of - 5 * DAY)
    world.send("B3", (("L3", 1),), at=as_of - 7 * DAY)
    world.pay("L1", at=as_of - DAY)
    world.pay("L3", at=as_of + DAY)  # after the report's time: not yet known
    reached = cell(world.report(as_of=as_of), EARLY, SMS)
    assert (reached.window(3).matured, reached.window(3).repaid) == (2, 0)
    assert (reached.window(7).matured, reached.window(7).repaid) == (1, 0)
    assert reached.repaid == 1


def test_a_consolidated_message_counts_each_installment_once_and_once_as_a_message(
    world: World,
) -> None:
    loans = (("L1", 1), ("L1", 2), ("L2", 1))
    world.send("B1", loans, at=T0)
    world.send("B1", loans, at=T0 + DAY)
    world.send("B2", (("L3", 1),), at=T0)
    for loan, number in loans:
        world.pay(loan, number, at=T0 + 2 * DAY)
    reached = cell(world.report(), EARLY, SMS)
    assert (reached.borrowers, reached.installments, reached.messages) == (2, 4, 3)
    assert (reached.window(7).matured, reached.window(7).repaid) == (4, 3)
    assert reached.messages_per_repaid == 1.0
    # B1's three installments moved together: the interval is not that of four trials.
    # Σ(y_b − p·m_b)² / (m·p·(1−p)) with p = 3/4: (0.5625 + 0.5625) / 0.75 = 1.5
    assert reached.window(7).design_effect == pytest.approx(1.5)
    assert reached.window(7).effective.trials == pytest.approx(4 / 1.5)


def test_stage_and_overall_totals_count_an_installment_once_whatever_the_channels(
    world: World,
) -> None:
    world.send("B1", at=T0, stage=Stage.PRE_DUE, channel=Channel.PUSH)
    world.send("B1", at=T0 + DAY, stage=Stage.PRE_DUE, channel=Channel.SMS)
    world.send("B1", at=T0 + 3 * DAY, stage=Stage.OVERDUE_EARLY, channel=Channel.SMS)
    world.send("B2", (("L2", 1),), at=T0 + 3 * DAY, stage=Stage.OVERDUE_EARLY)
    world.pay("L1", at=T0 + 4 * DAY)
    report = world.report()
    assert cell(report, Stage.PRE_DUE, Channel.PUSH).installments == 1
    assert cell(report, Stage.PRE_DUE, Channel.SMS).installments == 1
    stages = {s.stage: (s.borrowers, s.installments, s.messages, s.repaid) for s in report.stages}
    assert stages == {"pre_due": (1, 1, 2, 1), "overdue_early": (2, 2, 2, 1)}
    overall = report.overall
    assert (overall.borrowers, overall.installments, overall.messages, overall.repaid) == (
        2,
        2,
        4,
        1,
    )
    assert overall.messages_per_repaid == 4.0


def test_thank_yous_are_not_reminders_and_are_listed_apart(world: World) -> None:
    world.send("B1", at=T0)
    world.pay("L1", at=T0 + DAY)
    world.send("B1", at=T0 + DAY, stage=Stage.PAYMENT_RECEIVED)
    report = world.report()
    assert [(c.stage, c.messages) for c in report.cells] == [("overdue_early", 1)]
    assert report.overall.messages == 1
    assert [(c.stage, c.state, c.messages) for c in report.not_counted] == [
        ("payment_received", "sent", 1)
    ]


def test_opt_outs_count_when_the_channel_is_refused_after_the_first_message(
    world: World,
) -> None:
    for number in range(1, 5):
        world.send(f"B{number}", ((f"L{number}", 1),), at=T0)
    world.opt_out("B1", Channel.SMS, at=T0 + DAY)
    world.opt_out("B2", Channel.SMS, at=T0 - DAY)  # refused before: not the message's doing
    world.opt_out("B3", Channel.PUSH, at=T0 + DAY)  # another channel
    world.opt_out("B1", Channel.SMS, at=T0 + 2 * DAY)  # seen again: the first time stays
    assert cell(world.report(), EARLY, SMS).opted_out == 1
    assert cell(world.report(as_of=T0 + timedelta(hours=1)), EARLY, SMS).opted_out == 0


def test_since_and_until_pick_installments_by_the_day_of_their_first_message(
    world: World,
) -> None:
    world.send("B1", (("L1", 1),), at=T0)
    world.send("B1", (("L1", 1),), at=T0 + 2 * DAY)
    world.send("B2", (("L2", 1),), at=T0 + 2 * DAY)
    day = (T0 + 2 * DAY).date()
    period = world.report(since=day, until=day)
    only = cell(period, EARLY, SMS)  # B2 only: B1's installment was first reminded before
    assert (only.borrowers, only.installments, only.messages) == (1, 1, 1)
    assert (period.overall.installments, period.overall.messages) == (1, 1)
    assert {(c.state, c.messages) for c in period.not_counted} == set()
    everything = cell(world.report(), EARLY, SMS)
    assert (everything.installments, everything.messages) == (2, 3)
    with pytest.raises(ArgumentError, match="since"):
        world.report(since=day, until=T0.date())


def test_a_payment_is_recorded_once_at_the_first_sighting(world: World) -> None:
    world.send("B1", at=T0)
    world.pay("L1", at=T0 + 2 * DAY)
    world.pay("L1", at=T0 + 9 * DAY)  # the next feed still says paid
    reached = cell(world.report(), EARLY, SMS)
    assert (reached.window(3).repaid, reached.window(7).repaid) == (1, 1)


def test_tiny_samples_say_insufficient(world: World) -> None:
    for number in range(6):
        variant = "ab"[number % 2]
        world.send(f"B{number}", ((f"L{number}", 1),), at=T0, variant=variant)
        if number % 3 == 0:
            world.pay(f"L{number}", at=T0 + DAY)
    (comparison,) = world.report().comparisons
    assert comparison.verdict is Verdict.INSUFFICIENT
    assert comparison.conclusion.startswith("样本不足")
    assert LATER > T0


def test_delivered_counts_receipts_and_stays_unknown_without_them(world: World) -> None:
    world.send("B1", at=T0, receipt="delivered")
    world.send("B1", at=T0 + DAY, receipt="read")
    world.send("B2", (("L2", 1),), at=T0, receipt="undelivered")
    world.send("B3", (("L3", 1),), at=T0)  # no receipt yet
    world.send("B4", (("L4", 1),), at=T0, stage=Stage.PRE_DUE)
    report = world.report()
    early = cell(report, EARLY, SMS)
    assert (early.messages, early.receipts, early.delivered) == (4, 3, 2)
    assert cell(report, Stage.PRE_DUE, SMS).delivered is None  # unknown, not zero
    assert report.receipts
