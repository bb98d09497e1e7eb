"""Checks on the parsed template, before anything runs: syntax, sandbox rules, names, PII.

``unsafe-expression`` reuses the renderer's own sandbox walk
(:func:`remindkit.render.sandbox.check_template`) so the linter and the renderer never
disagree, and adds what only a linter can say (``include``/``import``/``extends`` reach
other files). ``undefined-variable`` checks every name and attribute path against the
content team's vocabulary, which is read from the renderer's view types so it cannot
drift, and suggests the closest name (``borrower.nmae`` → ``borrower.name``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import jinja2
from jinja2 import meta, nodes
from jinja2.filters import FILTERS as BUILTIN_FILTERS

from remindkit.lint.findings import Rule, Severity
from remindkit.render.renderer import BorrowerView, LoanView, PlatformView
from remindkit.render.sandbox import check_template

# What each vocabulary name is; dataclass types expose their fields, the others their
# public attributes (``loan.due_date.year``), ``dict`` anything (``loan.extra.<column>``).
VOCABULARY: Mapping[str, type] = {
    "borrower": BorrowerView,
    "loan": LoanView,
    "loans": list,
    "total_due": Decimal,
    "platform": PlatformView,
    "now": datetime,
    "stage": str,
}
_FIELD_TYPES: Mapping[str, type] = {"due_date": date, "amount_due": Decimal, "extra": dict}
_FILE_NODES = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)


@dataclass(frozen=True, slots=True)
class StaticIssue:
    rule: Rule
    severity: Severity
    line: int
    message: str


def parse(environment: jinja2.Environment, source: str) -> nodes.Template | StaticIssue:
    """The template's syntax tree, or a ``syntax`` issue naming the line."""
    try:
        return environment.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        message = (
            f"模板语法错误：{exc.message}。"
            "请检查这一行的 {{ }} 和 {% %} 是否成对、拼写是否正确。"
        )
        return StaticIssue(Rule.SYNTAX, Severity.ERROR, exc.lineno, message)


def check_unsafe(environment: jinja2.Environment, tree: nodes.Template) -> list[StaticIssue]:
    """Sandbox violations and file references; unknown filter names are left to
    :func:`check_filters` (a typo, not an attack)."""
    known = environment.filters

    def allowed(name: str) -> bool:
        return name in known or name not in BUILTIN_FILTERS

    issues = [
        StaticIssue(Rule.UNSAFE_EXPRESSION, Severity.ERROR, v.line, _in_chinese(v.message))
        for v in check_template(tree, allowed)
    ]
    issues += [
        StaticIssue(
            Rule.UNSAFE_EXPRESSION,
            Severity.ERROR,
            node.lineno,
            "模板不能引用或继承其他文件（include / import / extends），请把文字直接写在本模板里。",
        )
        for node in tree.find_all(_FILE_NODES)
    ]
    return issues


def check_filters(environment: jinja2.Environment, tree: nodes.Template) -> list[StaticIssue]:
    """Filters that exist nowhere (``yuann``), with the closest available one."""
    known = environment.filters
    issues = []
    for node in tree.find_all(nodes.Filter):
        if node.name in known or node.name in BUILTIN_FILTERS:
            continue
        close = difflib.get_close_matches(node.name, list(known), n=1, cutoff=0.6)
        hint = f"，是不是想写 {close[0]}？" if close else "。"
        message = f"过滤器 {node.name} 不存在{hint}可用的过滤器见 README 的“模板变量”一节。"
        issues.append(StaticIssue(Rule.UNDEFINED_VARIABLE, Severity.ERROR, node.lineno, message))
    return issues


# The sandbox speaks English to developers; writers read these.
_CHINESE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"access to private attribute '(.+)'", "不能访问内部属性 {0}（以下划线开头的名字）"),
        (r"access to private attribute by subscript", "不能用下标访问内部属性"),
        (r"filter '(.+)' is not available", "过滤器 {0} 不允许在提醒模板中使用"),
        (r"'(.+)' is not available", "模板中不能使用 {0}"),
        (r"calling methods \('(.+)\(\)'\)", "模板中不能调用方法 {0}()，请改用过滤器（如 |upper）"),
        (r"function calls other than", "除 range() 和宏以外，模板中不能调用函数"),
        (r"loops may only iterate", "循环只能遍历 loans 等上下文数据或较小的 range()"),
        (r"the power operator", "不能使用乘方运算 **"),
        (r"repeating text or lists", "不能用 * 重复文字或列表"),
        (r"range\(\) larger than (\d+)", "range() 不能超过 {0}"),
    )
)


def _in_chinese(message: str) -> str:
    for pattern, text in _CHINESE:
        found = pattern.search(message)
        if found:
            return f"{text.format(*found.groups())}。模板只能使用文案变量和过滤器。"
    return f"模板中不允许这种写法（{message}）。模板只能使用文案变量和过滤器。"


