"""What the linter reports: rule ids, severities and the frozen ``Finding`` value.

The JSON shape is SPEC §9's: ``{"findings": [{"template_id", "line", "rule", "severity",
"message"}], "errors": N, "warnings": N}``. A warning whose rule the template explains in
its metadata (``lint: {rule-id: "why"}``) is *explained*: it is kept apart from the counted
findings so the exit code and the counts speak only of what still needs a decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Rule(StrEnum):
    """Every rule id of SPEC §9 (docs/lint-rules.md defines each)."""

    SYNTAX = "syntax"
    UNDEFINED_VARIABLE = "undefined-variable"
    UNSAFE_EXPRESSION = "unsafe-expression"
    FORBIDDEN_PHRASE = "forbidden-phrase"
    PII = "pii"
    SMS_LENGTH = "sms-length"
    SIGNATURE = "signature"
    FORBIDDEN_SYMBOL = "forbidden-symbol"
    MISSING_ELEMENT = "missing-element"
    MARKETING_IN_NOTIFICATION = "marketing-in-notification"
    TONE = "tone"
    TRADITIONAL_CHARS = "traditional-chars"
    PUSH_LENGTH = "push-length"
    LOCK_SCREEN = "lock-screen"
    UNCONFIGURED_OFFER = "unconfigured-offer"


RULE_IDS = frozenset(rule.value for rule in Rule)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem in one template.

    ``line`` is the 1-based line in the ``.j2`` file (0 when the finding concerns no file
    line, e.g. the configured signature); ``excerpt`` is the offending text as written or
    rendered; ``explained`` holds the template's reason when it accepted this warning.
    """

    template_id: str
    line: int
    rule: Rule
    severity: Severity
    message: str
    excerpt: str = ""
    explained: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "template_id": self.template_id,
            "line": self.line,
            "rule": self.rule.value,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.explained is not None:
            data["explained"] = self.explained
        return data

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.template_id, self.line, self.rule.value, self.message)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsWorstCase:
    """An SMS template's longest rendering with the signature linted with, and what is left.

    ``margin`` is the characters left before one more part (70 for one part, 67 a part
    when split): the room a longer product name or a longer signature still has.
    """

    template_id: str
    chars: int
    parts: int
    max_parts: int
    sample: str

    @property
    def margin(self) -> int:
        allowed = 70 if self.max_parts <= 1 else 67 * self.max_parts
        return allowed - self.chars


@dataclass(frozen=True, slots=True)
class LintReport:
    """All findings of one run, split into the counted ones and the explained warnings,
    and each SMS template's worst case (``lengths``)."""

    findings: tuple[Finding, ...]
    explained: tuple[Finding, ...] = field(default=())
    templates: int = 0
    lengths: tuple[SmsWorstCase, ...] = field(default=())

    @classmethod
    def of(
        cls,
        findings: Iterable[Finding],
        templates: int = 0,
        lengths: Iterable[SmsWorstCase] = (),
    ) -> LintReport:
        ordered = sorted(set(findings), key=Finding.sort_key)
        return cls(
            findings=tuple(f for f in ordered if f.explained is None),
            explained=tuple(f for f in ordered if f.explained is not None),
            templates=templates,
            lengths=tuple(sorted(lengths, key=lambda length: length.template_id)),
        )

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if not f.is_error)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def to_json(self, *, show_explained: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "findings": [f.to_json() for f in self.findings],
            "errors": self.errors,
            "warnings": self.warnings,
        }
        if show_explained:
            data["explained"] = [f.to_json() for f in self.explained]
        return data


def explain(findings: Sequence[Finding], reasons: dict[str, str]) -> list[Finding]:
    """Mark warnings whose rule the template explains; errors cannot be explained away."""
    out: list[Finding] = []
    for finding in findings:
        reason = reasons.get(finding.rule.value, "").strip()
        explained = reason and not finding.is_error
        out.append(replace(finding, explained=reason) if explained else finding)
    return out
