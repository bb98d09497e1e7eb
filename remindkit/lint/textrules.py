"""Rules that read text alone: the template's literal text, or a rendered message.

Each check takes a :class:`ScanText` and :class:`TextOptions` and returns
:class:`TextIssue` values (a rule, a severity, a Chinese message and the span in the
normalised text); the engine turns them into findings with a template id and a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from remindkit.lint.findings import Rule, Severity
from remindkit.lint.lexicon import Lexicon, Match, default_lexicon
from remindkit.lint.scantext import PLACEHOLDER, ScanText
from remindkit.lint.traditional import TraditionalChar, find_traditional


@dataclass(frozen=True, slots=True, kw_only=True)
class TextOptions:
    """What the text is: its channel (``sms`` / ``push``) and the template's purpose."""

    channel: str = "sms"
    notification: bool = True


@dataclass(frozen=True, slots=True)
class TextIssue:
    rule: Rule
    severity: Severity
    message: str
    start: int
    end: int
    key: str  # what was found, normalised: dedupes one problem seen in many renderings


TextCheck = Callable[[ScanText, TextOptions], Iterable[TextIssue]]


# -- forbidden-phrase / marketing-in-notification -------------------------------------------
def check_lexicon(
    text: ScanText, options: TextOptions, lexicon: Lexicon | None = None
) -> list[TextIssue]:
    matches = (lexicon or default_lexicon()).scan(text, notification=options.notification)
    return [_lexicon_issue(text, match) for match in matches]


def _lexicon_issue(text: ScanText, match: Match) -> TextIssue:
    category = match.category
    quoted = text.excerpt(match.start, match.end)
    message = f"「{quoted}」属于{category.label}。{category.advice}（依据：{category.basis}）"
    return TextIssue(category.rule, match.severity, message, match.start, match.end, match.phrase)


# -- pii ------------------------------------------------------------------------------------
# Digits may be grouped with hyphens (138-1234-5678, 6222-0212-…); spaces are already gone.
_PII_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?<![\d*-])\d{6}-?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-?\d{3}[\dx]"
            r"(?![\d*])"
        ),
        "完整身份证号",
    ),
    (
        re.compile(r"(?<![\d*-])\d{4}(?:-?\d{4}){3}(?:-?\d{1,3})?(?![\d*])"),
        "疑似完整银行卡号或账号",
    ),
    (re.compile(r"(?<![\d*-])(?:\+?86-?)?1[3-9]\d-?\d{4}-?\d{4}(?![\d*])"), "完整手机号码"),
)


# A number spelled to slip past the patterns: Chinese numerals (一三八〇〇…), or reversed.
# The mapping keeps one character per character, so match positions stay the text's own.
_NUMERALS = str.maketrans("〇零一壹二贰两三叁四肆五伍六陆七柒八捌九玖", "001122233445566778899")


def check_pii(text: ScanText, options: TextOptions) -> list[TextIssue]:
    spelled = text.text.translate(_NUMERALS)
    taken: list[range] = []
    issues: list[TextIssue] = []
    for view, reversed_ in ((text.text, False), (spelled, False), (spelled[::-1], True)):
        for pattern, what in _PII_PATTERNS:
            for m in pattern.finditer(view):
                start, end = (len(view) - m.end(), len(view) - m.start()) if reversed_ else m.span()
                if any(start in span for span in taken):
                    continue  # an ID number is not also reported as a card number
                taken.append(range(start, end))
                issues.append(_pii_issue(text, what, start, end))
    return issues


def _pii_issue(text: ScanText, what: str, start: int, end: int) -> TextIssue:
    message = (
        f"出现{what}「{text.excerpt(start, end)}」。短信和推送可能被他人看到，"
        "手机号只显示为 138****8000（mask_phone），账号、卡号只写“尾号1234”（loan.tail），"
        "身份证号一律不出现。"
    )
    return TextIssue(Rule.PII, Severity.ERROR, message, start, end, text.text[start:end])


# -- forbidden-symbol -----------------------------------------------------------------------
# Carriers garble or reject these in SMS bodies (Tencent Cloud, Huawei Cloud template specs).
_SYMBOLS = re.compile(r"[¥★☆&☞☛☜✓✔√※✗✘♥❤]|\^_\^|\^o\^")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
_YUAN_ADVICE = "金额请写“元”（yuan 过滤器会自动加上）。"


def _issue(
    rule: Rule, severity: Severity, message: str, m: re.Match[str], key: str = ""
) -> TextIssue:
    return TextIssue(rule, severity, message, m.start(), m.end(), key or m.group())


