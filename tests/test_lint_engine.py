"""Every rule on real template files: one that trips it and a close one that does not."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from remindkit.lint import Finding, WorstCase, lint, lint_report
from remindkit.models import Platform
from tests.conftest import META_LINES, TemplatesFactory

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "config" / "samples"
BODY = META_LINES + 1  # first line after the standard metadata block

PRE_DUE = (
    "{{ borrower.honorific }}您好，您尾号{{ loan.tail }}的借款"
    "{{ loan.due_date|relative_day }}到期，应还{{ loan.amount_due|yuan }}。"
)
OVERDUE = (
    "{{ borrower.honorific }}您好，您的借款尚未还款，如有困难请致电{{ platform.hotline }}商量。"
)
PUSH = (
    "{% block title %}还款提醒{% endblock %}\n{% block body %}"
    "{{ borrower.honorific }}您好，您的账单{{ loan.due_date|relative_day }}到期，"
    "可在{{ platform.app_name }}查看金额。{% endblock %}"
)

OVERDUE_PUSH = (
    "{% block title %}账单提醒{% endblock %}\n{% block body %}"
    "{{ borrower.honorific }}您好，您的账单尚未结清，可致电{{ platform.hotline }}。{% endblock %}"
)


def meta(**fields: object) -> str:
    values: dict[str, object] = {
        "description": "测试",
        "tone": "gentle",
        "weight": 1,
        "audience": "borrower",
        "purpose": "notification",
        "max_parts": 1,
        "parts_reason": "",
        "lint": {},
    }
    values.update(fields)
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    return "{#-\n" + "\n".join(lines) + "\n-#}\n"


def run(root: Path, platform: Platform, samples: Path = SAMPLES) -> list[Finding]:
    return lint(root, platform=platform, samples_dir=samples)


def of_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule.value == rule]


# (rule, severity, file, bad body, good body) — the two bodies differ only where the rule is.
PAIRS = [
    ("syntax", "error", "pre_due/sms.j2", PRE_DUE.replace("}}您好", "}您好"), PRE_DUE),
    ("syntax", "error", "pre_due/sms.j2", PRE_DUE + "{% if loan.tail %}", PRE_DUE),
    ("undefined-variable", "error", "pre_due/sms.j2",
     PRE_DUE.replace("borrower.honorific", "borrower.honorfic"), PRE_DUE),
    ("undefined-variable", "error", "pre_due/sms.j2", PRE_DUE + "{{ lone.tail }}", PRE_DUE),
    ("undefined-variable", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ loan.extra.branch }}", PRE_DUE + "{{ loan.extra|length }}"),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ borrower.__class__ }}", PRE_DUE + "{{ borrower.surname }}"),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ range(100000)|length }}", PRE_DUE + "{{ range(3)|length }}"),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + '{{ "谢" * 5 }}', PRE_DUE + '{{ "谢" }}'),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ loan.tail.upper() }}", PRE_DUE + "{{ loan.tail|upper }}"),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + '{% include "x.j2" %}', PRE_DUE),
    ("unsafe-expression", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ lipsum() }}", PRE_DUE),
    ("forbidden-phrase", "error", "pre_due/sms.j2",
     PRE_DUE + "请转账到个人账户。", PRE_DUE + "请勿向个人账户转账。"),
    ("forbidden-phrase", "warning", "overdue/sms.j2",
     OVERDUE + "我们将依法起诉。", OVERDUE + "我们愿意一起想办法。"),
    ("forbidden-phrase", "error", "overdue/sms.j2",
     OVERDUE + "我们会联系您的家人。", OVERDUE + "我们不会联系您的家人。"),
    ("forbidden-phrase", "error", "overdue/sms.j2",
     OVERDUE + "逾期后-果-自-负。", OVERDUE + "逾期会产生罚息。"),
    ("forbidden-phrase", "warning", "overdue/sms.j2",
     OVERDUE + "这是最后通牒。", OVERDUE + "这是本期的提醒。"),
    ("pii", "error", "pre_due/sms.j2",
     PRE_DUE + "客服13900001111。", PRE_DUE + "客服400-100-2026。"),
    ("pii", "error", "pre_due/sms.j2",
     PRE_DUE + "{{ borrower.phone }}", PRE_DUE + "{{ borrower.phone|mask_phone }}"),
    ("pii", "warning", "pre_due/sms.j2",
     PRE_DUE.replace("borrower.honorific", "borrower.name"), PRE_DUE),
    ("sms-length", "error", "pre_due/sms.j2",
     PRE_DUE + "可在禾苗金融App还款，如已还款请忽略本提醒，感谢您一直以来的信任与支持。", PRE_DUE),
    ("signature", "error", "pre_due/sms.j2", "【禾苗金融】" + PRE_DUE, "禾苗金融提醒：" + PRE_DUE),
    ("forbidden-symbol", "error", "pre_due/sms.j2",
     PRE_DUE.replace("{{ loan.amount_due|yuan }}", "¥{{ loan.amount_due }}"), PRE_DUE),
    ("forbidden-symbol", "warning", "pre_due/sms.j2",
     PRE_DUE + "祝您生活愉快😊", PRE_DUE + "祝您生活愉快"),
    ("missing-element", "error", "pre_due/sms.j2",
     PRE_DUE.replace("，应还{{ loan.amount_due|yuan }}", ""), PRE_DUE),
    ("missing-element", "error", "pre_due/sms.j2",
     PRE_DUE.replace("{{ loan.due_date|relative_day }}", "即将"), PRE_DUE),
    ("missing-element", "error", "pre_due/push.j2",
     PUSH.replace("可在{{ platform.app_name }}查看金额。", ""), PUSH),
    ("missing-element", "error", "overdue/sms.j2",
     OVERDUE.replace("如有困难请致电{{ platform.hotline }}商量。", "请按时还款。"), OVERDUE),
    ("marketing-in-notification", "error", "pre_due/sms.j2",
     PRE_DUE + "还款后可提额。", PRE_DUE + "还款后可查看账单。"),
    ("tone", "warning", "pre_due/sms.j2", PRE_DUE.replace("。", "！"), PRE_DUE),
    ("tone", "warning", "pre_due/sms.j2",
     PRE_DUE + "请立即还款。", PRE_DUE + "可点击“立即还款”完成。"),
    ("tone", "warning", "overdue/sms.j2",
     OVERDUE + "如果您不还款，将产生逾期记录。", OVERDUE + "如已还款请忽略。"),
    ("traditional-chars", "error", "pre_due/sms.j2",
     PRE_DUE.replace("到期", "到期，請按時還款"), PRE_DUE.replace("到期", "到期，请按时还款")),
    ("push-length", "error", "pre_due/push.j2",
     PUSH.replace("查看金额。", "查看金额。如已还款，请忽略本提醒；" + "如对账单有任何疑问，也欢迎"
                  "随时联系我们的客服。"), PUSH),
    ("lock-screen", "error", "pre_due/push.j2",
     PUSH.replace("可在", "应还{{ loan.amount_due|yuan }}，可在"), PUSH),
    ("lock-screen", "error", "overdue/push.j2",
     OVERDUE_PUSH.replace("账单尚未结清", "借款已逾期{{ loan.days_past_due }}天"), OVERDUE_PUSH),
    ("unconfigured-offer", "error", "overdue/sms.j2",
     OVERDUE + "也可申请减免利息。", OVERDUE + "也可申请延期。"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "severity", "file", "bad", "good"),
    PAIRS,
    ids=[f"{p[0]}-{i}" for i, p in enumerate(PAIRS)],
)
def test_each_rule_trips_on_the_bad_template_only(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    rule: str,
    severity: str,
    file: str,
    bad: str,
    good: str,
) -> None:
    bad_findings = run(tmp_templates({file: bad}), platform)
    tripped = of_rule(bad_findings, rule)
    assert tripped, [f"{f.rule.value}: {f.message}" for f in bad_findings]
    assert severity in {f.severity.value for f in tripped}
    good_root = tmp_templates({file: good})
    assert [f"{f.rule.value}: {f.message}" for f in run(good_root, platform)] == []


def test_every_rule_id_has_a_pair() -> None:
    from remindkit.lint import RULE_IDS

    assert {pair[0] for pair in PAIRS} == RULE_IDS


def test_a_bad_signature_in_the_platform(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    root = tmp_templates({"pre_due/sms.j2": PRE_DUE})
    bad = run(root, replace(platform, signature="禾苗 金融!"))
    assert [(f.template_id, f.line, f.rule.value) for f in bad] == [
        ("platform.signature", 0, "signature")
    ]
    assert "不能有符号或空格" in bad[0].message
    assert run(root, replace(platform, signature="禾苗金融")) == []


def test_sms_length_error_above_max_parts_and_500_chars(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    long_text = "感谢您的信任与支持，" * 12
    over_parts = run(tmp_templates({"pre_due/sms.j2": PRE_DUE + long_text}), platform)
    assert [(f.severity.value, f.line) for f in of_rule(over_parts, "sms-length")] == [
        ("error", BODY)
    ]
    huge = meta(max_parts=7, parts_reason="测试") + PRE_DUE + long_text * 5
    over_500 = run(tmp_templates({"pre_due/sms.j2": huge}), platform)
    (finding,) = of_rule(over_500, "sms-length")
    assert finding.severity.value == "error"
    assert "500" in finding.message


def test_parts_reason_explains_a_multi_part_sms_it_allows(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = meta(max_parts=2, parts_reason="需写明异议渠道") + PRE_DUE + "感谢您的信任与支持。" * 3
    report = lint_report(tmp_templates({"pre_due/sms.j2": body}), platform=platform,
                         samples_dir=SAMPLES)  # fmt: skip
    assert report.findings == ()
    assert [(f.rule.value, f.explained) for f in report.explained] == [
        ("sms-length", "需写明异议渠道")
    ]


def test_a_warning_explained_in_metadata_is_not_counted(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = PRE_DUE.replace("。", "！")
    unexplained = lint_report(tmp_templates({"pre_due/sms.j2": body}), platform=platform,
                              samples_dir=SAMPLES)  # fmt: skip
    assert (unexplained.errors, unexplained.warnings) == (0, 1)
    explained_meta = meta(lint={"tone": "品牌口号要求保留感叹号"})
    report = lint_report(tmp_templates({"pre_due/sms.j2": explained_meta + body}),
                         platform=platform, samples_dir=SAMPLES)  # fmt: skip
    assert (report.errors, report.warnings) == (0, 0)
    assert report.to_json() == {"findings": [], "errors": 0, "warnings": 0}
    (explained,) = report.to_json(show_explained=True)["explained"]
    assert explained["explained"] == "品牌口号要求保留感叹号"


def test_an_error_cannot_be_explained_away(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = meta(lint={"forbidden-phrase": "业务需要"}) + PRE_DUE + "请加微信还款。"
    report = lint_report(tmp_templates({"pre_due/sms.j2": body}), platform=platform,
                         samples_dir=SAMPLES)  # fmt: skip
    assert report.errors == 1
    assert report.explained == ()


def test_an_unknown_rule_in_metadata_is_reported(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    findings = run(tmp_templates({"pre_due/sms.j2": meta(lint={"tones": "x"}) + PRE_DUE}), platform)
    assert [(f.rule.value, f.severity.value, f.line) for f in findings] == [
        ("syntax", "warning", 9)
    ]
    assert "tone" in findings[0].message


def test_line_numbers_point_at_the_offending_line(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = PRE_DUE + "\n如有困难，\n请加微信还款。"
    (finding,) = run(tmp_templates({"pre_due/sms.j2": body}), platform)
    assert (finding.rule.value, finding.line) == ("forbidden-phrase", BODY + 2)
    assert "「加微信」" in finding.message
    assert "私人渠道" in finding.message


def test_undefined_variable_suggests_the_closest_name(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = PRE_DUE + "\n{{ borrower.nmae }}"
    (finding,) = run(tmp_templates({"pre_due/sms.j2": body}), platform)
    assert (finding.rule.value, finding.line) == ("undefined-variable", BODY + 1)
    assert "borrower.nmae" in finding.message
    assert "borrower.name" in finding.message


def test_a_forbidden_phrase_in_a_sample_value_points_at_its_expression(
    tmp_templates: TemplatesFactory, platform: Platform, tmp_path: Path
) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    context = json.loads((SAMPLES / "pre_due.json").read_text(encoding="utf-8"))
    context["loan"]["product"] = "借新还旧贷"
    (samples / "odd.json").write_text(json.dumps(context, ensure_ascii=False), encoding="utf-8")
    body = PRE_DUE + "\n产品：\n{{ loan.product }}"
    findings = run(tmp_templates({"pre_due/sms.j2": body}), platform, samples)
    (finding,) = of_rule(findings, "forbidden-phrase")
    assert finding.line == BODY + 2
    assert "odd.json" in finding.message


def test_a_bad_sample_is_reported_and_the_rest_goes_on(
    tmp_templates: TemplatesFactory, platform: Platform, tmp_path: Path
) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "broken.json").write_text("{", encoding="utf-8")
    body = PRE_DUE + "请加微信还款。"
    findings = run(tmp_templates({"pre_due/sms.j2": body}), platform, samples)
    assert {(f.template_id, f.rule.value) for f in findings} == {
        ("broken.json", "syntax"),
        ("pre_due/sms", "forbidden-phrase"),
    }


def test_metadata_errors_are_syntax_findings_and_text_rules_still_run(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    root = tmp_templates({"pre_due/sms.j2": "{#-\ntone: [\n-#}\n请加微信。"}, meta=False)
    findings = run(root, platform)
    assert {f.rule.value for f in findings} >= {"syntax", "forbidden-phrase"}


def test_an_unknown_stage_directory_is_a_warning_with_a_suggestion(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    findings = run(tmp_templates({"pre_deu/sms.j2": PRE_DUE}), platform)
    assert [(f.rule.value, f.severity.value) for f in findings] == [("syntax", "warning")]
    assert "pre_due" in findings[0].message


def test_paths_may_be_a_root_a_locale_dir_or_files(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    root = tmp_templates({"pre_due/sms.j2": PRE_DUE, "pre_due/push.j2": "{% block title %}"})
    for target in (root, root / "zh_CN", [root / "zh_CN" / "pre_due" / "push.j2"]):
        report = lint_report(target, platform=platform, samples_dir=SAMPLES)
        assert [f.template_id for f in report.findings] == ["pre_due/push"]
    tmp_templates({"pre_due/sms.j2": "請還款"}, locale="zh_HK")
    ids = {f.template_id for f in lint(root, platform=platform, samples_dir=SAMPLES)}
    assert "zh_HK:pre_due/sms" in ids


def test_worst_case_lengths_are_declared(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    body = PRE_DUE + "产品{{ loan.product }}。"
    root = tmp_templates({"pre_due/sms.j2": body})
    short = lint(root, platform=platform, samples_dir=SAMPLES, worst_case=WorstCase(product="贷"))
    long = lint(root, platform=platform, samples_dir=SAMPLES,
                worst_case=WorstCase(product="禾苗超长名称的分期产品" * 3))  # fmt: skip
    assert of_rule(short, "sms-length") == []
    (finding,) = of_rule(long, "sms-length")
    assert finding.severity.value == "error"
    assert "禾苗超长名称的分期产品" * 3 in finding.message


def test_a_marketing_template_needs_an_opt_out_but_may_promote(
    tmp_templates: TemplatesFactory, platform: Platform
) -> None:
    promo = meta(purpose="marketing") + "{{ borrower.honorific }}您好，老用户专享优惠。"
    findings = run(tmp_templates({"payment_received/sms.j2": promo}), platform)
    assert [(f.rule.value, f.line) for f in findings] == [("missing-element", 11)]
    assert "拒收请回复R" in findings[0].message
    with_opt_out = tmp_templates({"payment_received/sms.j2": promo + "拒收请回复R"})
    assert run(with_opt_out, platform) == []
    as_notification = tmp_templates(
        {"payment_received/sms.j2": promo.replace("marketing", "notification")}
    )
    assert {f.rule.value for f in run(as_notification, platform)} == {"marketing-in-notification"}


def test_an_empty_hotline_does_not_count_as_a_help_route(
    tmp_templates: TemplatesFactory, platform: Platform, tmp_path: Path
) -> None:
    no_samples = tmp_path / "no-samples"
    no_samples.mkdir()
    root = tmp_templates({"overdue/sms.j2": "{{ borrower.honorific }}您好，请按时还款。"})
    findings = run(root, replace(platform, hotline=""), no_samples)
    assert [(f.rule.value, f.severity.value) for f in findings] == [("missing-element", "error")]
