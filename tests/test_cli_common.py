"""What every command shares: errors on stderr as one plain line, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from remindkit.cli import _register, app

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str) -> tuple[int, str]:
    _register()
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stderr


def test_error_text_with_brackets_is_printed_as_written(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text('[platform]\nname = "x"\n', encoding="utf-8")
    feed = ROOT / "config" / "feeds" / "sample.csv"
    code, stderr = invoke("plan", "--feed", str(feed), "--config", str(config))
    assert code == 2
    assert stderr.strip() == "error: platform.signature: required"


def test_bad_cadence_key_is_named_with_its_index(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(
        "[cadence.default]\n"
        'steps = [{offset_days = -1, channels = ["sms"], send_time = "07:30"}]\n',
        encoding="utf-8",
    )
    code, stderr = invoke("demo", "--config", str(config))
    assert code == 2
    assert stderr.startswith(
        "error: cadence.default.steps[0].send_time: 07:30 is inside the 22:00–08:00"
    )
    assert "Traceback" not in stderr
