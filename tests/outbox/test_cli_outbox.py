"""``run --once``, ``status``, ``outbox list|show|resolve``, ``purge`` on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from outbox_support import PLATFORM_TOML
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.resources import shipped_sample_feed

_register()
runner = CliRunner()
AT = "2026-12-01T10:00:00+08:00"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "remindkit.toml"
    path.write_text(
        PLATFORM_TOML + '[providers]\nsms = "file"\npush = "file"\n\n'
        f'[providers.file]\npath = "{tmp_path / "sent.jsonl"}"\n',
        encoding="utf-8",
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def as_json(store_url: str) -> tuple[str, ...]:
    return ("--store", store_url, "--format", "json")


def run_sample(store_url: str, config: Path, *extra: str) -> tuple[int, str, str]:
    return invoke("run", "--once", "--feed", str(shipped_sample_feed()), "--at", AT,
                  "--config", str(config), "--store", store_url, *extra)  # fmt: skip


def test_run_once_sends_what_is_due_and_a_rerun_sends_nothing_again(
    store_url: str, config: Path, tmp_path: Path
) -> None:
    code, out, _ = run_sample(store_url, config, "--format", "json")
    assert code == 1  # the sample feed has two bad rows on purpose
    report = json.loads(out)
    assert [row["row"] for row in report["rejected_rows"]] == [14, 15]
    assert report["dispatch"]["counts"]["sent"] == 7
    sent = (tmp_path / "sent.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(sent) == 7
    code, out, _ = run_sample(store_url, config, "--format", "json")
    again = json.loads(out)
    assert again["enqueued"] == {"inserted": 0, "already_known": 9, "suppressed": 0}
    assert again["dispatch"]["counts"] == {}
    assert len((tmp_path / "sent.jsonl").read_text(encoding="utf-8").splitlines()) == 7


def test_status_counts_by_state_channel_and_provider(store_url: str, config: Path) -> None:
    run_sample(store_url, config)
    code, out, _ = invoke("status", "--store", store_url, "--format", "json")
    assert code == 0
    status = json.loads(out)
    assert status["by_state"] == {"planned": 1, "sent": 7, "suppressed": 1}
    assert {"state": "sent", "channel": "push", "provider": "file", "count": 2} in status["counts"]
    assert status["oldest_unknown"] is None
    code, out, _ = invoke("status", "--store", store_url)
    assert "sent 7" in out


def test_outbox_list_and_show_answer_why_a_borrower_got_nothing(
    store_url: str, config: Path
) -> None:
    run_sample(store_url, config)
    code, out, _ = invoke(
        "outbox", "list", "--borrower", "B1018", "--store", store_url, "--format", "json"
    )
    assert code == 0
    (message,) = json.loads(out)["messages"]
    assert (message["state"], message["reason"]) == ("suppressed", "opted_out")
    code, out, _ = invoke(
        "outbox", "list", "--state", "sent", "--store", store_url, "--format", "json"
    )
    key = json.loads(out)["messages"][0]["key"]
    code, out, _ = invoke("outbox", "show", key, "--store", store_url, "--format", "json")
    shown = json.loads(out)
    assert shown["message"]["text"].startswith("【禾苗金融】") or shown["message"]["title"]
    assert [(e["from"], e["to"]) for e in shown["events"]] == [
        ("planned", "sending"),
        ("sending", "sent"),
    ]
    code, out, _ = invoke("outbox", "show", key, "--store", store_url)
    assert code == 0
    assert "sending → sent" in out
    code, _, err = invoke("outbox", "show", "rk1_nope", "--store", store_url)
    assert code == 2
    assert "no message with this key" in err


def test_resolve_only_accepts_unknown_messages(store_url: str, config: Path) -> None:
    run_sample(store_url, config)
    code, out, _ = invoke(
        "outbox", "list", "--state", "sent", "--store", store_url, "--format", "json"
    )
    key = json.loads(out)["messages"][0]["key"]
    code, _, err = invoke("outbox", "resolve", key, "--as", "failed", "--store", store_url)
    assert code == 2
    assert "only unknown messages are resolved" in err
    code, _, err = invoke("outbox", "resolve", key, "--as", "planned", "--store", store_url)
    assert code == 2


def test_purge_keeps_the_audit_period_unless_forced(store_url: str, config: Path) -> None:
    run_sample(store_url, config)
    code, _, err = invoke("purge", "--before", "2030-01-01", "--store", store_url)
    assert code == 2
    assert "audit period" in err
    code, out, _ = invoke("purge", "--before", "2030-01-01", "--force", "--store", store_url)
    assert code == 0
    code, out, _ = invoke("status", "--store", store_url, "--format", "json")
    assert json.loads(out)["by_state"] == {"planned": 1}  # only final messages are purged


def test_run_needs_a_feed(tmp_path: Path) -> None:
    code, _, err = invoke("run", "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2
    assert "no feed" in err
    code, _, err = invoke("run", "--once", "--store", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2
    assert "no feed" in err


def test_a_config_naming_an_unknown_provider_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text('[providers]\nsms = "carrier-pigeon"\n', encoding="utf-8")
    code, _, err = invoke(
        "run", "--once", "--feed", str(shipped_sample_feed()), "--config", str(config)
    )
    assert code == 2
    assert "providers.sms: unknown provider 'carrier-pigeon'" in err
