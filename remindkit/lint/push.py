"""``push-length`` and ``lock-screen``: a push is read on a lock screen (SPEC §13).

A lock screen shows a push's title and the first lines of its body to anyone near the
phone, and cuts what does not fit. So a push body stays short enough to show whole — the
help route at its end must not be cut — and neutral: no amount, no days overdue, no word
of hardship (「账单尚未结清」, not 「已逾期12天」 or 「我们理解您遇到了困难」).

The limits are a product choice (collection-rules confidence C): iOS and the common
Android skins show a title line and up to four lines of body on a lock screen; on a
narrow phone a line holds about 16 Chinese characters, so 64 characters show whole. Both
rules are errors: a cut message or an exposed debt cannot be explained away in metadata.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from remindkit.lint.findings import Rule, Severity

MAX_TITLE_CHARS = 15
MAX_BODY_CHARS = 64
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?\s*元|[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+元")
_OVERDUE = re.compile(r"逾期")
_HARDSHIP = re.compile(r"困难|难处|压力|窘迫|拮据|手头紧")


@dataclass(frozen=True, slots=True)
class PushIssue:
    rule: Rule
    severity: Severity
    key: str
    message: str


@dataclass(slots=True)
class LongestPush:
    """The longest title and body over every rendering, with the sample that made them."""

    title: str = ""
    title_sample: str = ""
    body: str = ""
    body_sample: str = ""

    def track(self, title: str, body: str, sample: str) -> None:
        if len(title) > len(self.title):
            self.title, self.title_sample = title, sample
        if len(body) > len(self.body):
            self.body, self.body_sample = body, sample


def length_issues(longest: LongestPush) -> Iterator[PushIssue]:
    if len(longest.title) > MAX_TITLE_CHARS:
        yield PushIssue(
            Rule.PUSH_LENGTH,
            Severity.ERROR,
            "title",
            f"推送标题最长 {len(longest.title)} 字，超过 {MAX_TITLE_CHARS} 字，锁屏上会被截断"
            f"（样例：{longest.title_sample}）：{longest.title}",
        )
    if len(longest.body) > MAX_BODY_CHARS:
        yield PushIssue(
            Rule.PUSH_LENGTH,
            Severity.ERROR,
            "body",
            f"推送正文最长 {len(longest.body)} 字，超过 {MAX_BODY_CHARS} 字，锁屏上显示不全，"
            f"结尾的求助方式会被截掉（样例：{longest.body_sample}）：{longest.body}",
        )


def lock_screen_issues(shown: str) -> Iterator[PushIssue]:
    """What a push must not show on a lock screen, found in its title and body."""
    checks = (
        (_AMOUNT, "金额", "可改写为“可在App查看金额”"),
        (_OVERDUE, "逾期", "可改写为“账单尚未结清”"),
        (_HARDSHIP, "困难等个人处境", "可改写为“需要帮助可点‘还款帮助’”"),
    )
    for pattern, what, advice in checks:
        found = pattern.search(shown)
        if found:
            yield PushIssue(
                Rule.LOCK_SCREEN,
                Severity.ERROR,
                found.group(0),
                f"推送会显示在锁屏上，旁人也能看到，不要写{what}（「{found.group(0)}」）；{advice}。",
            )
