"""``remindkit report`` on a real store: text in Chinese, JSON, options, usage errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.models import Channel, Stage
from remindkit.outbox.store import Outbox
from remindkit.report.sample import Experiment, Step, fill

_register()
runner = CliRunner()
START = datetime.fromisoformat("2026-11-02T10:00:00+08:00")
AT = "2026-12-10T10:00:00+08:00"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def filled(store_url: str) -> str:
    outbox = Outbox.open(store_url)
    fill(
        outbox,
        Experiment(
            name="cli",
            start=START,
            borrowers=600,
            steps=(
                Step(stage=Stage.PRE_DUE, channel=Channel.PUSH, day=0),
                Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=4),
                Step(stage=Stage.OVERDUE_EARLY, channel=Channel.SMS, day=6),
            ),
            tested=(Stage.OVERDUE_EARLY, Channel.SMS),
            repay_within={"a": 0.2, "b": 0.5},
        ),
        seed=3,
    )
    outbox.close()
    return store_url


def test_json_holds_every_cell_comparison_and_total(filled: str) -> None:
    code, out, _ = invoke("report", "--store", filled, "--at", AT, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["windows_days"] == [3, 7]
    assert report["delivery_receipts"] is False
    assert {(c["stage"], c["channel"], c["variant"]) for c in report["cells"]} == {
        ("pre_due", "push", "a"),
        ("overdue_early", "sms", "a"),
        ("overdue_early", "sms", "b"),
    }
    (comparison,) = report["comparisons"]
    assert comparison["verdict"] == "better"
    assert comparison["conclusion"].startswith("b 优于 a：7天内还款率高")
    assert report["overall"]["messages"] == sum(c["messages"] for c in report["cells"])


def test_text_is_chinese_with_ids_and_states_as_they_are(filled: str) -> None:
    code, out, _ = invoke("report", "--store", filled, "--at", AT, "--within", "7d")
    assert code == 0
    assert out.startswith("还款效果报告：截至 2026-12-10T10:00+08:00")
    assert "overdue_early · sms" in out
    assert "结论：b 优于 a" in out
    assert "送达：发件箱尚无送达回执" in out


def test_since_and_until_narrow_the_report(filled: str) -> None:
    later = (START + timedelta(days=4)).date().isoformat()
    code, out, _ = invoke("report", "--store", filled, "--at", AT, "--since", later,
                          "--format", "json")  # fmt: skip
    assert code == 0
    assert {c["stage"] for c in json.loads(out)["cells"]} == {"overdue_early"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--within", "3d,week"), "--within: 'week' is not a number of days such as 7d"),
        (("--within", "0d"), "within: 0d: windows are 1d to 90d"),
        (("--since", "2026-13-01"), "--since: expected a date YYYY-MM-DD, got '2026-13-01'"),
        (("--since", "2026-12-02", "--until", "2026-12-01"), "since: 2026-12-02 is after until"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    store_url: str, args: tuple[str, ...], message: str
) -> None:
    code, _, err = invoke("report", "--store", store_url, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_an_empty_outbox_says_so(store_url: str) -> None:
    code, out, _ = invoke("report", "--store", store_url)
    assert code == 0
    assert "还没有已发送的提醒" in out
