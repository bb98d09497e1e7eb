"""Exact plans for the cases the SPEC singles out: every message with its key, times, status
and reason, and the plan's warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from remindkit.config import load_settings
from remindkit.render import TemplateCatalog
from remindkit.testing import make_installment
from tests.test_plan import L1, TEMPLATES, at, exact, expect, row, run

PAUSE_NOTE = "moved: Spring Festival pause 2026-02-16..2026-02-19"
ESTIMATE_2027 = (
    "holiday dates for 2027 are estimates: chinesecalendar has no 2027 schedule, so days off "
    "come from the 'holidays' package and make-up workdays (调休) may be missing; add the "
    "official 2027 schedule to config/holidays.toml ([holidays], [workdays], "
    "complete_years = [2027])"
)


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog(TEMPLATES)


def test_due_date_on_a_statutory_holiday(catalog: TemplateCatalog) -> None:
    result = run([row(due_date="2026-10-01")], at("2026-09-28T08:00"), 15, catalog)
    assert exact(result) == [
        expect("2026-09-28T10:00:00+08:00", [L1], "pre_due", "push"),
        expect("2026-09-30T10:00:00+08:00", [L1], "pre_due", "sms"),
        # Due-day reminders go out on holidays; push first, SMS as its fallback.
        expect("2026-10-01T10:00:00+08:00", [L1], "due_today", "push", fallbacks=("sms",)),
        # +1 (2 Oct) and +3 (4 Oct) wait for the first workday, where +7 also falls: one SMS.
        expect(
            "2026-10-08T10:00:00+08:00",
            [L1],
            "overdue_early",
            "sms",
            reason="deferred: holiday 国庆节; merged: steps +1, +3",
        ),
    ]
    assert result.warnings == ()


def test_make_up_workday_sends_overdue_reminders_and_a_plain_weekend_defers_them(
    catalog: TemplateCatalog,
) -> None:
    feed = [row(due_date="2026-10-09"), row(loan_id="L2", due_date="2026-10-16")]
    result = run(feed, at("2026-10-10T08:00"), 10, catalog)
    assert exact(result) == [
        # Saturday 10 Oct is worked for National Day (调休): the +1 step goes out.
        expect("2026-10-10T10:00:00+08:00", [L1], "overdue_early", "sms"),
        expect("2026-10-12T10:00:00+08:00", [L1], "overdue_early", "sms"),
        expect("2026-10-13T10:00:00+08:00", ["L2"], "pre_due", "push"),
        expect("2026-10-15T10:00:00+08:00", ["L2"], "pre_due", "sms"),
        # Two messages on 16 Oct: the older debt first, the other two hours later.
        expect("2026-10-16T10:00:00+08:00", [L1], "overdue_early", "sms"),
        expect(
            "2026-10-16T12:00:00+08:00",
            ["L2"],
            "due_today",
            "push",
            fallbacks=("sms",),
            reason="deferred: min_gap",
        ),
        # L2's +1 falls on an ordinary Saturday: Monday, with the +3 step.
        expect(
            "2026-10-19T10:00:00+08:00",
            ["L2"],
            "overdue_early",
            "sms",
            reason="deferred: weekend; merged: steps +1",
        ),
    ]
    assert result.warnings == ()


def test_due_date_on_a_make_up_saturday(catalog: TemplateCatalog) -> None:
    result = run([row(due_date="2026-10-10")], at("2026-10-06T08:00"), 10, catalog)
    assert exact(result) == [
        expect("2026-10-07T10:00:00+08:00", [L1], "pre_due", "push"),  # a holiday: sent
        expect("2026-10-09T10:00:00+08:00", [L1], "pre_due", "sms"),
        expect("2026-10-10T10:00:00+08:00", [L1], "due_today", "push", fallbacks=("sms",)),
        expect(
            "2026-10-12T10:00:00+08:00", [L1], "overdue_early", "sms", reason="deferred: weekend"
        ),
        expect("2026-10-13T10:00:00+08:00", [L1], "overdue_early", "sms"),
    ]


def test_spring_festival_eve(catalog: TemplateCatalog) -> None:
    result = run([row(due_date="2026-02-16")], at("2026-02-12T08:00"), 14, catalog)
    assert exact(result) == [
        expect("2026-02-13T10:00:00+08:00", [L1], "pre_due", "push"),
        # The due-day step falls on 除夕: it goes out on the last workday before the pause
        # (14 Feb, a make-up Saturday) as a pre-due reminder.
        expect(
            "2026-02-14T10:00:00+08:00",
            [L1],
            "pre_due",
            "push",
            fallbacks=("sms",),
            reason=PAUSE_NOTE,
        ),
        # 15 Feb is a holiday before the pause: pre-due reminders are sent on holidays.
        expect("2026-02-15T10:00:00+08:00", [L1], "pre_due", "sms"),
        expect(
            "2026-02-24T10:00:00+08:00",
            [L1],
            "overdue",
            "sms",
            reason=f"{PAUSE_NOTE}; deferred: holiday 春节; merged: steps +1, +3",
        ),
    ]
    assert not any(date(2026, 2, 16) <= m.day <= date(2026, 2, 19) for m in result.messages)


def test_due_inside_the_pause_gets_its_pre_due_reminders_before_it(
    catalog: TemplateCatalog,
) -> None:
    result = run([row(due_date="2026-02-18")], at("2026-02-12T08:00"), 14, catalog)
    assert exact(result) == [
        expect(
            "2026-02-14T10:00:00+08:00",
            [L1],
            "pre_due",
            "push",
            fallbacks=("sms",),
            reason=f"{PAUSE_NOTE}; merged: steps -1",
        ),
        expect("2026-02-15T10:00:00+08:00", [L1], "pre_due", "push"),
        expect(
            "2026-02-24T10:00:00+08:00",
            [L1],
            "overdue_early",
            "sms",
            reason=f"{PAUSE_NOTE}; deferred: holiday 春节; merged: steps +1",
        ),
        expect("2026-02-25T10:00:00+08:00", [L1], "overdue_early", "sms"),
    ]


def test_2027_dates_are_planned_with_an_estimate_warning(catalog: TemplateCatalog) -> None:
    # chinesecalendar stops at 2026: the 'holidays' package estimates 2027's National Day
    # (no make-up workdays) and the plan says so, once.
    result = run([row(due_date="2027-09-30")], at("2027-09-30T08:00"), 8, catalog)
    assert exact(result) == [
        expect("2027-09-30T10:00:00+08:00", [L1], "due_today", "push", fallbacks=("sms",)),
        expect(
            "2027-10-06T10:00:00+08:00",
            [L1],
            "overdue_early",
            "sms",
            reason="deferred: holiday 国庆节; merged: steps +1",
        ),
        expect("2027-10-07T10:00:00+08:00", [L1], "overdue_early", "sms"),
    ]
    assert result.warnings == (ESTIMATE_2027,)


def test_borrower_in_urumqi_is_reminded_on_urumqi_time(catalog: TemplateCatalog) -> None:
    feed = [row(due_date="2026-12-02", timezone="Asia/Urumqi")]
    morning = run(feed, at("2026-12-01T09:30"), catalog=catalog)  # 07:30 in Urumqi
    assert exact(morning) == [expect("2026-12-01T10:00:00+06:00", [L1], "pre_due", "sms")]
    # 01:00 in Beijing on 2 Dec is still 1 Dec 23:00 in Urumqi: that day's window has closed.
    late = run(feed, at("2026-12-02T01:00"), 2, catalog)
    assert exact(late) == [
        expect(
            "2026-12-01T10:00:00+06:00",
            [L1],
            "pre_due",
            "sms",
            status="suppressed",
            reason="window_closed",
        ),
        expect("2026-12-02T10:00:00+06:00", [L1], "due_today", "push", fallbacks=("sms",)),
    ]


def test_three_installments_due_the_same_day_make_one_message(catalog: TemplateCatalog) -> None:
    feed = [row(loan_id=f"L{n}", due_date="2026-12-02") for n in (3, 1, 2)]
    result = run(feed, at("2026-12-01T08:00"), catalog=catalog)
    assert exact(result) == [
        expect("2026-12-01T10:00:00+08:00", ["L1", "L2", "L3"], "pre_due", "sms")
    ]
    assert [item.loan_id for item in result.messages[0].installments] == ["L1", "L2", "L3"]


@pytest.mark.parametrize(
    ("push_token", "status", "reason"),
    [("tok", "planned", None), (None, "suppressed", "opted_out")],
)
def test_sms_opted_out_on_the_due_day(
    catalog: TemplateCatalog, push_token: str | None, status: str, reason: str | None
) -> None:
    feed = [make_installment(due_date="2026-12-01", opted_out="sms", push_token=push_token)]
    result = run(feed, at("2026-12-01T08:00"), catalog=catalog)
    # Push only: the SMS fallback is refused.
    assert exact(result) == [
        expect("2026-12-01T10:00:00+08:00", [L1], "due_today", "push", status=status, reason=reason)
    ]


def test_sms_opted_out_suppresses_an_sms_only_step_even_with_a_push_token(
    catalog: TemplateCatalog,
) -> None:
    result = run([row(due_date="2026-12-02", opted_out="sms")], at("2026-12-01T08:00"), 1, catalog)
    assert exact(result) == [
        expect(
            "2026-12-01T10:00:00+08:00",
            [L1],
            "pre_due",
            "sms",
            status="suppressed",
            reason="opted_out",
        )
    ]


def test_unknown_segment_uses_the_default_profile_and_warns_once(catalog: TemplateCatalog) -> None:
    feed = [row(loan_id=f"L{n}", borrower_id=f"B{n}", segment="gold") for n in range(3)]
    result = run([*feed, row(loan_id="L9", segment="silver")], at("2026-11-30T08:00"), 1, catalog)
    # The default profile's -1 step (SMS at 10:00); messages ordered by time, then borrower.
    assert exact(result) == [
        expect("2026-11-30T10:00:00+08:00", [loan], "pre_due", "sms", borrower=borrower)
        for borrower, loan in (("B0", "L0"), ("B0001", "L9"), ("B1", "L1"), ("B2", "L2"))
    ]
    assert result.warnings == (
        "unknown segment 'gold': its rows use the default cadence profile",
        "unknown segment 'silver': its rows use the default cadence profile",
    )


def test_hardship_gets_plan_offer_wording_only_when_overdue(catalog: TemplateCatalog) -> None:
    feed = [
        row(loan_id="L1", due_date="2026-11-30", hardship="true"),
        row(loan_id="L2", borrower_id="B2", due_date="2026-12-02", hardship="true"),
        row(loan_id="L3", borrower_id="B3", due_date="2026-11-30", status="plan"),
        row(loan_id="L4", borrower_id="B4", due_date="2026-12-02", status="plan"),
    ]
    result = run(feed, at("2026-12-01T08:00"), catalog=catalog)
    assert exact(result) == [
        expect("2026-12-01T10:00:00+08:00", ["L1"], "plan_offer", "sms"),
        expect("2026-12-01T10:00:00+08:00", ["L2"], "pre_due", "sms", borrower="B2"),
        # An agreed plan is never offered again: its installments get their own wording.
        expect("2026-12-01T10:00:00+08:00", ["L3"], "plan_installment", "sms", borrower="B3"),
        expect("2026-12-01T10:00:00+08:00", ["L4"], "plan_installment", "sms", borrower="B4"),
    ]


def test_override_file_makes_a_workday_a_holiday(tmp_path: Path, catalog: TemplateCatalog) -> None:
    (tmp_path / "holidays.toml").write_text(
        '[holidays]\n"2026-12-02" = "公司年会"\n"2026-12-03" = ""\n', encoding="utf-8"
    )
    config = tmp_path / "remindkit.toml"
    config.write_text("", encoding="utf-8")
    feed = [row(due_date="2026-12-01"), row(loan_id="L2", due_date="2026-12-02")]
    result = run(feed, at("2026-12-01T08:00"), 4, catalog, load_settings(config))
    assert exact(result) == [
        expect("2026-12-01T10:00:00+08:00", [L1], "due_today", "push", fallbacks=("sms",)),
        expect("2026-12-01T12:00:00+08:00", ["L2"], "pre_due", "sms", reason="deferred: min_gap"),
        # A due day is kept on a day off; the +1 steps wait for Friday.
        expect("2026-12-02T10:00:00+08:00", ["L2"], "due_today", "push", fallbacks=("sms",)),
        expect(
            "2026-12-04T10:00:00+08:00",
            [L1, "L2"],
            "overdue_early",
            "sms",
            reason="deferred: holiday 公司年会; merged: steps +1; deferred: day off",
        ),
    ]
