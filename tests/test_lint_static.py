"""Checks on the parsed template before anything runs: syntax, sandbox, vocabulary, PII."""

from __future__ import annotations

import pytest

from remindkit.lint.static import (
    StaticIssue,
    check_filters,
    check_names,
    check_pii_usage,
    check_unsafe,
    parse,
)
from remindkit.render.sandbox import build_environment

ENV = build_environment()


def tree_of(source: str):  # type: ignore[no-untyped-def]
    tree = parse(ENV, source)
    assert not isinstance(tree, StaticIssue), tree
    return tree


def test_a_syntax_error_names_its_line() -> None:
    issue = parse(ENV, "您好\n{{ borrower.honorific }\n")
    assert isinstance(issue, StaticIssue)
    assert (issue.rule.value, issue.line) == ("syntax", 2)


@pytest.mark.parametrize(
    "source",
    [
        "{{ borrower.__class__ }}",
        "{{ loan['__class__'] }}",
        "{{ loan._private }}",
        "{{ self }}",
        "{{ cycler }}",
        "{{ joiner() }}",
        "{{ namespace() }}",
        "{{ lipsum() }}",
        "{{ config }}",
        "{{ request }}",
        "{{ range(1000000) }}",
        "{{ '谢' * 3 }}",
        "{{ 2 ** 100 }}",
        "{{ loan.tail.upper() }}",
        "{{ loan.tail|format('x') }}",
        "{% for c in loan.tail * 9 %}{% endfor %}",
        "{% include 'other.j2' %}",
        "{% import 'macros.j2' as m %}",
        "{% extends 'base.j2' %}",
    ],
)
def test_unsafe_expressions_are_caught_statically(source: str) -> None:
    issues = check_unsafe(ENV, tree_of(source))
    assert issues
    assert {(i.rule.value, i.severity.value, i.line) for i in issues} == {
        ("unsafe-expression", "error", 1)
    }


@pytest.mark.parametrize(
    "source",
    [
        "{{ borrower.honorific }}",
        "{{ loan.amount_due|yuan }}",
        "{% for item in loans %}{{ item.tail }}{{ loop.index }}{% endfor %}",
        "{{ range(3)|length }}",
        "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(1) }}",
        "{{ loan.product or '借款' }}",
    ],
)
def test_ordinary_templates_are_safe(source: str) -> None:
    assert check_unsafe(ENV, tree_of(source)) == []


@pytest.mark.parametrize(
    ("source", "path", "hint"),
    [
        ("{{ borower.honorific }}", "borower", "borrower"),
        ("{{ borrower.nmae }}", "borrower.nmae", "borrower.name"),
        ("{{ loan.amount }}", "loan.amount", "loan.amount_due"),
        ("{{ platform.hotlin }}", "platform.hotlin", "platform.hotline"),
        ("{% for x in loans %}{{ x.tial }}{% endfor %}", "x.tial", "x.tail"),
        ("{{ loan.due_date.yaer }}", "loan.due_date.yaer", "loan.due_date.year"),
    ],
)
def test_unknown_names_with_a_suggestion(source: str, path: str, hint: str) -> None:
    (issue,) = check_names(tree_of(source))
    assert (issue.rule.value, issue.severity.value) == ("undefined-variable", "error")
    assert f"变量 {path} 不存在" in issue.message
    assert f"是不是想写 {hint}？" in issue.message


@pytest.mark.parametrize(
    "source",
    [
        "{{ borrower.surname }}{{ borrower.gender }}{{ loan.days_past_due }}",
        "{{ loan.due_date.year }}{{ now.hour }}{{ stage }}{{ total_due|yuan }}",
        "{{ loan.extra.branch }}",
        "{% set item = loan.product %}{{ item.whatever }}",
        "{{ platform.repay_url }}{{ platform.signature }}",
    ],
)
def test_the_whole_vocabulary_is_known(source: str) -> None:
    assert check_names(tree_of(source)) == []


def test_a_bad_path_is_reported_once() -> None:
    assert len(check_names(tree_of("{{ borrower.nmae.x }}"))) == 1


@pytest.mark.parametrize(
    ("source", "severity"),
    [
        ("{{ borrower.phone }}", "error"),
        ("{{ borrower.phone|upper }}", "error"),
        ("{{ borrower.name }}", "warning"),
        ("{{ loan.id }}", "warning"),
        ("{% for item in loans %}{{ item.id }}{% endfor %}", "warning"),
    ],
)
def test_pii_usage(source: str, severity: str) -> None:
    (issue,) = check_pii_usage(tree_of(source))
    assert (issue.rule.value, issue.severity.value) == ("pii", severity)


def test_masked_and_partial_values_are_not_pii() -> None:
    source = "{{ borrower.phone|mask_phone }}{{ borrower.honorific }}{{ loan.tail }}"
    assert check_pii_usage(tree_of(source)) == []


def test_sandbox_messages_are_in_chinese() -> None:
    (issue,) = check_unsafe(ENV, tree_of("{{ loan.tail.upper() }}"))
    assert issue.message.startswith("模板中不能调用方法 upper()，请改用过滤器")
    (issue,) = check_unsafe(ENV, tree_of("{{ loan.tail|format(1) }}"))
    assert issue.message.startswith("过滤器 format 不允许在提醒模板中使用")


def test_a_misspelt_filter_is_an_undefined_name_with_a_suggestion() -> None:
    tree = tree_of("{{ loan.amount_due|yuann }}")
    assert check_unsafe(ENV, tree) == []
    (issue,) = check_filters(ENV, tree)
    assert (issue.rule.value, issue.severity.value) == ("undefined-variable", "error")
    assert "是不是想写 yuan？" in issue.message
    assert check_filters(ENV, tree_of("{{ loan.due_date|cn_date }}")) == []
