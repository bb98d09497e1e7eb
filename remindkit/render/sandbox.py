"""The sandboxed Jinja2 environment templates run in (SPEC §4.2, §11).

Templates are written by non-programmers and reviewed in git, but a template must never
reach Python internals, the file system or the network, nor exhaust a worker. Three layers:

1. :func:`check_template` walks the parsed template before anything runs and rejects
   private/dunder attributes, names outside the vocabulary's globals (``self``, ``lipsum``,
   ``cycler`` …), loops over anything but context data or a small ``range``, arithmetic
   on string literals and number literals of more than ``MAX_DIGITS`` digits. The linter
   reports the same violations as findings.
2. The immutable sandbox refuses underscore attributes, methods and mutating methods at
   run time (``attribute=`` arguments of filters included).
3. Run-time budgets (:mod:`remindkit.render.budget`): the size of every value built, all
   values built together, number digits, loop steps, output size and CPU time per render.
   Arithmetic goes through :meth:`ReminderSandbox.call_binop`; ``~`` becomes a hidden
   concatenation filter; loops, macro bodies, block ``set``/``filter``/``call`` bodies and
   every top-level ``{{ }}`` whose value is not known to be plain text or a number are
   wrapped in hidden budget filters when compiled (their names are not valid Jinja names,
   so no template can write or skip them). Printing accepts text, numbers and dates only.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from remindkit.render.bounded_filters import bounded_filters
from remindkit.render.budget import (
    MAX_DIGITS,
    MAX_SEQUENCE,
    BudgetExceededError,
    budget_of,
    check_number,
    concat,
    printable,
    sequence_size,
)
from remindkit.render.filters import FILTERS

MAX_RANGE = 1000
MAX_POWER_BITS = 256
# Hidden filters the compiler wraps around loops, `~` and outputs: not valid Jinja names,
# so no template can write or skip them.
LOOP_BUDGET = "remindkit:loop"
CONCAT = "remindkit:concat"
OUTPUT_BUDGET = "remindkit:output"
ALLOWED_GLOBALS = frozenset({"range"})
# Jinja built-in filters a template may use (each within budget): see bounded_filters().
ALLOWED_BUILTIN_FILTERS = frozenset(bounded_filters())
FORBIDDEN_NAMES = frozenset(
    {"self", "lipsum", "cycler", "joiner", "namespace", "dict", "config", "request", "loop_"}
)
# Bodies that may run many times or whose output becomes a value: every output inside
# them is counted.
_REPEATED = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)
_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


@dataclass(frozen=True, slots=True)
class Violation:
    """A construct the sandbox refuses, found before the template runs."""

    line: int
    message: str


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise BudgetExceededError(
            "value size", f"range() of at most {MAX_RANGE:,} items", f"range() of {len(rng):,}"
        )
    return rng


class ReminderSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox whose arithmetic, loops, calls and outputs spend a render budget.

    ``plain_data`` maps remindkit's own frozen view types to their public field names:
    reading those fields skips the generic safety checks (they are data, not callables),
    which halves the cost of a render. Everything else goes through the full sandbox.
    ``plain_outputs`` lists the ``name.field`` paths (and bare names) that always hold
    short text, a number or a date: a top-level ``{{ }}`` of one of them prints without
    the output filter, keeping the usual template's hot path as it was.
    """

    intercepted_binops = frozenset(_ARITHMETIC)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.plain_data: dict[type, frozenset[str]] = {}
        self.plain_outputs: frozenset[str] = frozenset()

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Templates never call methods (check_template refuses calls), so reading one could
        # only print a Python repr such as <built-in method replace of datetime ...>.
        return not callable(value) and super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        # Jinja hands out a sandboxed str.format; reading it is refused like any method.
        return None

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # Jinja returns an undefined that fails only when used; a sort key or a single-item
        # max() never uses it. Refuse at once, without naming Python types.
        raise SecurityError(f"access to '{attribute}' is not allowed in reminder templates")

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget_of(context).step(1)  # recursive macros fan out without any loop
        return super().call(context, obj, *args, **kwargs)

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _wrap_budgets(source, self.plain_outputs)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def getattr(self, obj: Any, attribute: str) -> Any:
        fields = self.plain_data.get(type(obj))
        if fields is not None and attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        budget = budget_of(context)
        if operator_name == "%" and isinstance(left, str):
            # '%999999999s' % x builds a gigabyte; templates join text with ~ instead.
            raise SecurityError("formatting text with % is not allowed in reminder templates")
        if operator_name == "*":
            _check_repeat(left, right)
        elif operator_name == "**":
            _check_power(left, right)
        elif operator_name == "+" and sequence_size(left):
            budget.build(sequence_size(left) + sequence_size(right), "'+'")
        result = _ARITHMETIC[operator_name](left, right)
        size = sequence_size(result)
        if size and operator_name != "+":
            budget.build(size, f"'{operator_name}'")
        else:
            budget.tick()
        return check_number(result, f"'{operator_name}'")


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        # Digits of a product are at most the digits of its factors together.
        if len(str(abs(left))) + len(str(abs(right))) > MAX_DIGITS + 1:
            check_number(left * right, "'*'")
        return
    for seq, times in ((left, right), (right, left)):
        if (
            isinstance(seq, str | list | tuple)
            and isinstance(times, int)
            and len(seq) * times > MAX_SEQUENCE
        ):
            raise BudgetExceededError(
                "value size",
                f"{MAX_SEQUENCE:,} characters or items",
                f"repeating a sequence of {len(seq):,} {times:,} times",
            )


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        magnitude = abs(base)
        if magnitude > 1 and exponent > 0 and exponent * math.log2(magnitude) > MAX_POWER_BITS:
            raise BudgetExceededError("number size", f"{MAX_DIGITS} digits", "a power too large")


