"""The forbidden-language lexicon: data file coverage, matcher, negation and allowed contexts."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from remindkit.errors import ConfigError
from remindkit.lint.findings import Rule, Severity
from remindkit.lint.lexicon import default_lexicon, parse_lexicon
from remindkit.lint.scantext import ScanText

FAMILIES = {
    # collection-rules.md §3: category → (severity, rule)
    "threat": ("error", "forbidden-phrase"),
    "insult": ("error", "forbidden-phrase"),
    "exposure": ("error", "forbidden-phrase"),
    "fake_legal": ("error", "forbidden-phrase"),
    "impersonation": ("error", "forbidden-phrase"),
    "pressure": ("warning", "forbidden-phrase"),
    "new_borrowing": ("error", "forbidden-phrase"),
    "private_channel": ("error", "forbidden-phrase"),
    "extra_fees": ("error", "forbidden-phrase"),
    "legal_review": ("warning", "forbidden-phrase"),
    "marketing": ("error", "marketing-in-notification"),
}


def hits(text: str, *, notification: bool = True) -> list[tuple[str, str]]:
    found = default_lexicon().scan(ScanText.of(text), notification=notification)
    return [(match.phrase, match.category.name) for match in found]


def categories(text: str) -> set[str]:
    return {category for _, category in hits(text)}


def test_the_lexicon_ships_inside_the_package() -> None:
    raw = resources.files("remindkit.lint").joinpath("lexicon_zh_CN.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    assert data["locale"] == "zh_CN"


def test_every_family_of_the_collection_rules_is_covered_broadly() -> None:
    lexicon = default_lexicon()
    assert set(lexicon.categories) == set(FAMILIES)
    for name, (severity, rule) in FAMILIES.items():
        category = lexicon.categories[name]
        assert (category.severity.value, category.rule.value) == (severity, rule)
        assert category.basis
        assert category.advice
        assert category.label
        terms = sum(len(e.terms) for e in lexicon.entries if e.category is category)
        assert terms >= 20, f"{name} has only {terms} terms"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("再不处理后果自负", "threat"),
        ("我们明天上门找你", "threat"),
        ("你这个老赖", "insult"),
        ("将联系你通讯录里的所有人", "exposure"),
        ("已通知你的父母", "exposure"),
        ("您的欠款已立案", "fake_legal"),
        ("将被列入征信黑名单", "fake_legal"),
        ("我是派出所民警", "impersonation"),
        ("这是最后通牒", "pressure"),
        ("建议借新还旧", "new_borrowing"),
        ("请加微信还款", "private_channel"),
        ("需支付催收费200元", "extra_fees"),
        ("我们将依法起诉", "legal_review"),
        ("还款后可提额", "marketing"),
    ],
)
def test_each_family_is_found(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "我们不会要求您向个人账户转账",
        "请勿向个人账户转账",
        "切勿加陌生人微信转账",
        "谨防有人冒充公安要求转账",
        "我们不会联系您的亲友",
        "我们不会收取任何催收费用",
        "请勿以贷还贷",
        "如有人要求您向个人账户转账，均为诈骗",
    ],
)
def test_negated_and_anti_fraud_sentences_are_allowed(text: str) -> None:
    assert hits(text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("请转账到个人账户", "private_channel"),
        ("我们要求您向个人账户转账", "private_channel"),
        ("别以为我们不会通知你的家人", "exposure"),  # a breaker cancels the cue
        ("不还就通知你的家人", "exposure"),
        ("别让我们亲自登门", "threat"),
        ("我们不会放过你，将通知你的家人", "exposure"),  # the cue is in another clause
    ],
)
def test_negation_does_not_excuse_a_real_request_or_threat(text: str, category: str) -> None:
    assert category in categories(text)


def test_threats_and_insults_cannot_be_negated() -> None:
    assert "insult" in categories("你不要当老赖")
    assert "threat" in categories("不要逼我们采取非常手段")


@pytest.mark.parametrize(
    ("allowed", "flagged", "category"),
    [
        ("款项将从您的个人账户扣除", "款项请打到个人账户", "private_channel"),
        (
            "按合同约定，逾期记录可能依法报送中国人民银行征信系统",
            "我们已通知人民银行",
            "impersonation",
        ),
        ("谨防骗子冒充客服", "你就是个骗子", "insult"),
        ("如遇诈骗请及时报警", "我们已经报警", "fake_legal"),
        ("关注我们的微信公众号查看账单", "请用微信联系我", "private_channel"),
        ("可在App中更新紧急联系人", "将逐一通知你的联系人", "exposure"),
        ("您也可以向当地金融监管部门反映", "这里是金融监管部门", "impersonation"),
        ("您的微粒贷借款明天到期", "先用微粒贷借一笔还上", "new_borrowing"),
        ("您的借呗本期账单明天到期", "用借呗先还上这期", "new_borrowing"),
    ],
)
def test_allowed_contexts_on_both_sides(allowed: str, flagged: str, category: str) -> None:
    assert hits(allowed) == []
    assert category in categories(flagged)


def test_matching_ignores_spacing_width_and_case() -> None:
    assert categories("加 微 信") == {"private_channel"}
    assert categories("加ＶＸ详谈") == {"private_channel"}
    assert categories("老\n赖") == {"insult"}


@pytest.mark.parametrize("text", ["后-果-自-负", "后*果*自*负", "后.果.自.负", "后·果\u200b自—负"])
def test_fillers_and_invisible_characters_between_hanzi_are_ignored(text: str) -> None:
    assert hits(text) == [("后果自负", "threat")]


def test_fillers_next_to_digits_and_letters_stay() -> None:
    assert ScanText.of("138****5678，400-123-4567，A-B").text == "138****5678，400-123-4567，a-b"
    assert ScanText.of("后-果-自-负").excerpt(0, 4) == "后-果-自-负"


def test_an_excused_long_phrase_also_excuses_the_words_inside_it() -> None:
    # 律师 (legal review) lies inside 律师事务所 (impersonation), which the negation excuses.
    assert hits("本公司从未委托任何律师事务所进行催收") == []
    assert hits("这里是某某律师事务所") == [("律师事务所", "impersonation")]


def test_overlapping_hits_of_one_family_become_one_and_longer_wins() -> None:
    assert hits("加微信联系") == [("加微信联系", "private_channel")]
    assert hits("已起诉") == [("已起诉", "fake_legal")]  # not also legal_review's 起诉


def test_marketing_applies_to_notifications_only() -> None:
    assert hits("领取红包", notification=True) != []
    assert hits("领取红包", notification=False) == []


def test_severity_override_per_entry() -> None:
    found = default_lexicon().scan(ScanText.of("需支付手续费"))
    assert [(m.phrase, m.severity) for m in found] == [("手续费", Severity.WARNING)]


def test_kind_reminders_are_clean() -> None:
    text = "王先生您好，您尾号1234的借款明天到期，应还1,280.00元。如有困难，可以和我们商量分期。"
    assert hits(text) == []


def test_a_broken_lexicon_names_the_entry() -> None:
    data = {
        "categories": {
            "x": {"label": "x", "severity": "error", "basis": "b", "advice": "a"},
        },
        "entry": [{"category": "x", "terms": ["甲"]}, {"category": "y", "terms": ["乙"]}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_lexicon(data)
    assert caught.value.key == "lexicon.entry[1]"
    data["entry"] = [{"category": "x", "patterns": ["("]}]
    with pytest.raises(ConfigError, match=r"lexicon.entry\[0\]"):
        parse_lexicon(data)


def test_a_custom_lexicon_uses_its_own_rule_and_negation() -> None:
    lexicon = parse_lexicon(
        {
            "negation": {"cues": ["不会"], "breakers": ["以为"]},
            "categories": {
                "c": {
                    "label": "测试",
                    "rule": "tone",
                    "severity": "warning",
                    "basis": "b",
                    "advice": "a",
                    "negatable": True,
                }
            },
            "entry": [{"category": "c", "terms": ["催"]}],
        }
    )
    assert [m.category.rule for m in lexicon.scan(ScanText.of("我们催您"))] == [Rule.TONE]
    assert lexicon.scan(ScanText.of("我们不会催您")) == []


def test_touching_hits_of_one_family_become_one() -> None:
    assert hits("请转账到个人账户") == [("请转账到个人账户", "private_channel")]
