"""Text rules on plain text: pii, forbidden-symbol, signature brackets, tone, traditional-chars."""

from __future__ import annotations

import pytest

from remindkit.lint import lint_text
from remindkit.lint.scantext import ScanText
from remindkit.lint.traditional import find_traditional


def rules(text: str, channel: str = "sms") -> list[tuple[str, str, str]]:
    return [(f.rule.value, f.severity.value, f.excerpt) for f in lint_text(text, channel=channel)]


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("请联系13812345678", "请联系138****5678"),
        ("手机+86 138 1234 5678", "客服热线400-100-2026"),
        ("身份证11010119900307851X", "尾号851X"),
        ("卡号6222021234567890123", "卡号尾号0123"),
        ("请回电138-1234-5678", "请回电138****5678"),
        ("卡号6222-0212-3456-7890", "还款日2026-12-05"),
        ("证件110101-19900307-851X", "金额1000-2000元"),
    ],
)
def test_pii(bad: str, good: str) -> None:
    assert [r[:2] for r in rules(bad)] == [("pii", "error")]
    assert rules(good) == []


def test_an_id_number_is_reported_once_not_also_as_a_card() -> None:
    found = lint_text("证件号110101199003078515")
    assert [(f.rule.value, f.excerpt) for f in found] == [("pii", "110101199003078515")]
    assert "身份证" in found[0].message


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("应还¥100", "应还100元"),
        ("还款★", "还款"),
        ("A&B", "A和B"),
        ("※提醒", "提醒"),
        ("^_^", "谢谢"),
    ],
)
def test_forbidden_symbol_in_sms(bad: str, good: str) -> None:
    assert [r[:2] for r in rules(bad)] == [("forbidden-symbol", "error")]
    assert rules(good) == []


def test_full_width_yen_is_a_yen_and_push_may_use_symbols() -> None:
    assert rules("应还￥100") == [("forbidden-symbol", "error", "¥")]
    assert "元" in lint_text("应还￥100")[0].message
    assert rules("A&B", channel="push") == []


def test_emoji_is_a_warning() -> None:
    assert rules("感谢您😊") == [("forbidden-symbol", "warning", "😊")]


def test_signature_brackets_in_a_body() -> None:
    assert rules("【禾苗金融】您好") == [
        ("signature", "error", "【"),
        ("signature", "error", "】"),
    ]
    assert rules("禾苗金融提醒您") == []


@pytest.mark.parametrize(
    ("bad", "good"),
    [
        ("请按时还款！", "请按时还款。"),
        ("请立即还款", "请在方便时还款"),
        ("如果您不还款，我们就将采取措施", "如果您已还款，请忽略本提醒"),
        ("再不处理就将转交", "如已处理请忽略"),
        ("务必今日处理", "今日到期"),
    ],
)
def test_tone(bad: str, good: str) -> None:
    found = rules(bad)
    assert found
    assert {(rule, severity) for rule, severity, _ in found} == {("tone", "warning")}
    assert rules(good) == []


def test_an_urgent_word_in_a_quoted_button_name_is_not_tone() -> None:
    assert rules("点击“立即还款”即可完成") == []
    assert rules("请“立即”还款") == [("tone", "warning", "立即")]  # emphasis, not a name
    assert rules("点击立即还款") == [("tone", "warning", "立即")]


def test_repeated_exclamation_marks_are_one_warning() -> None:
    assert rules("谢谢!!！") == [("tone", "warning", "！")]


@pytest.mark.parametrize(
    ("bad", "good"),
    [("請按時還款", "请按时还款"), ("於明天到期", "于明天到期"), ("甚麼時候", "什么时候")],
)
def test_traditional_characters(bad: str, good: str) -> None:
    assert [r[:2] for r in rules(bad)] == [("traditional-chars", "error")]
    assert rules(good) == []


def test_traditional_message_lists_each_character_with_its_simplified_form() -> None:
    (finding,) = lint_text("您的借款將於明天到期")
    assert "將→将、於→于" in finding.message


@pytest.mark.parametrize("text", ["乾隆年间", "显著", "著作", "瞭望", "慰藉", "哪吒", "甯先生"])
def test_legitimate_simplified_text_is_not_traditional(text: str) -> None:
    assert list(find_traditional(text)) == []


def test_traditional_findings_are_one_per_line() -> None:
    text = ScanText.build([("請還款\n謝謝", 5)])
    from remindkit.lint.textrules import TextOptions, check_traditional

    issues = check_traditional(text, TextOptions())
    assert [(text.line_at(i.start), i.key) for i in issues] == [(5, "請還"), (6, "謝")]
