"""Checks on what a template produces: rendered for every sample and worst case.

Run-time errors become ``undefined-variable`` / ``unsafe-expression`` / ``syntax``
findings; the text rules run again on the output (a variable may carry a phone number or
a forbidden word); ``sms-length`` takes the worst case of all renderings; and
``missing-element`` asks every rendering for the lender, the amount and date (or a
privacy wording) before the due date, and a way to get help from ``overdue_early`` on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from remindkit.errors import (
    TemplateBudgetError,
    TemplateError,
    TemplateSecurityError,
    TemplateSyntaxError,
    UndefinedVariableError,
)
from remindkit.lint.contexts import Sample
from remindkit.lint.findings import Rule, Severity
from remindkit.lint.offers import unconfigured_offers
from remindkit.lint.push import LongestPush, length_issues, lock_screen_issues
from remindkit.lint.scantext import BOUNDARY, ScanText
from remindkit.lint.textrules import TextIssue, TextOptions, run_text_checks
from remindkit.models import Channel, Platform
from remindkit.render import Rendered, Renderer, TemplateFile
from remindkit.render.renderer import FULL_PHONE_REFUSED

MAX_SMS_CHARS = 500
# CPU time one template may take over all samples and worst cases: a shipped template
# takes ~1 ms; one render may take MAX_CPU_SECONDS, and lint stops at the first budget hit.
MAX_LINT_RENDER_SECONDS = 0.5
HELP_STAGES = frozenset(
    {"overdue_early", "overdue", "overdue_late", "plan_offer", "plan_installment", "credit_notice"}
)
DUE_STAGES = frozenset({"pre_due", "due_today", "plan_installment"})
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?元|[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+元")
_DATE = re.compile(r"\d{1,2}月\d{1,2}日|今天|今日|明天|明日|后天|\d+天后|\d+日后|昨天|前天|\d+天前")
_PRIVACY = re.compile(
    r"(?:打开|登录|进入|在)[^。！？]{0,16}(?:查看|了解)[^。！？]{0,4}(?:金额|详情|账单|明细)"
)
_HELP = re.compile(r"还款帮助|客服|热线|致电|来电|协商|商量")
_OPT_OUT = re.compile(r"拒收|退订")


@dataclass(frozen=True, slots=True)
class RenderIssue:
    rule: Rule
    severity: Severity
    message: str
    line: int | None  # None: the engine maps it (text issues) or uses the first body line
    key: str = ""
    text: ScanText | None = None
    start: int = 0
    sample: str = ""


@dataclass(slots=True)
class _Longest:
    parts: int = 0
    chars: int = 0
    sample: str = ""
    text: str = ""


@dataclass(slots=True)
class RenderRun:
    """Everything one template produced over all contexts."""

    issues: list[RenderIssue] = field(default_factory=list)
    longest: _Longest = field(default_factory=_Longest)
    longest_push: LongestPush = field(default_factory=LongestPush)
    rendered: int = 0


def render_all(
    template: TemplateFile,
    samples: list[Sample],
    renderer_for: Callable[[Platform], Renderer],
) -> RenderRun:
    run = RenderRun()
    seen: set[str] = set()
    failures: set[tuple[Rule, int | None]] = set()
    started = time.thread_time()
    for sample in samples:
        if time.thread_time() - started > MAX_LINT_RENDER_SECONDS:
            run.issues.append(_too_slow(template, sample.name))
            break
        try:
            rendered = renderer_for(sample.platform).render_file(template, sample.context)
        except TemplateError as exc:
            issue = _failure(exc, sample.name)
            if (issue.rule, issue.line) not in failures:
                failures.add((issue.rule, issue.line))
                run.issues.append(issue)
            if isinstance(exc, TemplateBudgetError):
                break  # each sample would spend the budget again: the hook must not stall
            continue
        run.rendered += 1
        _track_length(run.longest, rendered, sample.name)
        if rendered.channel is Channel.PUSH:
            run.longest_push.track(rendered.title or "", rendered.body or "", sample.name)
        shown = _shown(rendered, sample.platform)
        if shown in seen:
            continue  # identical output: the text checks would say the same
        seen.add(shown)
        run.issues += _output_issues(template, rendered, shown, sample)
    return run


def _too_slow(template: TemplateFile, sample: str) -> RenderIssue:
    message = (
        f"渲染所有样例用时超过 {MAX_LINT_RENDER_SECONDS:g} 秒（停在样例 {sample}）："
        "模板计算量过大，请简化循环和过滤器。"
    )
    return RenderIssue(Rule.UNSAFE_EXPRESSION, Severity.ERROR, message, template.meta_end_line + 1)


def _failure(exc: TemplateError, sample: str) -> RenderIssue:
    where = f"（用样例 {sample} 渲染时）"
    if isinstance(exc, UndefinedVariableError):
        message = f"渲染时变量 {exc.variable} 不存在{where}。请检查拼写，或确认样例数据里有这一项。"
        return RenderIssue(Rule.UNDEFINED_VARIABLE, Severity.ERROR, message, exc.line)
    if isinstance(exc, TemplateSecurityError) and exc.message == FULL_PHONE_REFUSED:
        message = (
            f"渲染结果含有借款人的完整手机号{where}（无论怎样改写、倒序或换成汉字数字）："
            "请只写 {{ borrower.phone|mask_phone }}。"
        )
        return RenderIssue(Rule.PII, Severity.ERROR, message, exc.line)
    if isinstance(exc, TemplateSecurityError):
        message = f"渲染被模板沙箱拦截{where}：{exc.message}"
        return RenderIssue(Rule.UNSAFE_EXPRESSION, Severity.ERROR, message, exc.line)
    kind = "语法错误" if isinstance(exc, TemplateSyntaxError) else "渲染失败"
    return RenderIssue(Rule.SYNTAX, Severity.ERROR, f"{kind}{where}：{exc.message}", exc.line)


def _shown(rendered: Rendered, platform: Platform) -> str:
    """What the borrower reads, minus the signature the renderer added (checked apart)."""
    if rendered.channel is Channel.SMS:
        return (rendered.text or "").removeprefix(f"【{platform.signature}】")
    return f"{rendered.title or ''}{BOUNDARY}{rendered.body or ''}"


def _track_length(longest: _Longest, rendered: Rendered, sample: str) -> None:
    if rendered.length is None:
        return
    parts = max(rendered.length.segments, rendered.length.carrier_parts)
    if (parts, rendered.length.chars) > (longest.parts, longest.chars):
        longest.parts, longest.chars = parts, rendered.length.chars
        longest.sample, longest.text = sample, rendered.text or ""


def _output_issues(
    template: TemplateFile, rendered: Rendered, shown: str, sample: Sample
) -> list[RenderIssue]:
    text = ScanText.of(shown)
    options = TextOptions(
        channel=template.channel.value, notification=template.meta.purpose == "notification"
    )
    issues = [_from_text(issue, text, sample.name) for issue in run_text_checks(text, options)]
    issues += _missing(template, shown, sample)
    where = f"（用样例 {sample.name} 渲染的结果）"
    if rendered.channel is Channel.PUSH:
        issues += [
            RenderIssue(found.rule, found.severity, found.message + where, None, found.key)
            for found in lock_screen_issues(shown)
        ]
    products = [item.product or "" for item in sample.context.installments]
    issues += [
        RenderIssue(
            Rule.UNCONFIGURED_OFFER, Severity.ERROR, found.message + where, None, found.term
        )
        for found in unconfigured_offers(shown, sample.platform, products)
    ]
    return issues


def _from_text(issue: TextIssue, text: ScanText, sample: str) -> RenderIssue:
    message = f"{issue.message}（出现在用样例 {sample} 渲染的结果中）"
    return RenderIssue(
        issue.rule, issue.severity, message, None, issue.key, text, issue.start, sample
    )


def _missing(template: TemplateFile, shown: str, sample: Sample) -> Iterator[RenderIssue]:
    def issue(key: str, what: str) -> RenderIssue:
        message = f"{what}（用样例 {sample.name} 渲染的结果缺少这一项）"
        return RenderIssue(Rule.MISSING_ELEMENT, Severity.ERROR, message, None, key)

    if template.stage in DUE_STAGES:
        if not _DATE.search(shown):
            yield issue(
                "date",
                "到期前和到期当天的提醒必须写明还款日期"
                "（如 {{ loan.due_date|cn_date }} 或 {{ loan.due_date|relative_day }}）。",
            )
        if not (_AMOUNT.search(shown) or _PRIVACY.search(shown)):
            yield issue(
                "amount",
                "到期前和到期当天的提醒必须写明应还金额（{{ loan.amount_due|yuan }}），"
                "推送等可能在锁屏显示的消息可改写为“可在App查看金额”。",
            )
    hotline = sample.platform.hotline
    if template.stage in HELP_STAGES and not (
        (hotline and hotline in shown) or _HELP.search(shown)  # "" is in every text
    ):
        yield issue(
            "help",
            "从逾期初期（overdue_early）起，每条消息都要给出求助渠道："
            "客服热线 {{ platform.hotline }} 或 App 里的“还款帮助”。",
        )
    if template.meta.purpose == "marketing" and not _OPT_OUT.search(shown):
        yield issue("opt-out", "营销类消息必须带退订方式，如结尾写“拒收请回复R”。")


def push_length_issues(run: RenderRun) -> list[RenderIssue]:
    """``push-length``: the longest title and body over every rendering (lock screens)."""
    return [
        RenderIssue(found.rule, found.severity, found.message, None, found.key)
        for found in length_issues(run.longest_push)
    ]


def length_issue(template: TemplateFile, run: RenderRun) -> RenderIssue | None:
    """``sms-length``: warning above one part, error above ``max_parts`` or 500 characters."""
    longest, allowed = run.longest, template.meta.max_parts
    if template.channel is not Channel.SMS or longest.parts <= 1:
        return None
    summary = (
        f"最长情形为 {longest.chars} 字、{longest.parts} 条短信"
        f"（样例：{longest.sample}）：{longest.text}"
    )
    if longest.chars > MAX_SMS_CHARS:
        message = f"短信超过 {MAX_SMS_CHARS} 字的上限，运营商会拒发。{summary}"
        return RenderIssue(Rule.SMS_LENGTH, Severity.ERROR, message, None, "length")
    if longest.parts > allowed:
        message = (
            f"短信超过元数据允许的 {allowed} 条（max_parts）。请精简文字，"
            f"或提高 max_parts 并在 parts_reason 写明理由。{summary}"
        )
        return RenderIssue(Rule.SMS_LENGTH, Severity.ERROR, message, None, "length")
    message = f"短信超过 1 条（70 字），会按多条计费。{summary}"
    return RenderIssue(Rule.SMS_LENGTH, Severity.WARNING, message, None, "length")