def _undeclared(tree: nodes.Template) -> set[str]:
    try:
        return meta.find_undeclared_variables(tree)
    except jinja2.TemplateAssertionError:
        # Jinja finds them by compiling, which stops at an unknown filter (`attr`, `map`):
        # check_unsafe reports the filter; here, names read but never bound will do.
        bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        return {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - bound


def check_names(tree: nodes.Template) -> list[StaticIssue]:
    """Unknown top-level names and unknown attribute paths, with a suggestion."""
    issues: list[StaticIssue] = []
    for name in sorted(_undeclared(tree) - set(VOCABULARY) - {"range"}):
        line = next(n.lineno for n in tree.find_all(nodes.Name) if n.name == name)
        issues.append(_undefined(line, name, _suggest(name, VOCABULARY)))
    loop_vars = _loop_variables(tree)
    for attribute in tree.find_all(nodes.Getattr):
        issue = _check_path(attribute, loop_vars)
        if issue is not None and issue not in issues:  # a.b.c and a.b both stop at a bad b
            issues.append(issue)
    return issues


def _undefined(line: int, path: str, hint: str) -> StaticIssue:
    suggestion = f"，是不是想写 {hint}？" if hint else "。"
    return StaticIssue(
        Rule.UNDEFINED_VARIABLE,
        Severity.ERROR,
        line,
        f"变量 {path} 不存在{suggestion}可用的变量见 README 的“模板变量”一节。",
    )


def _loop_variables(tree: nodes.Template) -> dict[str, type]:
    """``{% for item in loans %}`` binds ``item`` to a loan."""
    bound: dict[str, type] = {}
    for loop in tree.find_all(nodes.For):
        source = loop.iter.node if isinstance(loop.iter, nodes.Filter) else loop.iter
        over_loans = isinstance(source, nodes.Name) and source.name == "loans"
        if over_loans and isinstance(loop.target, nodes.Name):
            bound[loop.target.name] = LoanView
    return bound


def _check_path(node: nodes.Getattr, loop_vars: Mapping[str, type]) -> StaticIssue | None:
    parts = _path(node)
    if parts is None:
        return None
    root, *attrs = parts
    kind = VOCABULARY.get(root) or loop_vars.get(root)
    if kind is None:
        return None  # a {% set %} or macro variable: its type is unknown
    walked = root
    for attr in attrs:
        fields = _attributes(kind)
        if fields is None:
            return None
        if attr not in fields:
            return _undefined(node.lineno, f"{walked}.{attr}", _suggest(attr, fields, walked))
        kind = fields[attr]
        walked = f"{walked}.{attr}"
    return None


def _path(node: nodes.Node) -> list[str] | None:
    """``borrower.name`` → ["borrower", "name"] for a plain chain of names, else None."""
    attrs: list[str] = []
    while isinstance(node, nodes.Getattr):
        attrs.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name):
        return None
    return [node.name, *reversed(attrs)]


def _attributes(kind: type) -> dict[str, type] | None:
    if kind is dict:
        return None  # loan.extra.<column>: any feed column
    if dataclasses.is_dataclass(kind):
        return {f.name: _FIELD_TYPES.get(f.name, str) for f in dataclasses.fields(kind)}
    return {name: object for name in dir(kind) if not name.startswith("_")}


def _suggest(name: str, known: Mapping[str, object], prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:
        return ""
    return f"{prefix}.{close[0]}" if prefix else close[0]


# -- pii, statically: which vocabulary values a template prints -----------------------------
def check_pii_usage(tree: nodes.Template) -> list[StaticIssue]:
    """``borrower.phone`` unmasked (error), full name and full loan id (warnings)."""
    loans = {"loan", *_loop_variables(tree)}
    issues: list[StaticIssue] = []
    for node, parent in _with_parents(tree):
        path = _path(node) if isinstance(node, nodes.Getattr) else None
        if path == ["borrower", "phone"] and not _filtered(parent, "mask_phone"):
            issues.append(_pii(node.lineno, Severity.ERROR, _PHONE))
        elif path == ["borrower", "name"]:
            issues.append(_pii(node.lineno, Severity.WARNING, _NAME))
        elif path is not None and len(path) == 2 and path[0] in loans and path[1] == "id":
            issues.append(_pii(node.lineno, Severity.WARNING, _LOAN_ID))
    return sorted(issues, key=lambda issue: issue.line)


_PHONE = (
    "完整手机号 borrower.phone 不能出现在消息里，"
    "请写成 {{ borrower.phone|mask_phone }}（显示为 138****8000）。"
)
_NAME = (
    "消息里出现了借款人的完整姓名 borrower.name。短信和推送可能被他人看到，"
    "建议用 borrower.honorific（如“王先生”）。"
)
_LOAN_ID = "消息里出现了完整借款编号，建议只写“尾号{{ loan.tail }}”。"


def _pii(line: int, severity: Severity, message: str) -> StaticIssue:
    return StaticIssue(Rule.PII, severity, line, message)


def _filtered(parent: nodes.Node | None, name: str) -> bool:
    return isinstance(parent, nodes.Filter) and parent.name == name


def _with_parents(tree: nodes.Node) -> Iterator[tuple[nodes.Node, nodes.Node | None]]:
    stack: list[tuple[nodes.Node, nodes.Node | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        stack.extend((child, node) for child in node.iter_child_nodes())
