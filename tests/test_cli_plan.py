"""``remindkit plan`` (SPEC §9): JSON on stdout, a table for people, exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app
from tests.conftest import SAMPLE_NOTE

_register()
runner = CliRunner()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
HEADER = "loan_id,borrower_id,name,gender,phone,push_token,amount_due,due_date,status,timezone\n"
AT = "2026-12-01T08:00+08:00"


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_text(
        HEADER
        + "L1,B1,王芳,female,13800138000,tok1,100.00,2026-12-02,due,\n"
        + "L2,B1,王芳,female,13800138000,tok1,200.00,2026-12-02,due,\n"
        + "L3,B2,李雷,male,13900139000,,300.00,2026-12-02,paid,\n"
        + "L4,B3,买买提·艾力,male,13700137000,,50.00,2026-11-30,due,Asia/Urumqi\n",
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", "--templates", str(TEMPLATES), *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_plan_is_the_spec_document(feed: Path, tmp_path: Path) -> None:
    code, out, err = invoke("--feed", str(feed), "--at", AT, "--format", "json")
    assert (code, err) == (0, SAMPLE_NOTE)
    document = json.loads(out)
    assert document["rejected_rows"] == []
    assert document["warnings"] == []
    assert [
        {k: m[k] for k in ("borrower_id", "loan_ids", "stage", "template_id", "channel")}
        | {"send_at": m["send_at"], "not_after": m["not_after"], "status": m["status"]}
        for m in document["messages"]
    ] == [
        {
            "borrower_id": "B1",
            "loan_ids": ["L1", "L2"],
            "stage": "pre_due",
            "template_id": "pre_due/sms",
            "channel": "sms",
            "send_at": "2026-12-01T10:00:00+08:00",
            "not_after": "2026-12-01T20:00:00+08:00",
            "status": "planned",
        },
        {
            "borrower_id": "B3",
            "loan_ids": ["L4"],
            "stage": "overdue_early",
            "template_id": document["messages"][1]["template_id"],
            "channel": "sms",
            "send_at": "2026-12-01T10:00:00+06:00",
            "not_after": "2026-12-01T20:00:00+06:00",
            "status": "planned",
        },
    ]
    assert document["messages"][1]["template_id"] in ("overdue_early/sms", "overdue_early/sms.b")
    assert set(document["messages"][0]) == {
        "key",
        "borrower_id",
        "loan_ids",
        "stage",
        "template_id",
        "channel",
        "fallback_channels",
        "send_at",
        "not_after",
        "status",
        "reason",
    }
    again = invoke("--feed", str(feed), "--at", AT, "--format", "json")[1]
    assert again == out


def test_days_previews_several_days(feed: Path) -> None:
    code, out, _ = invoke("--feed", str(feed), "--at", AT, "--days", "3", "--format", "json")
    days = [(m["send_at"][:10], m["borrower_id"], m["stage"]) for m in json.loads(out)["messages"]]
    assert code == 0
    assert days == [
        ("2026-12-01", "B1", "pre_due"),
        ("2026-12-01", "B3", "overdue_early"),
        ("2026-12-02", "B1", "due_today"),
        ("2026-12-03", "B1", "overdue_early"),
        ("2026-12-03", "B3", "overdue_early"),
    ]


def test_text_table_for_people(feed: Path) -> None:
    code, out, _ = invoke("--feed", str(feed), "--at", AT)
    assert code == 0
    assert out.splitlines()[0] == "共 2 条消息：计划发送 2 条，不发送 0 条；拒绝 0 行数据。"
    assert "2026-12-01（周二）" in out
    assert "L1、L2" in out
    assert "pre_due/sms" in out


def test_rejected_rows_are_listed_and_exit_1(feed: Path) -> None:
    with feed.open("a", encoding="utf-8") as handle:
        handle.write("L5,B5,赵敏,,12345,,10.00,2026-12-02,due,\n")
    code, out, _ = invoke("--feed", str(feed), "--at", AT, "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["rejected_rows"] == [
        {"row": 5, "field": "phone", "reason": "not a valid mobile number"}
    ]
    assert len(document["messages"]) == 2


def test_warnings_go_to_stderr_and_into_the_document(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps(
            {
                "loan_id": "L1",
                "borrower_id": "B1",
                "name": "王芳",
                "phone": "13800138000",
                "amount_due": "10.00",
                "due_date": "2026-12-02",
                "segment": "gold",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, err = invoke("--feed", str(path), "--at", AT, "--format", "json")
    warning = "unknown segment 'gold': its rows use the default cadence profile"
    assert code == 0
    assert json.loads(out)["warnings"] == [warning]
    assert warning in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--feed", "missing.csv", "--at", AT], "feed file not found"),
        (["--feed", "{feed}", "--at", "2026-12-01T08:00"], "needs a UTC offset"),
        (["--feed", "{feed}", "--at", "tomorrow"], "expected ISO 8601"),
        (["--feed", "{feed}", "--days", "0"], "--days"),
        (["--feed", "{feed}", "--config", "nope.toml"], "config file not found"),
    ],
)
def test_usage_errors_exit_2_with_a_message(feed: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(*(arg.replace("{feed}", str(feed)) for arg in args))
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_unknown_feed_format_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "feed.xlsx"
    path.write_text("", encoding="utf-8")
    code, _, err = invoke("--feed", str(path), "--at", AT)
    assert code == 2
    assert "unknown feed format" in err


def test_bad_config_exits_2_naming_the_key(feed: Path, tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text('[window]\nend = "22:30"\n', encoding="utf-8")
    code, _, err = invoke("--feed", str(feed), "--config", str(config))
    assert code == 2
    assert "window.end" in err


def test_the_2027_estimate_warning_is_printed_once(tmp_path: Path) -> None:
    # A real process: under pytest a log-capture handler hides what Python's last-resort
    # handler would print beside the command's own "warning:" line.
    path = tmp_path / "feed.csv"
    path.write_text(
        HEADER
        + "L1,B1,王芳,female,13800138000,,100.00,2027-09-30,due,\n"
        + "L2,B2,李雷,male,13900139000,,200.00,2027-09-29,due,\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-c", "from remindkit.cli import main; main()", "plan"]
    done = subprocess.run(
        [*command, "--feed", str(path), "--at", "2027-10-01T08:00+08:00", "--days", "3"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert done.stderr.count("holiday dates for 2027 are estimates") == 1
    assert done.stderr.startswith("warning: holiday dates for 2027 are estimates")
