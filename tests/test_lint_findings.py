"""Finding values, the report's counts and JSON shape, and explained warnings."""

from __future__ import annotations

import dataclasses

import pytest

from remindkit.lint import RULE_IDS, Finding, LintReport, Rule, Severity
from remindkit.lint.findings import explain


def finding(
    rule: Rule, severity: Severity, line: int = 3, template_id: str = "pre_due/sms"
) -> Finding:
    return Finding(template_id=template_id, line=line, rule=rule, severity=severity, message="消息")


def test_rule_ids_are_exactly_spec_section_9() -> None:
    spec = {
        "syntax", "undefined-variable", "unsafe-expression", "forbidden-phrase", "pii",
        "sms-length", "signature", "forbidden-symbol", "missing-element",
        "marketing-in-notification", "tone", "traditional-chars",
        # SPEC §13: pushes on a lock screen, offers the lender really makes.
        "push-length", "lock-screen", "unconfigured-offer",
    }  # fmt: skip
    assert spec == RULE_IDS


def test_a_finding_is_a_frozen_value() -> None:
    item = finding(Rule.PII, Severity.ERROR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.line = 4  # type: ignore[misc]
    assert item == finding(Rule.PII, Severity.ERROR)
    assert item.to_json() == {
        "template_id": "pre_due/sms", "line": 3, "rule": "pii", "severity": "error",
        "message": "消息",
    }  # fmt: skip


def test_report_counts_sorts_and_deduplicates() -> None:
    report = LintReport.of(
        [
            finding(Rule.TONE, Severity.WARNING, line=9),
            finding(Rule.PII, Severity.ERROR, line=2),
            finding(Rule.PII, Severity.ERROR, line=2),
            finding(Rule.SYNTAX, Severity.ERROR, template_id="a/sms"),
        ],
        templates=2,
    )
    assert (report.errors, report.warnings, report.ok, report.templates) == (2, 1, False, 2)
    assert [(f.template_id, f.line) for f in report.findings] == [
        ("a/sms", 3), ("pre_due/sms", 2), ("pre_due/sms", 9),
    ]  # fmt: skip
    assert list(report.to_json()) == ["findings", "errors", "warnings"]


def test_explain_marks_warnings_only_and_needs_a_reason() -> None:
    warning, error = finding(Rule.TONE, Severity.WARNING), finding(Rule.PII, Severity.ERROR)
    marked = explain([warning, error], {"tone": "口号", "pii": "业务需要"})
    assert [f.explained for f in marked] == ["口号", None]
    assert explain([warning], {"tone": "  "}) == [warning]
    report = LintReport.of(marked)
    assert (report.errors, report.warnings, len(report.explained)) == (1, 0, 1)
    assert report.to_json(show_explained=True)["explained"][0]["explained"] == "口号"
