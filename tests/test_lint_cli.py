"""``remindkit lint`` (SPEC §9): JSON shape, readable text, exit codes 0/1/2, the shipped set."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remindkit.cli import _register, app
from tests.conftest import META_LINES, SAMPLE_NOTE, TemplatesFactory

_register()
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "config" / "samples"
CONFIG = ROOT / "config" / "remindkit.toml"
GOOD = (
    "{{ borrower.honorific }}您好，您尾号{{ loan.tail }}的借款"
    "{{ loan.due_date|relative_day }}到期，应还{{ loan.amount_due|yuan }}。"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["lint", "--config", str(CONFIG), "--samples", str(SAMPLES), *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_shipped_templates_have_no_error_and_no_unexplained_warning() -> None:
    code, out, err = invoke(str(ROOT / "templates"), "--format", "json")
    assert (code, err) == (0, SAMPLE_NOTE)
    assert json.loads(out) == {"findings": [], "errors": 0, "warnings": 0}


def test_json_is_the_spec_shape_and_errors_exit_1(tmp_templates: TemplatesFactory) -> None:
    root = tmp_templates({"pre_due/sms.j2": GOOD + "\n请加微信还款！"})
    code, out, _ = invoke(str(root), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert set(document) == {"findings", "errors", "warnings"}
    assert (document["errors"], document["warnings"]) == (1, 1)
    assert [
        (f["template_id"], f["line"], f["rule"], f["severity"]) for f in document["findings"]
    ] == [
        ("pre_due/sms", META_LINES + 2, "forbidden-phrase", "error"),
        ("pre_due/sms", META_LINES + 2, "tone", "warning"),
    ]
    assert all(set(f) == {"template_id", "line", "rule", "severity", "message"}
               for f in document["findings"])  # fmt: skip


def test_warnings_alone_exit_0(tmp_templates: TemplatesFactory) -> None:
    code, out, _ = invoke(
        str(tmp_templates({"pre_due/sms.j2": GOOD + "谢谢！"})), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["warnings"] == 1


def test_explained_warnings_are_listed_on_request(tmp_templates: TemplatesFactory) -> None:
    meta = '{#-\ndescription: x\nlint: {tone: "活动口号保留感叹号"}\n-#}\n'
    root = tmp_templates({"pre_due/sms.j2": meta + GOOD + "谢谢！"})
    code, out, _ = invoke(str(root), "--format", "json", "--show-explained")
    document = json.loads(out)
    assert (code, document["warnings"]) == (0, 0)
    assert [e["explained"] for e in document["explained"]] == ["活动口号保留感叹号"]


def test_text_output_is_readable(tmp_templates: TemplatesFactory) -> None:
    root = tmp_templates({"pre_due/sms.j2": GOOD + "请加微信还款。"})
    code, out, _ = invoke(str(root))
    assert code == 1
    assert "pre_due/sms" in out
    assert "forbidden-phrase" in out
    assert "错误" in out
    assert "检查了 1 个模板：1 个错误，0 个警告" in out


def test_several_files_as_pre_commit_passes_them(tmp_templates: TemplatesFactory) -> None:
    root = tmp_templates({"pre_due/sms.j2": GOOD, "due_today/sms.j2": GOOD.replace("借款", "借款")})
    files = sorted(str(p) for p in root.rglob("*.j2"))
    code, out, _ = invoke(*files, "--format", "json")
    assert (code, json.loads(out)["errors"]) == (0, 0)


@pytest.mark.parametrize(
    "args",
    [("does/not/exist",), ("--samples", "no-such-dir"), ("--format", "xml"), (str(CONFIG),)],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    code, _, _ = invoke(*args)
    assert code == 2


def test_a_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text('[platform]\nsignature = "x"\n', encoding="utf-8")
    result = runner.invoke(app, ["lint", "--config", str(config), str(ROOT / "templates")])
    assert result.exit_code == 2
    assert "platform" in result.stderr


def test_a_directory_without_templates_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = invoke(str(tmp_path))
    assert (code, out) == (2, "")
    assert "no .j2 template files" in err


LENDER = """[platform]
name = "青禾消费金融"
signature = "青禾消费金融"
hotline = "95188"
app_name = "青禾App"
repay_url = "https://qinghe.example.cn/pay"
neutral_address = "尊敬的客户"
"""


def test_with_the_lenders_config_lengths_use_its_signature_and_offers(tmp_path: Path) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(LENDER, encoding="utf-8")  # offers nothing: templates promise nothing
    result = runner.invoke(
        app, ["lint", str(ROOT / "templates"), "--config", str(config), "--samples", str(SAMPLES)]
    )
    assert result.exit_code == 0, result.stdout
    assert result.stderr == ""  # the lender's own platform: no sample-lender note
    assert "含签名【青禾消费金融】" in result.stdout
    assert re.search(r"pre_due/sms\s+\d+ 字\s+1/1 条\s+余 \d+ 字", result.stdout)


def test_a_promise_the_lender_does_not_make_is_an_error(
    tmp_path: Path, tmp_templates: TemplatesFactory
) -> None:
    config = tmp_path / "remindkit.toml"
    config.write_text(LENDER + 'offers = ["延期"]\n', encoding="utf-8")
    promise = "如有困难，可致电{{ platform.hotline }}商量分期。"
    root = tmp_templates({"overdue/sms.j2": GOOD + promise})
    result = runner.invoke(app, ["lint", str(root), "--config", str(config), "--format", "json"])
    findings = json.loads(result.stdout)["findings"]
    assert result.exit_code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("unconfigured-offer", META_LINES + 1)]
    assert "分期" in findings[0]["message"]
    assert "延期" in findings[0]["message"]