def build_environment() -> ReminderSandbox:
    """A fresh sandbox with remindkit's filters and only the allowed globals and filters."""
    env = ReminderSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters = bounded_filters()
    env.filters.update(FILTERS)
    env.filters |= {LOOP_BUDGET: _budgeted_loop, OUTPUT_BUDGET: _budgeted_output, CONCAT: _concat}
    env.globals = {"range": _safe_range}
    env.tests = dict(env.tests)
    return env


@pass_context
def _budgeted_output(context: Context, value: Any) -> str:
    text = value if type(value) is str else printable(value)
    budget_of(context).emit(len(text))
    return text


@pass_context
def _budgeted_loop(context: Context, iterable: Any) -> Any:
    try:
        size = len(iterable)
    except TypeError:  # a generator (unique, reverse …): charge item by item
        return _counted(context, iterable)
    budget_of(context).step(size)
    return iterable


def _counted(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    budget = budget_of(context)
    for item in iterable:
        budget.step(1)
        yield item


@pass_context
def _concat(context: Context, parts: list[Any]) -> str:
    return concat(budget_of(context), parts)


def _wrap_budgets(tree: nodes.Template, plain: frozenset[str]) -> None:
    """Route loop iterables, ``~`` and outputs through the budget filters (idempotent).

    Outputs inside loops, macros and block bodies are all counted; a top-level output of a
    plain vocabulary path (``borrower.honorific``) or of remindkit's own text filters runs
    once per render with a short result, so it stays a plain print. One walk of the tree:
    compiling a large template is Jinja's own cost, this adds little to it.
    """
    bound = frozenset(
        name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")
    )
    stack: list[tuple[nodes.Node, bool]] = [(tree, False)]
    while stack:
        node, repeated = stack.pop()
        repeated = repeated or isinstance(node, _REPEATED)
        if isinstance(node, nodes.For) and not _is_budget(node.iter, LOOP_BUDGET):
            node.iter = _budget_filter(node.iter, LOOP_BUDGET)
        elif isinstance(node, nodes.Output):
            node.nodes = [_counted_output(item, repeated, plain, bound) for item in node.nodes]
        for name, child in node.iter_fields():
            if isinstance(child, nodes.Concat):
                setattr(node, name, _concat_filter(child))
            elif isinstance(child, list):
                child[:] = [
                    _concat_filter(item) if isinstance(item, nodes.Concat) else item
                    for item in child
                ]
        stack.extend((child, repeated) for child in node.iter_child_nodes())


def _counted_output(
    item: nodes.Expr, repeated: bool, plain: frozenset[str], bound: frozenset[str]
) -> nodes.Expr:
    if isinstance(item, nodes.TemplateData) or _is_budget(item, OUTPUT_BUDGET):
        return item
    if not repeated and _plain_output(item, plain, bound):
        return item
    return _budget_filter(item, OUTPUT_BUDGET)


def _plain_output(node: nodes.Node, plain: frozenset[str], bound: frozenset[str]) -> bool:
    if isinstance(node, nodes.Const):
        return type(node.value) in (str, int)
    if isinstance(node, nodes.Or | nodes.And):  # {{ loan.product or "借款" }}
        return _plain_output(node.left, plain, bound) and _plain_output(node.right, plain, bound)
    if isinstance(node, nodes.CondExpr):
        return all(
            part is not None and _plain_output(part, plain, bound)
            for part in (node.expr1, node.expr2)
        )
    if isinstance(node, nodes.Filter):
        return node.name in FILTERS or node.name in ("length", "count")
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        root, path = node.node.name, f"{node.node.name}.{node.attr}"
    elif isinstance(node, nodes.Name):
        root, path = node.name, node.name
    else:
        return False
    return path in plain and root not in bound


def _concat_filter(node: nodes.Concat) -> nodes.Filter:
    """``a ~ b ~ c`` as ``[a, b, c]|remindkit:concat``: each part printable, sizes first."""
    items = nodes.List(node.nodes, lineno=node.lineno)
    wrapped = nodes.Filter(items, CONCAT, [], [], None, None, lineno=node.lineno)
    if node.environment is not None:
        items.set_environment(node.environment)
        wrapped.set_environment(node.environment)
    return wrapped


def _is_budget(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Filter) and node.name == name


def _budget_filter(node: nodes.Node, name: str) -> nodes.Filter:
    wrapped = nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)
    if node.environment is not None:
        wrapped.set_environment(node.environment)
    return wrapped


