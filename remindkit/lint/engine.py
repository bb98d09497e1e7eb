"""``lint(paths)``: find template files, run every rule, explain accepted warnings.

For each ``.j2`` file: metadata and syntax; the sandbox rules and the vocabulary (static,
before anything runs); the text rules on the writer's literal text; then, if the
template is safe and well-formed, rendering over every sample context and worst case
with the text rules again on the output, ``sms-length`` and ``missing-element``.

Line numbers: template-text findings carry the ``.j2`` line of the offending text.
A finding on rendered output carries the line of the literal that produced it, else the
line of the ``{{ … }}`` whose value holds it, else the first line after the metadata
block (``sms-length`` and ``missing-element`` always use that line).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from remindkit.lint.contexts import Sample, SampleProblem, WorstCase, load_samples, worst_cases
from remindkit.lint.files import discover, display_id, read_template
from remindkit.lint.findings import (
    RULE_IDS,
    Finding,
    LintReport,
    Rule,
    Severity,
    SmsWorstCase,
    explain,
)
from remindkit.lint.platform import check_signature
from remindkit.lint.rendered import RenderIssue, length_issue, push_length_issues, render_all
from remindkit.lint.scantext import ScanText, normalise
from remindkit.lint.source import TemplateSource, read_source
from remindkit.lint.static import (
    StaticIssue,
    check_filters,
    check_names,
    check_pii_usage,
    check_unsafe,
    parse,
)
from remindkit.lint.textrules import TextOptions, run_text_checks
from remindkit.models import Channel, Platform
from remindkit.render import Renderer, TemplateCatalog, TemplateFile
from remindkit.render.sandbox import build_environment

_BLOCKING = frozenset({Rule.SYNTAX, Rule.UNSAFE_EXPRESSION, Rule.UNDEFINED_VARIABLE})


@dataclass(slots=True)
class LintSetup:
    """What every template is checked with: the platform, samples and worst-case limits."""

    platform: Platform
    samples: list[Sample]
    sample_problems: list[SampleProblem] = field(default_factory=list)
    worst_case: WorstCase = field(default_factory=WorstCase)
    environment: jinja2.Environment = field(default_factory=build_environment)
    renderers: dict[Platform, Renderer] = field(default_factory=dict)
    lengths: list[SmsWorstCase] = field(default_factory=list)

    @classmethod
    def create(
        cls, platform: Platform, samples_dir: Path | None, worst_case: WorstCase | None = None
    ) -> LintSetup:
        samples, problems = load_samples(samples_dir, platform) if samples_dir else ([], [])
        return cls(platform, samples, problems, worst_case or WorstCase())

    def renderer_for(self, platform: Platform) -> Renderer:
        renderer = self.renderers.get(platform)
        if renderer is None:
            renderer = self.renderers[platform] = Renderer(TemplateCatalog(Path()), platform)
        return renderer


def lint_paths(paths: Iterable[Path], setup: LintSetup) -> LintReport:
    files = [found for path in paths for found in discover(Path(path))]
    findings = setup_findings(setup)
    for path in files:
        findings += lint_file(path, setup)
    return LintReport.of(findings, templates=len(files), lengths=setup.lengths)


def setup_findings(setup: LintSetup) -> list[Finding]:
    """Findings of the setup itself: unusable sample files, a signature carriers refuse."""
    findings = [
        Finding(
            template_id=problem.path.name,
            line=0,
            rule=Rule.SYNTAX,
            severity=Severity.ERROR,
            message=f"样例上下文无法使用：{problem.message}",
        )
        for problem in setup.sample_problems
    ]
    platforms = dict.fromkeys([setup.platform, *(s.platform for s in setup.samples)])
    for platform in platforms:
        findings += check_signature(platform)
    return findings


# -- one file ---------------------------------------------------------------------------------
def lint_file(path: Path, setup: LintSetup, draft: str | None = None) -> list[Finding]:
    """Every finding of one file; ``draft`` lints that text in the file's place.

    The setup's renderers cache compiled templates by path: lint a draft with a setup
    whose ``renderers`` are fresh, or the file's previous text may be rendered instead.
    """
    raw = None if draft is None else draft.encode("utf-8")
    template, findings = read_template(path, raw)
    if template is None:
        return findings
    try:
        source = read_source(setup.environment, template.source, template.meta_end_line + 1)
        findings += _static(template, setup)
    except RecursionError:  # the parser and the tree walks recurse once per nesting level
        return [*findings, _too_deep(template)]
    findings += _text(template, source)
    if not any(f.is_error and f.rule in _BLOCKING for f in findings):
        findings += _rendered(template, source, setup, findings)
    findings += _unknown_explanations(template)
    return explain(_deduplicated(findings), _reasons(template, findings))


def _too_deep(template: TemplateFile) -> Finding:
    message = (
        "表达式嵌套过深，无法检查（over the nesting budget）：请拆成几个 {% set %}，"
        "每层括号、列表和过滤器都不要叠几百层。"
    )
    return _finding(
        template, Rule.UNSAFE_EXPRESSION, Severity.ERROR, template.meta_end_line + 1, message
    )


def _finding(
    template: TemplateFile,
    rule: Rule,
    severity: Severity,
    line: int,
    message: str,
    excerpt: str = "",
) -> Finding:
    return Finding(
        template_id=display_id(template),
        line=line,
        rule=rule,
        severity=severity,
        message=message,
        excerpt=excerpt,
    )


def _from_static(template: TemplateFile, issue: StaticIssue) -> Finding:
    return _finding(template, issue.rule, issue.severity, issue.line, issue.message)


def _static(template: TemplateFile, setup: LintSetup) -> list[Finding]:
    tree = parse(setup.environment, template.source)
    if isinstance(tree, StaticIssue):
        return [_from_static(template, tree)]
    issues = [
        *check_unsafe(setup.environment, tree),
        *check_filters(setup.environment, tree),
        *check_names(tree),
        *check_pii_usage(tree),
    ]
    return [_from_static(template, issue) for issue in issues]


def _options(template: TemplateFile) -> TextOptions:
    return TextOptions(
        channel=template.channel.value, notification=template.meta.purpose == "notification"
    )


def _text(template: TemplateFile, source: TemplateSource) -> list[Finding]:
    text = source.text
    return [
        _finding(
            template,
            issue.rule,
            issue.severity,
            text.line_at(issue.start),
            issue.message,
            excerpt=issue.key,
        )
        for issue in run_text_checks(text, _options(template))
    ]


# -- rendering ------------------------------------------------------------------------------
def _rendered(
    template: TemplateFile, source: TemplateSource, setup: LintSetup, before: list[Finding]
) -> list[Finding]:
    contexts = [*setup.samples, *worst_cases(template.stage, setup.worst_case, setup.platform)]
    run = render_all(template, contexts, setup.renderer_for)
    issues = list(run.issues)
    length = length_issue(template, run)
    if length is not None:
        issues.append(length)
    issues += push_length_issues(run)
    if template.channel is Channel.SMS and run.longest.chars:
        setup.lengths.append(
            SmsWorstCase(
                template_id=display_id(template),
                chars=run.longest.chars,
                parts=run.longest.parts,
                max_parts=template.meta.max_parts,
                sample=run.longest.sample,
            )
        )
    seen = {(f.rule, f.excerpt) for f in before if f.excerpt}
    body_line = template.meta_end_line + 1
    findings: list[Finding] = []
    for issue in issues:
        if issue.key and (issue.rule, issue.key) in seen:
            continue  # already reported on the template text, with its exact line
        seen.add((issue.rule, issue.key))
        line = issue.line or _locate(issue, source, setup, contexts) or body_line
        findings.append(
            _finding(template, issue.rule, issue.severity, line, issue.message, excerpt=issue.key)
        )
    return findings


def _locate(
    issue: RenderIssue, source: TemplateSource, setup: LintSetup, contexts: Sequence[Sample]
) -> int | None:
    """The template line behind a finding on rendered output (None: not found)."""
    if issue.text is None or not issue.key:
        return None
    at = source.text.text.find(issue.key)
    if at >= 0:
        return source.text.line_at(at)
    sample = next((s for s in contexts if s.name == issue.sample), None)
    if sample is None:
        return None
    renderer = setup.renderer_for(sample.platform)
    variables = renderer.variables(sample.context)
    for expression in source.expressions:
        try:
            value = renderer.environment.compile_expression(expression.source)(**variables)
        except Exception:  # loop variables and macro arguments cannot be evaluated alone
            continue
        if issue.key in normalise(str(value)):
            return expression.line
    return None


# -- explanations -----------------------------------------------------------------------------
def _reasons(template: TemplateFile, findings: list[Finding]) -> dict[str, str]:
    """The template's ``lint:`` reasons; ``parts_reason`` explains a multi-part SMS it allows."""
    reasons = dict(template.meta.lint)
    length_ok = not any(f.rule is Rule.SMS_LENGTH and f.is_error for f in findings)
    if template.meta.max_parts > 1 and template.meta.parts_reason and length_ok:
        reasons.setdefault(Rule.SMS_LENGTH.value, template.meta.parts_reason)
    return reasons


