"""`remindkit demo`: the README's first command, a simulated week end to end in seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_output() -> str:
    """The demo's output with wrapped message lines joined again (whatever the width)."""
    result = runner.invoke(app, ["demo"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\n {9}", "", result.output)


def test_each_day_of_the_week_is_planned_and_dispatched(demo_output: str) -> None:
    for day in ("12月1日 星期二", "12月4日 星期五", "12月7日 星期一"):
        assert day in demo_output
    assert demo_output.count("08:30  计划：") == 7
    assert (
        "【禾苗金融】诸葛先生您好，您有3笔账单12月2日（明天）到期，共应还2,124.30元" in demo_output
    )
    assert "12:00  短信 → 189****5678" in demo_output  # Urumqi borrower at 10:00 local


def test_the_scripted_week_shows_retry_fallback_payment_and_thanks(demo_output: str) -> None:
    assert "（模拟）短信网关繁忙，自动重试" in demo_output
    assert "（模拟）设备令牌已失效，标记后改发短信" in demo_output
    assert "B1008 已还款（尾号2284第2期）：取消 1 条待发提醒，安排 1 条还款致谢" in demo_output
    thanks = demo_output.index("已收到您尾号2284")
    assert demo_output.index("B1008 已还款") < thanks
    # After the payment nothing more reminds 欧阳女士 of that installment.
    assert "尾号2284" not in demo_output[thanks + 10 :]


def test_it_ends_with_the_outbox_status(demo_output: str) -> None:
    status = demo_output[demo_output.index("一周后的发件箱") :]
    assert "cancelled" in status
    assert "failed" in status
    assert "sent" in status


def test_nothing_is_shown_in_full_that_should_be_masked(demo_output: str) -> None:
    assert "13812345678" not in demo_output
    assert "欧阳娜娜" not in demo_output
    assert "tok-b1012" not in demo_output


def test_the_outbox_can_be_kept_and_read_afterwards(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert runner.invoke(app, ["demo", "--store", url]).exit_code == 0
    status = runner.invoke(app, ["status", "--store", url, "--format", "json"])
    by_state = json.loads(status.stdout)["by_state"]
    assert by_state["sent"] >= 20
    assert by_state["cancelled"] == 1
