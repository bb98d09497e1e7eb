"""Finding and reading template files: ids from paths, unreadable files, naming problems."""

from __future__ import annotations

from pathlib import Path

from remindkit.lint.files import FileName, discover, read_template
from remindkit.models import Channel


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


META = "{#-\ndescription: 测试\n-#}\n"


def test_a_path_names_locale_stage_channel_and_variant(tmp_path: Path) -> None:
    name = FileName.of(tmp_path / "zh_HK" / "overdue" / "sms.b.j2")
    assert (name.locale, name.stage, name.channel, name.variant) == ("zh_HK", "overdue", "sms", "b")
    assert name.template_id == "overdue/sms.b"
    assert name.problem(3, "x").template_id == "zh_HK:overdue/sms.b"


def test_discover_skips_directories_named_like_templates(tmp_path: Path) -> None:
    sms = write(tmp_path / "zh_CN" / "pre_due" / "sms.j2", META)
    (tmp_path / "zh_CN" / "pre_due" / "push.j2").mkdir()
    assert discover(tmp_path) == [sms]
    assert discover(sms) == [sms]


def test_an_unreadable_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    link = tmp_path / "zh_CN" / "pre_due" / "sms.j2"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "missing.j2")
    template, findings = read_template(link)
    assert template is None
    assert [(f.template_id, f.line, f.rule.value) for f in findings] == [
        ("pre_due/sms", 0, "syntax")
    ]
    assert "无法读取文件" in findings[0].message


def test_a_readable_template_with_its_metadata(tmp_path: Path) -> None:
    template, findings = read_template(write(tmp_path / "zh_CN" / "pre_due" / "push.j2", META))
    assert findings == []
    assert template is not None
    assert (template.template_id, template.channel, template.variant) == (
        "pre_due/push",
        Channel.PUSH,
        "a",
    )
    assert template.meta_end_line == 3


def test_bad_bytes_unknown_channel_and_stage_are_syntax_findings(tmp_path: Path) -> None:
    path = tmp_path / "zh_CN" / "pre_deu" / "mms.j2"
    path.parent.mkdir(parents=True)
    path.write_bytes(META.encode() + b"\xff\n")
    template, findings = read_template(path)
    assert template is not None
    assert [(f.line, f.severity.value) for f in findings] == [
        (4, "error"),
        (1, "error"),
        (1, "warning"),
    ]
    assert "UTF-8" in findings[0].message
    assert "mms" in findings[1].message
    assert "pre_due" in findings[2].message
