"""`remindkit demo`: the README's first command, end to end on the shipped samples."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app


@pytest.fixture(scope="module")
def demo_output() -> str:
    _register()
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_stage_is_rendered_for_the_samples(demo_output: str) -> None:
    for stage in ("pre_due", "due_today", "overdue_early", "overdue", "overdue_late",
                  "payment_received", "plan_offer"):  # fmt: skip
        assert f"短信 {stage}/sms" in demo_output, stage
        assert f"推送 {stage}/push" in demo_output, stage
    assert "17 个样例，0 个渲染失败。" in demo_output


def test_the_sample_feed_is_planned_and_rendered(demo_output: str) -> None:
    assert "B1017 sms pre_due/sms" in demo_output
    assert (
        "【禾苗金融】诸葛先生您好，您有3笔账单12月2日（明天）到期，共应还2,124.30元" in demo_output
    )
    assert "10:00+0600 B1016 sms pre_due/sms" in demo_output  # Urumqi borrower, local 10:00
    assert "B1018 sms 不发送：opted_out" in demo_output
    assert "第14行 phone：not a valid mobile number（此行跳过，其余照常）" in demo_output
    assert "第15行 amount_due：not a decimal amount: 'abc'" in demo_output


def test_nothing_is_shown_in_full_that_should_be_masked(demo_output: str) -> None:
    assert "13812345678" not in demo_output
    assert "欧阳娜娜" not in demo_output