def check_symbols(text: ScanText, options: TextOptions) -> list[TextIssue]:
    if options.channel != "sms":
        return []
    issues = []
    for m in _SYMBOLS.finditer(text.text):
        advice = _YUAN_ADVICE if m.group() == "¥" else "请删除或改用文字。"
        message = f"短信中不能使用符号「{m.group()}」：运营商会显示为乱码或拒发。{advice}"
        issues.append(_issue(Rule.FORBIDDEN_SYMBOL, Severity.ERROR, message, m))
    for m in _EMOJI.finditer(text.text):
        if _SYMBOLS.fullmatch(m.group()):
            continue  # already an error above
        message = (
            f"表情符号「{m.group()}」在部分手机上显示为乱码，并会让短信按更多条计费，建议删除。"
        )
        issues.append(_issue(Rule.FORBIDDEN_SYMBOL, Severity.WARNING, message, m))
    return issues


# -- signature (brackets written in a body) -------------------------------------------------
_SIGNATURE_BRACKETS = re.compile(r"[【】〖〗]")


def check_signature_brackets(text: ScanText, options: TextOptions) -> list[TextIssue]:
    if options.channel != "sms":
        return []
    return [
        _issue(
            Rule.SIGNATURE,
            Severity.ERROR,
            f"正文中不能出现「{m.group()}」：短信签名【…】由系统根据平台配置自动加在开头，"
            "模板里不要自己写签名或方括号。",
            m,
        )
        for m in _SIGNATURE_BRACKETS.finditer(text.text)
    ]


# -- tone -----------------------------------------------------------------------------------
_EXCLAMATION = re.compile(r"！+")
_URGENCY = re.compile(
    r"立即|立刻|即刻|马上(?:还|处理|联系|缴|支付|回复)|火速|速速|尽速|速与|速来|速回|赶紧|赶快|务必"
    r"|刻不容缓|十万火急|迫在眉睫|限时|最迟今天|今天之内|今日之内|\d+小时内"
)
_CONDITIONAL = re.compile(
    r"(?:如果|如|若|倘若|要是|假如|假若|一旦)[^。！？；]{0,4}?(?:再|仍|还|继续|依然)?"
    r"(?:不|未|没有?|拒绝|拒不|逾期)[^。！？；]{0,20}?(?:就|将|便|则|必将|必然|会被|会让|后果)"
    r"|(?:再不|还不|不)(?:还|还款|还钱|处理|联系|回复|配合|接听)[^。！？；]{0,12}?(?:就|将|便)"
)

# A short quoted name (a button, a menu: “立即还款”) is quoted, not said to the borrower;
# a quoted urgent word alone (“立即”) is emphasis, and still counts.
_UI_LABEL = re.compile(r'“[^”。！？]{3,8}”|「[^」。！？]{3,8}」|"[^"。！？]{3,8}"')


def check_tone(text: ScanText, options: TextOptions) -> list[TextIssue]:
    issues = [
        _issue(
            Rule.TONE,
            Severity.WARNING,
            f"感叹号「{m.group()}」让提醒显得像在催逼，请改用句号。",
            m,
            "！",
        )
        for m in _EXCLAMATION.finditer(text.text)
    ]
    labels = [m.span() for m in _UI_LABEL.finditer(text.text)]
    for m in _URGENCY.finditer(text.text):
        if any(start <= m.start() and m.end() <= end for start, end in labels):
            continue  # 点击“立即还款”: the name of a button, not a demand
        quoted = text.excerpt(m.start(), m.end())
        message = f"「{quoted}」带有催促、施压的语气，请改为“请在方便时尽快处理”等平和说法。"
        issues.append(_issue(Rule.TONE, Severity.WARNING, message, m))
    for m in _CONDITIONAL.finditer(text.text):
        quoted = text.excerpt(m.start(), m.end())
        message = f"「{quoted}」是“如果不…就…”式的条件威胁，请直接说明事实和可以获得的帮助。"
        issues.append(_issue(Rule.TONE, Severity.WARNING, message, m))
    return issues


# -- traditional-chars ----------------------------------------------------------------------
def check_traditional(text: ScanText, options: TextOptions) -> list[TextIssue]:
    by_line: dict[int, list[TraditionalChar]] = {}
    for found in find_traditional(text.text):
        by_line.setdefault(text.line_at(found.index), []).append(found)
    return [_traditional_issue(chars) for chars in by_line.values()]


def _traditional_issue(chars: list[TraditionalChar]) -> TextIssue:
    listed = "、".join(dict.fromkeys(f"{t.char}→{t.simplified}" for t in chars))
    message = f"模板只能使用简体中文，发现繁体字：{listed}。请改为简体（运营商不接受繁体模板）。"
    key = "".join(sorted({t.char for t in chars}))
    return TextIssue(
        Rule.TRADITIONAL_CHARS, Severity.ERROR, message, chars[0].index, chars[-1].index + 1, key
    )


TEXT_CHECKS: tuple[TextCheck, ...] = (
    check_lexicon,
    check_pii,
    check_symbols,
    check_signature_brackets,
    check_tone,
    check_traditional,
)


def run_text_checks(text: ScanText, options: TextOptions) -> list[TextIssue]:
    """Every text rule over ``text``."""
    if not text.text.strip(PLACEHOLDER):
        return []
    return [issue for check in TEXT_CHECKS for issue in check(text, options)]
