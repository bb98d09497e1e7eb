"""The ``Kit`` facade: one object a lending backend builds from config or code."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from remindkit import ConfigError, Kit, Settings
from remindkit.models import Channel
from remindkit.testing import FrozenClock, demo_settings, make_installment

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")


def test_render_from_default_settings_uses_the_frozen_clock() -> None:
    kit = Kit(demo_settings(), templates=ROOT / "templates", clock=FrozenClock(NOW))
    loan = make_installment(name="欧阳娜娜", gender="female", loan_id="HM2026072284",
                            due_date="2026-12-04", amount_due="980")  # fmt: skip
    rendered = kit.render("pre_due/sms", loan)
    assert rendered.text == (
        "【禾苗金融】欧阳女士您好，尾号2284的借款12月4日（3天后）到期，应还980.00元，"
        "请在禾苗金融App还款。"
    )
    assert rendered.length is not None
    assert rendered.length.segments == 1


def test_plan_reads_a_feed_path(tmp_path: Path) -> None:
    feed = tmp_path / "loans.csv"
    feed.write_text(
        "loan_id,borrower_id,name,gender,phone,amount_due,due_date\n"
        "HM1,B1,王芳,female,13800138000,100.00,2026-12-02\n"
        "HM2,B2,李强,male,not-a-phone,100.00,2026-12-02\n",
        encoding="utf-8",
    )
    kit = Kit(demo_settings(), templates=ROOT / "templates", clock=FrozenClock(NOW))
    plan = kit.plan(feed)
    assert [(m.borrower_id, m.channel, m.template_id) for m in plan.planned] == [
        ("B1", Channel.SMS, "pre_due/sms")
    ]
    assert [(r.row, r.field) for r in plan.rejected_rows] == [(2, "phone")]


def test_from_config_names_the_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text('[window]\nstart = "07:00"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Kit.from_config(config)
    assert caught.value.key == "window.start"


ROWS = [
    {"loan_id": "HM1", "borrower_id": "B1", "name": "王芳", "phone": "13800138000",
     "amount_due": "100.00", "due_date": "2026-12-02"},
    {"loan_id": "HM2", "borrower_id": "B2", "name": "李强", "phone": "13800138001",
     "amount_due": "-5", "due_date": "2026-12-02"},
]  # fmt: skip


def test_plan_takes_rows_held_in_memory_and_rejects_bad_ones_alone() -> None:
    kit = Kit(demo_settings(), templates=ROOT / "templates", clock=FrozenClock(NOW))
    plan = kit.plan(ROWS)
    assert [m.borrower_id for m in plan.planned] == ["B1"]
    assert [(r.row, r.field) for r in plan.rejected_rows] == [(2, "amount_due")]


def test_without_a_platform_nothing_is_planned_or_rendered() -> None:
    kit = Kit(Settings(), templates=ROOT / "templates", clock=FrozenClock(NOW))
    with pytest.raises(ConfigError) as planned:
        kit.plan(ROWS)
    with pytest.raises(ConfigError) as rendered:
        kit.render("pre_due/sms", make_installment())
    assert planned.value.key == rendered.value.key == "platform"
    assert "not configured" in str(planned.value)
