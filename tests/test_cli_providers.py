"""``remindkit providers check``: settings and credential variables, checked without sending."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from remindkit.cli import _register, app

TWILIO = '[providers]\nsms = "twilio"\n\n[providers.twilio]\nfrom_number = "+14155550100"\n'
ACCOUNT = "AC" + "0123456789abcdef" * 2


def check(config: Path, env: dict[str, str], *extra: str) -> tuple[int, str, str]:
    _register()
    result = CliRunner().invoke(
        app, ["providers", "check", "--config", str(config), *extra], env=env
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_missing_variable_is_named_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(TWILIO, encoding="utf-8")
    code, out, _ = check(
        config, {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": ""}, "--format", "json"
    )
    assert code == 2
    (twilio, console) = json.loads(out)["providers"]
    assert twilio == {
        "name": "twilio",
        "channels": ["sms"],
        "ready": False,
        "problems": [
            "providers.twilio: environment variable TWILIO_AUTH_TOKEN is not set "
            "(or set TWILIO_API_KEY and TWILIO_API_SECRET)"
        ],
    }
    assert console["ready"] is True


def test_ready_providers_exit_0_and_no_secret_is_printed(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(TWILIO, encoding="utf-8")
    code, out, err = check(
        config, {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "tok-s3cr3t-9"}
    )
    assert code == 0, err
    assert "twilio" in out
    assert "tok-s3cr3t-9" not in out + err


def test_the_shipped_gateway_example_names_its_variables(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "gateways" / "chuanglan.toml"
    code, _, err = check(example, {"CHUANGLAN_ACCOUNT": "N1"})
    assert code == 2
    assert "providers.http: environment variable CHUANGLAN_PASSWORD is not set" in err
    code, _, err = check(example, {"CHUANGLAN_ACCOUNT": "N1", "CHUANGLAN_PASSWORD": "p"})
    assert code == 0, err
