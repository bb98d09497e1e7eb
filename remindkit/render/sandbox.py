"""The sandboxed Jinja2 environment templates run in (SPEC §4.2, §11).

Templates are written by non-programmers and reviewed in git, but a template must never
reach Python internals, the file system or the network, nor hang a worker. Three layers:

1. :func:`check_template` walks the parsed template before anything runs and rejects
   private/dunder attributes, names outside the vocabulary's globals (``self``, ``lipsum``,
   ``cycler`` …), loops over anything but context data or a small ``range``, and
   arithmetic on string literals. The linter reports the same violations as findings.
2. The immutable sandbox refuses underscore attributes and mutating methods at run time.
3. Run-time budgets: ``*`` and ``**`` are intercepted and refused when they would build a
   huge string, list or number; ``range`` is capped; filters that pad or repeat text are
   not available.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from remindkit.render.filters import FILTERS

MAX_RANGE = 1000
MAX_SEQUENCE = 10_000  # characters or items a `*` may build
MAX_POWER_BITS = 256
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

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.plain_data: dict[type, frozenset[str]] = {}

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
        return super().call_binop(context, operator_name, left, right)


def _check_repeat(left: Any, right: Any) -> None:
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
    env.globals = {"range": _safe_range}
    env.tests = dict(env.tests)
    return env


def check_template(tree: nodes.Template, filters: Callable[[str], bool]) -> Iterator[Violation]:
    """Every sandbox violation in a parsed template, in source order."""
    macros = frozenset(macro.name for macro in tree.find_all(nodes.Macro))
    kinds = (nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Call, nodes.Filter, nodes.For,
             nodes.Mul, nodes.Pow)  # fmt: skip
    for node in tree.find_all(kinds):
        message = _violation(node, filters, macros)
        if message:
            yield Violation(node.lineno, message)


def _violation(  # noqa: PLR0911 - one early return per sandbox rule
    node: nodes.Node, filters: Callable[[str], bool], macros: frozenset[str]
) -> str | None:
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
    if isinstance(node, nodes.For) and not _bounded_iterable(node.iter):
        return "loops may only iterate over context data (such as loans) or a small range()"
    if isinstance(node, nodes.Pow):
        return "the power operator is not available in reminder templates"
    if isinstance(node, nodes.Mul) and (
        _literal_sequence(node.left) or _literal_sequence(node.right)
    ):
        return "repeating text or lists with * is not allowed"
    return None


def _private_key(arg: nodes.Node) -> bool:
    return isinstance(arg, nodes.Const) and isinstance(arg.value, str) and arg.value.startswith("_")


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
