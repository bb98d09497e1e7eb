"""Scenario tests: exact plans for the cases SPEC §5 singles out."""

from __future__ import annotations

from collections.abc import Sequence
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


def exact(result: Plan) -> list[dict[str, object]]:
    """Every message as in ``remindkit plan --format json`` (fallback channels included)."""
    return [message.to_json() for message in result.messages]


def expect(
    send_at: str,
    loans: list[str],
    stage: str,
    channel: str,
    *,
    template: str | None = None,
    fallbacks: tuple[str, ...] = (),
    status: str = "planned",
    reason: str | None = None,
    borrower: str = "B0001",
    window_end: str = "20:00:00",
) -> dict[str, object]:
    """The message ``exact`` should show: the key is derived from the expected values
    (installment number 1), ``not_after`` is the window end on the day of ``send_at``."""
    day, offset = send_at[:10], send_at[19:]
    key = message_key(
        borrower_id=borrower,
        installments=[(loan, 1) for loan in loans],
        stage=Stage(stage),
        day=date.fromisoformat(day),
        channel=Channel(channel),
    )
    return {
        "key": key,
        "borrower_id": borrower,
        "loan_ids": loans,
        "stage": stage,
        "template_id": template or f"{stage}/{channel}",
        "channel": channel,
        "send_at": send_at,
        "not_after": f"{day}T{window_end}{offset}",
        "status": status,
        "reason": reason,
        "fallback_channels": list(fallbacks),
    }


def run(
    feed: Sequence[Installment | RejectedRow],
    when: datetime,
    days: int = 1,
    catalog: TemplateCatalog | None = None,
    settings: Settings | None = None,
) -> Plan:
    return plan(feed, settings or default_settings(), at=when, days=days, catalog=catalog)


L1 = "HM20260001"


def test_a_december_plan_does_not_warn_about_next_year() -> None:
    # The +30 step of a 2 Dec due date falls in 2027, but cannot fire on 1 Dec.
    result = run([row(due_date="2026-12-02")], at("2026-12-01T08:00"))
    assert result.warnings == ()


def test_no_phone_and_no_token_is_no_contact() -> None:
    result = run([make_installment(due_date="2026-12-01", phone="")], at("2026-12-01T08:00"))
    assert [(line[6], line[7]) for line in lines(result)] == [("suppressed", "no_contact")]


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
            "fallback_channels": [],
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


def test_each_borrower_keeps_one_variant_whatever_the_day_or_feed_order(
    catalog: TemplateCatalog,
) -> None:
    feed = [row(loan_id=f"L{n}", borrower_id=f"B{n}", due_date="2026-11-30") for n in range(6)]
    first = run(feed, at("2026-12-01T08:00"), catalog=catalog)  # the +1 step
    later = run(feed[::-1], at("2026-12-03T08:00"), catalog=catalog)  # the +3 step
    chosen = {m.borrower_id: m.template_id for m in first.messages}
    assert chosen == {m.borrower_id: m.template_id for m in later.messages}
    assert chosen == {
        f"B{n}": catalog.pick("overdue_early/sms", f"B{n}").template_id for n in range(6)
    }
    assert len(set(chosen.values())) > 1  # the shipped group has variants, and both are used
