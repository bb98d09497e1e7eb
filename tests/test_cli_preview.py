"""``remindkit preview`` (SPEC §9): text and JSON, exit codes 0/1/2, errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import remindkit
from remindkit.cli import _register, app
from tests.conftest import SAMPLE_NOTE

TemplatesFactory = Callable[..., Path]
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "config" / "samples"
PRE_DUE = SAMPLES / "pre_due.json"  # 王芳, due 2026-12-02, now 2026-12-01T10:00+08:00
PRE_DUE_TEXT = (
    "【禾苗金融】王女士您好，尾号0118的禾苗贷12月2日（明天）到期，应还1,234.50元，"
    "请在禾苗金融App还款。"
)

_register()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No config/ or templates/ in the working directory: built-in defaults, shipped set.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REMINDKIT_CONFIG", raising=False)


def preview(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["preview", *map(str, args)])


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert isinstance(data, dict)
    return data


def assert_clean_failure(result: Result, code: int) -> str:
    assert result.exit_code == code
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


# --- success -----------------------------------------------------------------------------


def test_json_output(tmp_path: Path) -> None:
    data = as_json(preview("pre_due/sms", "--context", PRE_DUE, "--format", "json"))
    assert data == {
        "template_id": "pre_due/sms",
        "channel": "sms",
        "locale": "zh_CN",
        "variant": "a",
        "text": PRE_DUE_TEXT,
        "chars": 58,
        "encoding": "UCS-2",
        "segments": 1,
    }


def test_text_output_shows_the_message_and_its_length() -> None:
    result = preview("pre_due/sms", "--context", PRE_DUE)
    assert result.exit_code == 0
    assert result.stderr == SAMPLE_NOTE
    assert "pre_due/sms · zh_CN · 版本 a" in result.stdout
    assert "58 字 · UCS-2 · 1 条短信" in result.stdout
    # The panel wraps the text; it reads the same once the frame is taken away.
    shown = "".join(line.strip().strip("│").strip() for line in result.stdout.splitlines()[2:-2])
    assert shown == PRE_DUE_TEXT


def test_push_json_has_title_and_body() -> None:
    data = as_json(preview("due_today/push", "--context", PRE_DUE, "--format", "json"))
    assert set(data) == {"template_id", "channel", "locale", "variant", "title", "body"}
    assert (data["channel"], data["title"]) == ("push", "还款日提醒")
    assert "1,234.50" not in data["body"]  # no amounts on a lock screen


def test_at_overrides_the_contexts_now() -> None:
    base = ["pre_due/sms", "--context", PRE_DUE, "--format", "json"]
    assert "（明天）到期" in as_json(preview(*base))["text"]
    assert "（今天）到期" in as_json(preview(*base, "--at", "2026-12-02T09:00+08:00"))["text"]
    # 2026-12-01T20:00Z is already 12-02 04:00 in Shanghai.
    assert "（今天）到期" in as_json(preview(*base, "--at", "2026-12-01T20:00:00Z"))["text"]


def test_locale_zh_hk_falls_back_to_zh_cn() -> None:
    args = ["pre_due/sms", "--context", PRE_DUE, "--locale", "zh_HK", "--format", "json"]
    data = as_json(preview(*args))
    assert (data["locale"], data["text"]) == ("zh_CN", PRE_DUE_TEXT)


def test_templates_dir_and_variant_ids(tmp_templates: TemplatesFactory) -> None:
    root = tmp_templates(
        {
            "overdue_early/sms.j2": "A：{{ borrower.honorific }}",
            "overdue_early/sms.b.j2": "B：{{ loan.tail }}",
        }
    )
    base = ["--context", PRE_DUE, "--templates", root, "--format", "json"]
    assert as_json(preview("overdue_early/sms.b", *base))["text"] == "【禾苗金融】B：0118"
    picked = as_json(preview("overdue_early/sms", *base))
    assert picked["variant"] in {"a", "b"}
    assert (
        picked["text"]
        == {"a": "【禾苗金融】A：王女士", "b": "【禾苗金融】B：0118"}[picked["variant"]]
    )


def test_platform_override_in_the_context_signs_the_message(tmp_path: Path) -> None:
    data = json.loads(PRE_DUE.read_text(encoding="utf-8"))
    data["platform"] = {"signature": "青禾金融"}
    context = tmp_path / "ctx.json"
    context.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    text = as_json(preview("pre_due/sms", "--context", context, "--format", "json"))["text"]
    assert text.startswith("【青禾金融】王女士您好")


def test_consolidated_sample() -> None:
    data = as_json(
        preview("pre_due/sms", "--context", SAMPLES / "consolidated.json", "--format", "json")
    )
    assert "3笔账单" in data["text"]
    assert "2,124.30元" in data["text"]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"remindkit {remindkit.__version__}\n")


# --- usage errors: exit 2, one line on stderr, no traceback -----------------------------


def test_unknown_template_suggests_close_ids() -> None:
    stderr = assert_clean_failure(preview("pre_due/sm", "--context", PRE_DUE), 2)
    assert stderr.startswith("error: pre_due/sm: unknown template id (did you mean: pre_due/sms")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["borrower"].update(phone="12345"),
         "borrower.phone: not a valid mobile number"),
        (lambda d: d["loan"].pop("amount_due"), "loan.amount_due: required"),
        (lambda d: d.pop("borrower"), "borrower: required"),
        (lambda d: d.update(now="2026-12-01T10:00"),
         "now: needs a UTC offset such as +08:00, got '2026-12-01T10:00'"),
        (lambda d: d.update(platform={"signature": "【x】"}), "platform.signature: write the"),
    ],
)  # fmt: skip
def test_a_bad_context_exits_2_naming_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = json.loads(PRE_DUE.read_text(encoding="utf-8"))
    change(data)
    context = tmp_path / "bad.json"
    context.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    stderr = assert_clean_failure(
        preview("pre_due/sms", "--context", context, "--format", "json"), 2
    )
    assert stderr.startswith(f"error: {message}")


def test_a_float_amount_with_three_decimals_exits_2(tmp_path: Path) -> None:
    context = tmp_path / "float.json"
    context.write_text(
        PRE_DUE.read_text(encoding="utf-8").replace('"1234.50"', "1234.567"), encoding="utf-8"
    )
    stderr = assert_clean_failure(preview("pre_due/sms", "--context", context), 2)
    assert "loan.amount_due: at most 2 decimal places (fen)" in stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "missing.json: file not found"),
        ("broken.json", '{"borrower": ', "invalid JSON at line 1"),
        ("dir", "", "Is a directory"),
    ],
)
def test_unreadable_context_files_exit_2(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if name == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    stderr = assert_clean_failure(preview("pre_due/sms", "--context", path), 2)
    assert stderr.startswith("error: --context: ")
    assert message in stderr


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2026-12-01T10:00", "--at: needs a UTC offset such as +08:00"),
        ("next tuesday", "--at: expected ISO 8601 such as 2026-12-01T10:00+08:00"),
    ],
)
def test_a_bad_at_exits_2(at: str, message: str) -> None:
    stderr = assert_clean_failure(preview("pre_due/sms", "--context", PRE_DUE, "--at", at), 2)
    assert stderr.startswith(f"error: {message}")


def test_a_missing_templates_dir_exits_2(tmp_path: Path) -> None:
    result = preview("pre_due/sms", "--context", PRE_DUE, "--templates", tmp_path / "nope")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr


# --- template findings: exit 1 with template:line ----------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("您好\n{{ borrower.nmae }}", "error: pre_due/sms:12: undefined variable 'borrower.nmae'"),
        ("您好\n{{ loan.__class__ }}",
         "error: pre_due/sms:12: access to private attribute '__class__' is not allowed"),
        ("您好\n{% if %}", "error: pre_due/sms:12: "),
    ],
)  # fmt: skip
def test_a_broken_template_exits_1_with_template_and_line(
    tmp_templates: TemplatesFactory, body: str, message: str
) -> None:
    root = tmp_templates({"pre_due/sms.j2": body})
    result = preview("pre_due/sms", "--context", PRE_DUE, "--templates", root, "--format", "json")
    stderr = assert_clean_failure(result, 1)
    assert stderr.startswith(message)


def test_more_parts_than_the_metadata_allows_exits_1_after_printing(
    tmp_templates: TemplatesFactory,
) -> None:
    root = tmp_templates({"pre_due/sms.j2": "您好" * 40})
    result = preview("pre_due/sms", "--context", PRE_DUE, "--templates", root, "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["segments"] == 2
    assert result.stderr.startswith(
        "error: pre_due/sms: 2 SMS parts, more than the 1 its metadata allows (max_parts)"
    )


# --- end to end through the installed entry point ----------------------------------------


def test_end_to_end_in_a_subprocess(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from remindkit.cli import main; main()"]
    ok = subprocess.run(
        [*command, "preview", "pre_due/sms", "--context", str(PRE_DUE), "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert (ok.returncode, ok.stderr) == (0, SAMPLE_NOTE)
    assert json.loads(ok.stdout)["text"] == PRE_DUE_TEXT

    bad = subprocess.run(
        [*command, "preview", "pre_due/sms", "--context", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "file not found" in bad.stderr
    assert "Traceback" not in bad.stderr
