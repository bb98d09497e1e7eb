"""``signature``: the SMS signature every message is sent with (collection-rules §4), and
the lender's names, which may not impersonate an authority (collection-rules §2).

Carriers accept Chinese or English letters and digits only: no symbols or spaces, not all
digits, 2–12 characters, simplified characters. The signature comes from the config (or
a sample's ``platform``), so its findings name ``platform.signature`` with line 0.
"""

from __future__ import annotations

import re

from remindkit.authorities import authority_words
from remindkit.lint.findings import Finding, Rule, Severity
from remindkit.lint.traditional import find_traditional
from remindkit.models import Platform

SIGNATURE_ID = "platform.signature"
_ALLOWED = re.compile(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff]+")
MIN_CHARS, MAX_CHARS = 2, 12


def signature_problems(signature: str) -> list[str]:
    """What is wrong with ``signature`` as a carrier signature, in Chinese; empty if fine."""
    problems: list[str] = []
    if "【" in signature or "】" in signature:
        problems.append("签名里不要写【】，发送时会自动加上")
    elif not _ALLOWED.fullmatch(signature):
        problems.append("只能包含中文、英文字母或数字，不能有符号或空格")
    if not MIN_CHARS <= len(signature) <= MAX_CHARS:
        problems.append(f"长度须为 {MIN_CHARS}–{MAX_CHARS} 个字，现在是 {len(signature)} 个")
    if signature.isdigit():
        problems.append("不能全是数字")
    traditional = "、".join(f"{t.char}→{t.simplified}" for t in find_traditional(signature))
    if traditional:
        problems.append(f"须使用简体字（{traditional}）")
    return problems


def check_signature(platform: Platform) -> list[Finding]:
    """The signature's carrier problems, and the lender's names that impersonate an
    authority (``platform.name``, ``platform.app_name``: they are shown in messages too)."""
    return [*_signature_findings(platform), *_name_findings(platform)]


def _name_findings(platform: Platform) -> list[Finding]:
    findings = []
    names = (
        ("platform.signature", platform.signature, Rule.SIGNATURE, "短信签名"),
        ("platform.name", platform.name, Rule.FORBIDDEN_PHRASE, "机构名称"),
        ("platform.app_name", platform.app_name, Rule.FORBIDDEN_PHRASE, "App 名称"),
    )
    for key, value, rule, what in names:
        words = authority_words(value)
        if words:
            message = (
                f"{what}「{value}」冒充公检法或政府机关（{'、'.join(words)}）："
                "消息只能以放贷机构自己的名义发出（中国银行业协会《金融机构个人消费类贷款"
                "催收工作指引（试行）》（2026）禁止冒充公安、法院等国家机关）。"
            )
            findings.append(
                Finding(
                    template_id=key,
                    line=0,
                    rule=rule,
                    severity=Severity.ERROR,
                    message=message,
                    excerpt=value,
                )
            )
    return findings


def _signature_findings(platform: Platform) -> list[Finding]:
    problems = signature_problems(platform.signature)
    if not problems:
        return []
    message = f"短信签名「{platform.signature}」不符合运营商要求：{'；'.join(problems)}。"
    return [
        Finding(
            template_id=SIGNATURE_ID,
            line=0,
            rule=Rule.SIGNATURE,
            severity=Severity.ERROR,
            message=message,
            excerpt=platform.signature,
        )
    ]