def check_template(tree: nodes.Template, filters: Callable[[str], bool]) -> Iterator[Violation]:
    """Every sandbox violation in a parsed template, in source order."""
    macros = frozenset(macro.name for macro in tree.find_all(nodes.Macro))
    kinds = (nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Call, nodes.Filter, nodes.For,
             nodes.Mul, nodes.Pow, nodes.Mod, nodes.Include, nodes.Import, nodes.FromImport,
             nodes.Extends, nodes.Const)  # fmt: skip
    functions = macros | ALLOWED_GLOBALS
    called = {id(call.node) for call in tree.find_all(nodes.Call)}
    for node in tree.find_all(kinds):
        message = _violation(node, filters, macros)
        if message is None and _uncalled(node, functions, called):
            # {{ range }} would print <function _safe_range at 0x…>
            message = "printing a function is not allowed in reminder templates"
        if message:
            yield Violation(node.lineno, message)


def deepest(tree: nodes.Template) -> tuple[int, int]:
    """How many levels deep a parsed template nests, and the line of its deepest node. A
    loop, not a recursion: the tree may be nearly as deep as Python's stack allows."""
    best, line = 0, tree.lineno
    stack: list[tuple[nodes.Node, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > best:
            best, line = depth, node.lineno or line  # a few nodes carry no line
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return best, line


def may_show_phone(tree: nodes.Template) -> bool:
    """Whether a template could print ``borrower.phone`` other than through ``mask_phone``:
    it names the field elsewhere, reads an item by a computed key, or walks items by a
    computed attribute. Only such templates pay for the renderer's check of the output."""
    masked = {id(f.node) for f in tree.find_all(nodes.Filter) if f.name == "mask_phone"}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Keyword)):
        if isinstance(node, nodes.Getattr) and node.attr == "phone" and id(node) not in masked:
            return True
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return True
        if isinstance(node, nodes.Const) and isinstance(node.value, str) and "phone" in node.value:
            return True
        if isinstance(node, nodes.Keyword) and not isinstance(node.value, nodes.Const):
            return True
    return False


