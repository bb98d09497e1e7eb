"""Configurations that impersonate an authority, or name a profile no segment can pick, are
refused at load naming the key; lint flags a platform that impersonates one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from remindkit.authorities import authority_words
from remindkit.cli import _register, app
from remindkit.config import load_settings
from remindkit.errors import ConfigError
from remindkit.lint import lint_report
from remindkit.testing import demo_platform

_register()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
PLATFORM = {
    "name": "禾苗金融",
    "signature": "禾苗金融",
    "hotline": "400-100-2026",
    "app_name": "禾苗金融App",
    "repay_url": "https://hm.example.cn/r",
}


def write_config(tmp_path: Path, platform: dict[str, str], extra: str = "") -> Path:
    lines = "\n".join(f'{key} = "{value}"' for key, value in platform.items())
    path = tmp_path / "remindkit.toml"
    path.write_text(f"[platform]\n{lines}\n{extra}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("key", "value", "word"),
    [
        ("signature", "公安局", "公安局"),
        ("signature", "法院", "法院"),
        ("signature", "人民银行", "人民银行"),
        ("signature", "某某律所", "律所"),
        ("name", "法院执行局", "法院"),
        ("name", "市公安 局催收中心", "公安局"),  # spaces are no way round
        ("name", "ＸＸ派出所", "派出所"),  # nor full-width letters
        ("name", "金融监管总局驻场", "金融监管"),
        ("app_name", "公检法协查App", "公检法"),
        ("app_name", "110催收", "110"),
    ],
)
def test_a_name_impersonating_an_authority_is_refused_at_load(
    tmp_path: Path, key: str, value: str, word: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, {**PLATFORM, key: value}))
    assert caught.value.key == f"platform.{key}"
    assert f"names an authority ({word}" in caught.value.reason
    assert "impersonating police, courts" in caught.value.reason


@pytest.mark.parametrize(
    "name",
    ["禾苗金融", "招联消费金融", "微众银行", "平安普惠", "马上消费金融", "京东金条", "禾苗金融App"],
)
def test_lenders_own_names_pass(name: str) -> None:
    assert authority_words(name) == []


def test_lint_with_an_impersonating_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, {**PLATFORM, "signature": "公安局"})
    result = CliRunner().invoke(app, ["lint", "--config", str(config), str(TEMPLATES)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: platform.signature: ")
    assert "公安局" in result.stderr


def test_lint_flags_a_platform_given_in_code() -> None:
    platform = demo_platform(name="法院执行局", signature="公安局", app_name="公安App")
    findings = {
        f.template_id: (f.rule.value, f.severity.value)
        for f in lint_report(TEMPLATES, platform=platform).findings
        if f.template_id.startswith("platform.")
    }
    assert findings == {
        "platform.signature": ("signature", "error"),
        "platform.name": ("forbidden-phrase", "error"),
        "platform.app_name": ("forbidden-phrase", "error"),
    }


@pytest.mark.parametrize(
    ("section", "key", "reason"),
    [
        ('[cadence.""]', 'cadence.""', "a cadence profile needs a name"),
        ('[cadence." "]', 'cadence." "', "a cadence profile needs a name"),
        ('[cadence." vip"]', 'cadence." vip"', "spaces at its ends"),
        ('[cadence."vip\u200b"]', 'cadence."vip\u200b"', "invisible characters"),
    ],
)
def test_a_cadence_profile_no_segment_can_pick_is_refused(
    tmp_path: Path, section: str, key: str, reason: str
) -> None:
    steps = 'steps = [{offset_days = 1, channels = ["sms"]}]'
    path = write_config(tmp_path, PLATFORM, f"{section}\n{steps}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert (caught.value.key, reason in caught.value.reason) == (key, True)


def test_a_named_profile_still_loads(tmp_path: Path) -> None:
    steps = 'steps = [{offset_days = 1, channels = ["sms"]}]'
    settings = load_settings(write_config(tmp_path, PLATFORM, f"[cadence.vip]\n{steps}\n"))
    assert set(settings.cadence) == {"default", "vip"}
