"""The sandboxed Jinja2 environment templates run in (SPEC §4.2, §11).

Templates are written by non-programmers and reviewed in git, but a template must never
reach Python internals, the file system or the network, nor hang a worker. Three layers:

1. :func:`check_template` walks the parsed template before anything runs and rejects
   private/dunder attributes, names outside the vocabulary's globals (``self``, ``lipsum``,
   ``cycler`` …), loops over anything but context data or a small ``range``, and
   arithmetic on string literals. The linter reports the same violations as findings.
2. The immutable sandbox refuses underscore attributes, methods and mutating methods at
   run time (``attribute=`` arguments of filters included).
3. Run-time budgets: ``*``, ``+``, ``~``, ``**`` and the growing filters are refused when
   they would build a huge string, list or number; ``range`` is capped; filters that pad
   or repeat text are not available; one render may take at most ``MAX_STEPS`` loop
   iterations and calls (nested loops, recursive macros) and output ``MAX_OUTPUT``
   characters. Loops and ``~`` are wrapped in hidden budget filters when compiled.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.filters import do_join, do_replace, do_round
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from remindkit.render.filters import FILTERS

MAX_RANGE = 1000
MAX_SEQUENCE = 10_000  # characters or items a `*` may build
MAX_POWER_BITS = 256
MAX_INT_BITS = 4096  # a product of whole numbers may not grow past this
MAX_STEPS = 2 * MAX_RANGE  # loop iterations plus calls in one render
MAX_OUTPUT = 100_000  # characters the `{{ }}` inside loops and macros may add up to
MAX_ROUND_DIGITS = 10  # round(precision): 10**precision of a huge precision never ends
# Hidden filters the compiler wraps around loops and `~`: not valid Jinja names, so no
# template can write or skip them.
LOOP_BUDGET = "remindkit:loop"
TEXT_BUDGET = "remindkit:text"
OUTPUT_BUDGET = "remindkit:output"
ALLOWED_GLOBALS = frozenset({"range"})
# Jinja built-in filters a template may use; padding/repeating ones (center, indent,
# wordwrap, format) and attribute-walking ones are left out on purpose.
ALLOWED_BUILTIN_FILTERS = frozenset(
    {
        "abs", "capitalize", "default", "d", "first", "float", "int", "join", "last",
        "length", "count", "list", "lower", "upper", "max", "min", "replace", "reverse",
        "round", "sort", "string", "sum", "title", "trim", "truncate", "unique", "escape", "e",
    }
)  # fmt: skip
FORBIDDEN_NAMES = frozenset(
    {"self", "lipsum", "cycler", "joiner", "namespace", "dict", "config", "request", "loop_"}
)


@dataclass(frozen=True, slots=True)
class Violation:
    """A construct the sandbox refuses, found before the template runs."""

    line: int
    message: str


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(f"range() of {len(rng)} items exceeds the limit of {MAX_RANGE}")
    return rng


class ReminderSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox with size budgets on ``*``/``**`` and a capped ``range``.

    ``plain_data`` maps remindkit's own frozen view types to their public field names:
    reading those fields skips the generic safety checks (they are data, not callables),
    which halves the cost of a render. Everything else goes through the full sandbox.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.plain_data: dict[type, frozenset[str]] = {}

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
        _spend_steps(context, 1)  # recursive macros fan out without any loop
        return super().call(context, obj, *args, **kwargs)

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        _wrap_budgets(source)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def getattr(self, obj: Any, attribute: str) -> Any:
        fields = self.plain_data.get(type(obj))
        if fields is not None and attribute in fields:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            _check_repeat(left, right)
            return operator.mul(left, right)
        if operator_name == "**":
            _check_power(left, right)
            return operator.pow(left, right)
        if operator_name == "%" and isinstance(left, str):
            # '%999999999s' % x builds a gigabyte; templates join text with ~ instead.
            raise SecurityError("formatting text with % is not allowed in reminder templates")
        result = super().call_binop(context, operator_name, left, right)
        return _check_size(result, "+")


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_SEQUENCE:
        raise SecurityError(
            f"'{what}' built {len(value)} characters or items, more than {MAX_SEQUENCE}"
        )
    return value


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise SecurityError("number too large for a message template")
        return
    for seq, times in ((left, right), (right, left)):
        if (
            isinstance(seq, str | list | tuple)
            and isinstance(times, int)
            and len(seq) * times > MAX_SEQUENCE
        ):
            raise SecurityError(
                f"repeating a sequence {times} times exceeds the limit of {MAX_SEQUENCE}"
            )


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        magnitude = abs(base)
        if magnitude > 1 and exponent > 0 and exponent * math.log2(magnitude) > MAX_POWER_BITS:
            raise SecurityError("power too large for a message template")


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
    env.filters = {k: v for k, v in env.filters.items() if k in ALLOWED_BUILTIN_FILTERS}
    env.filters.update(FILTERS)
    env.filters |= {
        "join": _bounded_join,
        "replace": _bounded_replace,
        "round": _bounded_round,
        LOOP_BUDGET: _budgeted_loop,
        OUTPUT_BUDGET: _budgeted_output,
        TEXT_BUDGET: _budgeted_text,
    }
    env.globals = {"range": _safe_range}
    env.tests = dict(env.tests)
    return env


# What one render may still spend lives on the render's Jinja context, which the template's
# blocks and macros share; plain dict entries keep the per-output cost small.
_STEPS_LEFT = "_remindkit_steps_left"
_CHARS_LEFT = "_remindkit_chars_left"


def _spend_steps(context: Context, steps: int) -> None:
    state = context.__dict__
    left = state[_STEPS_LEFT] = state.get(_STEPS_LEFT, MAX_STEPS) - steps
    if left < 0:
        raise SecurityError(
            f"more than {MAX_STEPS} loop iterations and calls in one message: simplify the loops"
        )


@pass_context
def _budgeted_output(context: Context, value: Any) -> str:
    text = value if type(value) is str else str(value)
    state = context.__dict__
    left = state[_CHARS_LEFT] = state.get(_CHARS_LEFT, MAX_OUTPUT) - len(text)
    if left < 0:
        raise SecurityError(f"the message text grows past {MAX_OUTPUT} characters")
    return text


@pass_context
def _budgeted_loop(context: Context, iterable: Any) -> Any:
    try:
        size = len(iterable)
    except TypeError:  # a generator (unique, reverse …): charge item by item
        return _counted(context, iterable)
    _spend_steps(context, size)
    return iterable


def _counted(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend_steps(context, 1)
        yield item


def _budgeted_text(value: Any) -> Any:
    return _check_size(value, "~")


@pass_eval_context
def _bounded_join(eval_ctx: EvalContext, value: Any, d: str = "", attribute: Any = None) -> str:
    return _check_size(do_join(eval_ctx, value, d, attribute), "join")  # type: ignore[no-any-return]


@pass_eval_context
def _bounded_replace(
    eval_ctx: EvalContext, s: str, old: str, new: str, count: int | None = None
) -> str:
    text, old_text, new_text = str(s), str(old), str(new)
    hits = text.count(old_text) if count is None else min(count, text.count(old_text))
    if len(text) + hits * (len(new_text) - len(old_text)) > MAX_SEQUENCE:
        raise SecurityError(f"replace would build more than {MAX_SEQUENCE} characters")
    return do_replace(eval_ctx, s, old, new, count)


def _bounded_round(value: Any, precision: Any = 0, method: Any = "common") -> Any:
    # Jinja's round computes 10**precision (floor, ceil) or rounds an int to it: a
    # precision of -999999999 would keep a worker busy for hours.
    if type(precision) is not int or abs(precision) > MAX_ROUND_DIGITS:
        raise SecurityError(
            f"round() precision must be a whole number from -{MAX_ROUND_DIGITS} "
            f"to {MAX_ROUND_DIGITS}, got {precision!r}"
        )
    return do_round(value, precision, method)


def _wrap_budgets(tree: nodes.Template) -> None:
    """Route loop iterables, ``~`` and the outputs of loops and macros through the budget
    filters (idempotent). Outputs elsewhere run once per render: the size limits on each
    value bound them, and the hot path of a template without loops stays untouched."""
    for loop in tree.find_all(nodes.For):
        if not _is_budget(loop.iter, LOOP_BUDGET):
            loop.iter = _budget_filter(loop.iter, LOOP_BUDGET)
    for repeated in tree.find_all((nodes.For, nodes.Macro)):
        for output in repeated.find_all(nodes.Output):
            output.nodes = [
                item
                if isinstance(item, nodes.TemplateData) or _is_budget(item, OUTPUT_BUDGET)
                else _budget_filter(item, OUTPUT_BUDGET)
                for item in output.nodes
            ]
    for parent in list(tree.find_all(nodes.Node)):
        for name, child in parent.iter_fields():
            if isinstance(child, nodes.Concat) and not _is_budget(parent, TEXT_BUDGET):
                setattr(parent, name, _budget_filter(child, TEXT_BUDGET))
            elif isinstance(child, list):
                child[:] = [
                    _budget_filter(item, TEXT_BUDGET)
                    if isinstance(item, nodes.Concat) and not _is_budget(parent, TEXT_BUDGET)
                    else item
                    for item in child
                ]


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
             nodes.Extends)  # fmt: skip
    functions = macros | ALLOWED_GLOBALS
    called = {id(call.node) for call in tree.find_all(nodes.Call)}
    for node in tree.find_all(kinds):
        message = _violation(node, filters, macros)
        if message is None and _uncalled(node, functions, called):
            # {{ range }} would print <function _safe_range at 0x…>
            message = "printing a function is not allowed in reminder templates"
        if message:
            yield Violation(node.lineno, message)


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