def _uncalled(node: nodes.Node, functions: frozenset[str], called: set[int]) -> bool:
    return (
        isinstance(node, nodes.Name)
        and node.ctx == "load"
        and node.name in functions
        and id(node) not in called
    )


def _violation(  # noqa: PLR0911 - one early return per sandbox rule
    node: nodes.Node, filters: Callable[[str], bool], macros: frozenset[str]
) -> str | None:
    if isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
        return "templates may not include, import or extend other templates"
    if isinstance(node, nodes.Const) and _huge_number(node.value):
        return f"numbers in a template may have at most {MAX_DIGITS} digits"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"access to private attribute '{node.attr}' is not allowed"
    if isinstance(node, nodes.Getitem) and _private_key(node.arg):
        return "access to private attribute by subscript is not allowed"
    if isinstance(node, nodes.Name) and node.name in FORBIDDEN_NAMES:
        return f"'{node.name}' is not available in reminder templates"
    if isinstance(node, nodes.Call):
        return _call_violation(node, macros)
    if isinstance(node, nodes.Filter) and not filters(node.name):
        return f"filter '{node.name}' is not available in reminder templates"
    if isinstance(node, nodes.Filter) and any(
        kw.key == "attribute" and _private_key(kw.value, dotted=True) for kw in node.kwargs
    ):
        return "access to private attribute by attribute= is not allowed"
    if isinstance(node, nodes.Mod) and _literal_sequence(node.left):
        return "formatting text with % is not allowed in reminder templates"
    if isinstance(node, nodes.For) and not _bounded_iterable(node.iter):
        return "loops may only iterate over context data (such as loans) or a small range()"
    if isinstance(node, nodes.Pow):
        return "the power operator is not available in reminder templates"
    if isinstance(node, nodes.Mul) and (
        _literal_sequence(node.left) or _literal_sequence(node.right)
    ):
        return "repeating text or lists with * is not allowed"
    return None


def _huge_number(value: object) -> bool:
    if type(value) is int:
        return bool(abs(value) >= 10**MAX_DIGITS)
    return type(value) is float and not abs(value) < 10.0**MAX_DIGITS


def _private_key(arg: nodes.Node, dotted: bool = False) -> bool:
    if not isinstance(arg, nodes.Const) or not isinstance(arg.value, str):
        return False
    parts = arg.value.split(".") if dotted else [arg.value]
    return any(part.startswith("_") for part in parts)


def _call_violation(node: nodes.Call, macros: frozenset[str]) -> str | None:
    target = node.node
    if isinstance(target, nodes.Name) and target.name in macros:
        return None
    if isinstance(target, nodes.Name) and target.name == "range":
        too_big = any(
            isinstance(arg, nodes.Const)
            and isinstance(arg.value, int)
            and abs(arg.value) > MAX_RANGE
            for arg in node.args
        )
        return f"range() larger than {MAX_RANGE} is not allowed" if too_big else None
    if isinstance(target, nodes.Getattr):
        return f"calling methods ('{target.attr}()') is not allowed in reminder templates"
    return "function calls other than range() and macros are not allowed in reminder templates"


def _bounded_iterable(node: nodes.Node) -> bool:
    """Context data and small ranges are bounded; loops over computed text are not."""
    if isinstance(node, nodes.Filter):
        return node.node is not None and _bounded_iterable(node.node)
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem | nodes.List | nodes.Tuple):
        return True
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)


def _literal_sequence(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Const):
        return isinstance(node.value, str)
    return isinstance(node, nodes.List | nodes.Tuple)
