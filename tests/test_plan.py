"""Scenario tests: exact plans for the cases SPEC §5 singles out."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from remindkit.config import Settings, default_settings, load_settings
from remindkit.feed import RejectedRow
from remindkit.models import Channel, Installment, Stage
from remindkit.plan import Plan, Planner, plan
from remindkit.policy.keys import message_key
from remindkit.render import TemplateCatalog
from remindkit.testing import make_installment

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAUSE_NOTE = "moved: Spring Festival pause 2026-02-16..2026-02-19"


@pytest.fixture(scope="module")
def catalog() -> TemplateCatalog:
    return TemplateCatalog(TEMPLATES)


def row(**fields: Any) -> Installment:
    """A feed row for borrower B0001 with a phone and a push token unless told otherwise."""
    fields.setdefault("push_token", f"tok-{fields.get('borrower_id', 'B0001')}")
    return make_installment(**fields)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def lines(result: Plan) -> list[tuple[object, ...]]:
    """(send_at, loan ids, stage, template, channel, fallbacks, status, reason) per message."""
    return [
        (
            m.send_at.isoformat(),
            list(m.loan_ids),
            m.stage.value,
            m.template_id,
            m.channel.value,
            [c.value for c in m.fallback_channels],
            m.status.value,
            m.reason,
        )
        for m in result.messages
    ]


def run(
    feed: list[Installment | RejectedRow],
    when: datetime,
    days: int = 1,
    catalog: TemplateCatalog | None = None,
    settings: Settings | None = None,
) -> Plan:
    return plan(feed, settings or default_settings(), at=when, days=days, catalog=catalog)


L1 = "HM20260001"


def test_due_date_on_a_statutory_holiday(catalog: TemplateCatalog) -> None:
    result = run([row(due_date="2026-10-01")], at("2026-09-28T08:00"), 15, catalog)
    assert lines(result) == [
        ("2026-09-28T10:00:00+08:00", [L1], "pre_due", "pre_due/push", "push", [], "planned", None),
        ("2026-09-30T10:00:00+08:00", [L1], "pre_due", "pre_due/sms", "sms", [], "planned", None),
        # Due-day reminders go out on holidays; push first, SMS as its fallback.
        (
            "2026-10-01T10:00:00+08:00",
            [L1],
            "due_today",
            "due_today/push",
            "push",
            ["sms"],
            "planned",
            None,
        ),
        # +1 (2 Oct) and +3 (4 Oct) wait for the first workday, where +7 also falls: one SMS.
        (
            "2026-10-08T10:00:00+08:00",
            [L1],
            "overdue_early",
            "overdue_early/sms",
            "sms",
            [],
            "planned",
            "deferred: holiday 国庆节; merged: steps +1, +3",
        ),
    ]
    assert result.warnings == ()


def test_make_up_workday_sends_overdue_reminders_and_a_plain_weekend_defers_them() -> None:
    feed = [row(due_date="2026-10-09"), row(loan_id="L2", due_date="2026-10-16")]
    result = run(feed, at("2026-10-10T08:00"), 10)
    overdue = [(line[0], line[1], line[7]) for line in lines(result) if line[2] == "overdue_early"]
    assert overdue == [
        ("2026-10-10T10:00:00+08:00", [L1], None),  # Saturday worked for National Day (调休)
        ("2026-10-12T10:00:00+08:00", [L1], None),
        ("2026-10-16T10:00:00+08:00", [L1], None),
        ("2026-10-19T10:00:00+08:00", ["L2"], "deferred: weekend; merged: steps +1"),
    ]


def test_spring_festival_eve(catalog: TemplateCatalog) -> None:
    result = run([row(due_date="2026-02-16")], at("2026-02-12T08:00"), 14, catalog)
    assert lines(result) == [
        ("2026-02-13T10:00:00+08:00", [L1], "pre_due", "pre_due/push", "push", [], "planned", None),
        # The due-day step falls on 除夕: it goes out on the last workday before the pause
        # (14 Feb, a make-up Saturday) as a pre-due reminder.
        (
            "2026-02-14T10:00:00+08:00",
            [L1],
            "pre_due",
            "pre_due/push",
            "push",
            ["sms"],
            "planned",
            PAUSE_NOTE,
        ),
        # 15 Feb is a holiday before the pause: pre-due reminders are sent on holidays.
        ("2026-02-15T10:00:00+08:00", [L1], "pre_due", "pre_due/sms", "sms", [], "planned", None),
        (
            "2026-02-24T10:00:00+08:00",
            [L1],
            "overdue",
            "overdue/sms",
            "sms",
            [],
            "planned",
            f"{PAUSE_NOTE}; deferred: holiday 春节; merged: steps +1, +3",
        ),
    ]
    assert not any(date(2026, 2, 16) <= m.day <= date(2026, 2, 19) for m in result.messages)


def test_due_inside_the_pause_gets_its_pre_due_reminders_before_it() -> None:
    result = run([row(due_date="2026-02-18")], at("2026-02-12T08:00"), 14)
    assert [(line[0], line[2], line[4], line[7]) for line in lines(result)] == [
        ("2026-02-14T10:00:00+08:00", "pre_due", "push", f"{PAUSE_NOTE}; merged: steps -1"),
        ("2026-02-15T10:00:00+08:00", "pre_due", "push", None),
        (
            "2026-02-24T10:00:00+08:00",
            "overdue_early",
            "sms",
            f"{PAUSE_NOTE}; deferred: holiday 春节; merged: steps +1",
        ),
        ("2026-02-25T10:00:00+08:00", "overdue_early", "sms", None),
    ]


def test_2027_dates_are_planned_with_an_estimate_warning() -> None:
    # chinesecalendar stops at 2026: the 'holidays' package estimates 2027's National Day
    # (1–5 Oct, no make-up workdays) and the plan says so.
    result = run([row(due_date="2027-09-30")], at("2027-09-30T08:00"), 8)
    assert [(line[0], line[2], line[4], line[7]) for line in lines(result)] == [
        ("2027-09-30T10:00:00+08:00", "due_today", "push", None),
        (
            "2027-10-06T10:00:00+08:00",
            "overdue_early",
            "sms",
            "deferred: holiday 国庆节; merged: steps +1",
        ),
        ("2027-10-07T10:00:00+08:00", "overdue_early", "sms", None),
    ]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("holiday dates for 2027 are estimates")


def test_a_december_plan_does_not_warn_about_next_year() -> None:
    # The +30 step of a 2 Dec due date falls in 2027, but cannot fire on 1 Dec.
    result = run([row(due_date="2026-12-02")], at("2026-12-01T08:00"))
    assert result.warnings == ()


def test_borrower_in_urumqi_is_reminded_on_urumqi_time() -> None:
    feed = [row(due_date="2026-12-02", timezone="Asia/Urumqi")]
    morning = run(feed, at("2026-12-01T09:30"))  # 07:30 in Urumqi
    assert [(m.send_at.isoformat(), m.not_after.isoformat()) for m in morning.messages] == [
        ("2026-12-01T10:00:00+06:00", "2026-12-01T20:00:00+06:00")
    ]
    # 01:00 in Beijing on 2 Dec is still 1 Dec 23:00 in Urumqi: that day's window has closed.
    late = run(feed, at("2026-12-02T01:00"))
    assert [(m.day, m.status.value, m.reason) for m in late.messages] == [
        (date(2026, 12, 1), "suppressed", "window_closed")
    ]


def test_three_installments_due_the_same_day_make_one_message() -> None:
    feed = [row(loan_id=f"L{n}", due_date="2026-12-02") for n in (3, 1, 2)]
    result = run(feed, at("2026-12-01T08:00"))
    assert len(result.messages) == 1
    message = result.messages[0]
    assert message.loan_ids == ("L1", "L2", "L3")
    assert [item.loan_id for item in message.installments] == ["L1", "L2", "L3"]
    assert message.key == message_key(
        borrower_id="B0001",
        installments=[("L1", 1), ("L2", 1), ("L3", 1)],
        stage=Stage.PRE_DUE,
        day=date(2026, 12, 1),
        channel=Channel.SMS,
    )


@pytest.mark.parametrize(
    ("push_token", "expected"),
    [
        ("tok", ("push", [], "planned", None)),
        (None, ("push", [], "suppressed", "opted_out")),
    ],
)
def test_sms_opted_out_on_the_due_day(push_token: str | None, expected: tuple[object]) -> None:
    feed = [make_installment(due_date="2026-12-01", opted_out="sms", push_token=push_token)]
    result = run(feed, at("2026-12-01T08:00"))
    assert [tuple(line[4:]) for line in lines(result)] == [expected]


def test_sms_opted_out_suppresses_an_sms_only_step_even_with_a_push_token() -> None:
    result = run([row(due_date="2026-12-02", opted_out="sms")], at("2026-12-01T08:00"))
    assert [(line[4], line[6], line[7]) for line in lines(result)] == [
        ("sms", "suppressed", "opted_out")
    ]


def test_no_phone_and_no_token_is_no_contact() -> None:
    result = run([make_installment(due_date="2026-12-01", phone="")], at("2026-12-01T08:00"))
    assert [(line[6], line[7]) for line in lines(result)] == [("suppressed", "no_contact")]


def test_unknown_segment_uses_the_default_profile_and_warns_once() -> None:
    feed = [row(loan_id=f"L{n}", borrower_id=f"B{n}", segment="gold") for n in range(3)]
    result = run([*feed, row(loan_id="L9", segment="silver")], at("2026-11-30T08:00"))
    assert [m.stage for m in result.messages] == [Stage.PRE_DUE] * 4
    assert result.warnings == (
        "unknown segment 'gold': its rows use the default cadence profile",
        "unknown segment 'silver': its rows use the default cadence profile",
    )


def test_known_segment_uses_its_profile(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(
        '[[cadence.gentle.steps]]\noffset_days = -2\nchannels = ["push"]\nsend_time = "18:30"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    feed = [row(segment="gentle", due_date="2026-12-03"), row(loan_id="L2", due_date="2026-12-03")]
    result = run(feed, at("2026-12-01T08:00"), settings=settings)
    assert [(line[0], line[1]) for line in lines(result)] == [("2026-12-01T18:30:00+08:00", [L1])]


def test_hardship_gets_plan_offer_wording_only_when_overdue(catalog: TemplateCatalog) -> None:
    feed = [
        row(loan_id="L1", due_date="2026-11-30", hardship="true"),
        row(loan_id="L2", borrower_id="B2", due_date="2026-12-02", hardship="true"),
        row(loan_id="L3", borrower_id="B3", due_date="2026-11-30", status="plan"),
    ]
    result = run(feed, at("2026-12-01T08:00"), catalog=catalog)
    assert sorted((line[1][0], line[2], line[3]) for line in lines(result)) == [
        ("L1", "plan_offer", "plan_offer/sms"),
        ("L2", "pre_due", "pre_due/sms"),
        ("L3", "plan_offer", "plan_offer/sms"),
    ]


@pytest.mark.parametrize("status", ["paid", "dispute", "paused"])
def test_stop_statuses_are_never_planned(status: str) -> None:
    feed = [row(due_date="2026-12-02", status=status), row(loan_id="L2", due_date="2026-12-02")]
    result = run(feed, at("2026-12-01T08:00"))
    assert [m.loan_ids for m in result.messages] == [("L2",)]


def test_caps_keep_the_most_overdue_messages_and_space_them() -> None:
    feed = [
        row(loan_id="A", due_date="2026-12-04"),  # -3: pre_due push
        row(loan_id="B", due_date="2026-12-01"),  # 0: due_today push
        row(loan_id="C", due_date="2026-11-16"),  # +15: overdue sms
    ]
    result = run(feed, at("2026-12-01T08:00"))
    assert [(line[0], line[1], line[2], line[6], line[7]) for line in lines(result)] == [
        ("2026-12-01T10:00:00+08:00", ["C"], "overdue", "planned", None),
        ("2026-12-01T10:00:00+08:00", ["A"], "pre_due", "suppressed", "frequency_cap"),
        ("2026-12-01T12:00:00+08:00", ["B"], "due_today", "planned", "deferred: min_gap"),
    ]


def test_min_gap_suppresses_when_the_day_runs_out(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(
        "".join(
            f'[[cadence.default.steps]]\noffset_days = {offset}\nchannels = ["sms"]\n'
            'send_time = "19:00"\n'
            for offset in (-1, 1)
        ),
        encoding="utf-8",
    )
    feed = [row(due_date="2026-12-02"), row(loan_id="L2", due_date="2026-11-30")]
    result = run(feed, at("2026-12-01T08:00"), settings=load_settings(config))
    assert [(line[0], line[1], line[6], line[7]) for line in lines(result)] == [
        ("2026-12-01T19:00:00+08:00", ["L2"], "planned", None),
        ("2026-12-01T19:00:00+08:00", [L1], "suppressed", "min_gap"),
    ]


def test_at_late_in_the_day_sends_now_or_reports_the_window_closed() -> None:
    feed = [row(due_date="2026-12-02")]
    assert [m.send_at.isoformat() for m in run(feed, at("2026-12-01T15:07")).messages] == [
        "2026-12-01T15:07:00+08:00"
    ]
    closed = run(feed, at("2026-12-01T20:00")).messages
    assert [(m.status.value, m.reason) for m in closed] == [("suppressed", "window_closed")]


def test_rejected_rows_pass_through_sorted() -> None:
    feed: list[Installment | RejectedRow] = [
        RejectedRow(7, "phone", "not a valid mobile number"),
        row(due_date="2026-12-02"),
        RejectedRow(2, "due_date", "required"),
    ]
    result = run(feed, at("2026-12-01T08:00"))
    assert result.to_json()["rejected_rows"] == [
        {"row": 2, "field": "due_date", "reason": "required"},
        {"row": 7, "field": "phone", "reason": "not a valid mobile number"},
    ]


def test_duplicate_rows_plan_once_with_a_warning() -> None:
    result = run([row(due_date="2026-12-02"), row(due_date="2026-12-02")], at("2026-12-01T08:00"))
    assert len(result.messages) == 1
    assert result.warnings == (
        f"installment {L1}#1 of borrower 'B0001' appears in several feed rows; planned once",
    )


def test_missing_template_suppresses_and_warns(tmp_templates: Any) -> None:
    root = tmp_templates({"pre_due/push.j2": "{% block title %}t{% endblock %}"})
    feed = [row(due_date="2026-12-02")]
    result = run(feed, at("2026-12-01T08:00"), catalog=TemplateCatalog(root))
    assert [(line[3], line[6], line[7]) for line in lines(result)] == [
        ("pre_due/sms", "suppressed", "no_template")
    ]
    assert result.warnings[0].startswith("template pre_due/sms (zh_CN) unusable")


def test_json_document_shape() -> None:
    result = run([row(due_date="2026-12-02")], at("2026-12-01T08:00"))
    document = result.to_json()
    assert list(document) == ["messages", "rejected_rows", "warnings"]
    assert document["messages"] == [
        {
            "key": result.messages[0].key,
            "borrower_id": "B0001",
            "loan_ids": [L1],
            "stage": "pre_due",
            "template_id": "pre_due/sms",
            "channel": "sms",
            "send_at": "2026-12-01T10:00:00+08:00",
            "not_after": "2026-12-01T20:00:00+08:00",
            "status": "planned",
            "reason": None,
        }
    ]


def test_planner_refuses_naive_at() -> None:
    with pytest.raises(ValueError, match="aware"):
        Planner(default_settings()).plan([], at=datetime(2026, 12, 1))  # noqa: DTZ001


def test_holiday_rules_can_be_switched_off(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(
        '[holidays]\noverdue_on_holidays = "send"\nspring_festival_pause = false\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    national_day = run([row(due_date="2026-10-01")], at("2026-10-02T08:00"), settings=settings)
    assert [(line[0], line[2], line[7]) for line in lines(national_day)] == [
        ("2026-10-02T10:00:00+08:00", "overdue_early", None)
    ]
    eve = run([row(due_date="2026-02-16")], at("2026-02-16T08:00"), settings=settings)
    assert [(line[0], line[2]) for line in lines(eve)] == [
        ("2026-02-16T10:00:00+08:00", "due_today")
    ]


@pytest.mark.parametrize("when", ["2026-12-01T07:07:00+00:00", "2026-12-01T15:07:00+08:00"])
def test_times_carry_the_borrowers_offset_whatever_the_offset_of_at(when: str) -> None:
    feed = [
        row(due_date="2026-12-02", timezone="Asia/Urumqi"),
        row(loan_id="L2", due_date="2026-11-30", timezone="Asia/Urumqi"),
    ]
    result = run(feed, datetime.fromisoformat(when))
    times = [(m.send_at.isoformat(), m.not_after.isoformat(), m.reason) for m in result.messages]
    assert times == [
        ("2026-12-01T13:07:00+06:00", "2026-12-01T20:00:00+06:00", None),
        ("2026-12-01T15:07:00+06:00", "2026-12-01T20:00:00+06:00", "deferred: min_gap"),
    ]


def test_rows_of_one_borrower_in_another_zone_are_planned_on_the_borrowers_days() -> None:
    # At 08:00 in Shanghai it is 1 Dec 14:00 in Kiritimati but 30 Nov 13:00 in Pago Pago.
    feed = [
        row(due_date="2026-12-02", timezone="Pacific/Kiritimati"),
        row(loan_id="L2", due_date="2026-12-01", timezone="Pacific/Pago_Pago"),
    ]
    result = run(feed, at("2026-12-01T08:00"))
    assert [(m.day, m.send_at.isoformat(), m.loan_ids, m.stage.value) for m in result.messages] == [
        (date(2026, 12, 1), "2026-12-01T14:00:00+14:00", ("L2",), "due_today"),
        (date(2026, 12, 1), "2026-12-01T16:00:00+14:00", (L1,), "pre_due"),
    ]
    assert result.warnings == (
        "borrower 'B0001' has rows in several time zones; planned in Pacific/Kiritimati",
    )