def _unknown_explanations(template: TemplateFile) -> list[Finding]:
    line = _meta_key_line(template.source, "lint") or 1
    findings = []
    for rule in sorted(set(template.meta.lint) - RULE_IDS):
        hint = difflib.get_close_matches(rule, sorted(RULE_IDS), n=1)
        tip = f"，是不是 {hint[0]}？" if hint else "。"
        message = f"元数据 lint 中的规则“{rule}”不存在{tip}只有警告可以在这里说明理由。"
        findings.append(_finding(template, Rule.SYNTAX, Severity.WARNING, line, message))
    return findings


def _meta_key_line(source: str, key: str) -> int | None:
    for number, line in enumerate(source.splitlines()[:60], start=1):
        if line.lstrip().startswith(f"{key}:"):
            return number
    return None


def _deduplicated(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def lint_text(
    text: str, *, channel: str = "sms", purpose: str = "notification", template_id: str = "<text>"
) -> list[Finding]:
    """The text rules on one piece of plain text (a draft line, a corpus entry)."""
    scanned = ScanText.of(text)
    options = TextOptions(channel=channel, notification=purpose == "notification")
    return [
        Finding(
            template_id=template_id,
            line=scanned.line_at(issue.start),
            rule=issue.rule,
            severity=issue.severity,
            message=issue.message,
            excerpt=issue.key,
        )
        for issue in run_text_checks(scanned, options)
    ]
