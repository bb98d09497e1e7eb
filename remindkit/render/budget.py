"""What one render may spend (SPEC §4.2, §11): no template can exhaust a machine.

Templates are written by non-programmers and may come from a shared repository, so every
way a template builds something is bounded, and each bound ends the render with a
:class:`BudgetExceededError` naming it (the renderer reports it as a
:class:`~remindkit.errors.TemplateBudgetError` with the template and line):

=============  ===========================  ==============================================
budget         limit                        what counts
=============  ===========================  ==============================================
value size     :data:`MAX_SEQUENCE`         characters or items of any one value built:
                                            ``~``, ``+``, ``*``, ``join``, ``replace``,
                                            ``sum``, ``list``, ``sort``, ``truncate`` …
values built   :data:`MAX_BUILT`            characters and items of all of them in one
                                            render: the memory a template may take
number size    :data:`MAX_DIGITS`           digits of any number computed (a whole number
                                            by its digits, an amount by its exponent);
                                            floats stay finite
loop steps     :data:`MAX_STEPS`            loop iterations and macro calls
output size    :data:`MAX_OUTPUT`           characters printed, block ``set`` bodies and
                                            macro output included
CPU time       :data:`MAX_CPU_SECONDS`      the render's thread CPU time, read every
                                            :data:`CLOCK_EVERY` budgeted operations
=============  ===========================  ==============================================

Sizes are checked *before* a value is built where the size is known in advance, so a
refused value never takes the memory it asked for. Between two budgeted operations a
template runs only straight-line code of its own (at most ``MAX_TEMPLATE_BYTES`` of it),
so the CPU budget holds to within milliseconds.

A template is refused before it compiles when it is over ``MAX_TEMPLATE_BYTES`` or nested
more than ``MAX_NESTING`` levels deep: Jinja's optimizer visits an expression's whole subtree
at each of its levels, so a chain of 300 filters costs ~0.6 s of compiling (quadratic in the
depth) before Python refuses it, on every preview in the studio.

Printing is the other half: ``{{ }}``, ``~`` and the text filters accept text, whole
numbers, amounts and dates only. An object (``borrower``, ``loan``, a list, a mapping,
``None``) is refused rather than printed as a Python repr that could carry the full
phone number past the ``pii`` rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sized
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Undefined

MAX_SEQUENCE = 10_000
MAX_BUILT = 1_000_000
MAX_DIGITS = 30
MAX_STEPS = 2_000
MAX_OUTPUT = 100_000
MAX_CPU_SECONDS = 0.1  # ~4,000 renders of a shipped template
CLOCK_EVERY = 32
WORK_UNIT = 256  # characters or items that count as one more operation
MAX_TEMPLATE_BYTES = 16 * 1024  # 16 times the largest shipped template
MAX_NESTING = 64  # levels of a parsed template; the shipped ones reach 9
_LARGEST = 10**MAX_DIGITS
_STATE = "_remindkit_budget"  # on the render's Context, shared by its blocks and macros


class BudgetExceededError(SecurityError):
    """One render went over a budget; ``budget`` names it, ``limit`` says how much."""

    def __init__(self, budget: str, limit: str, detail: str) -> None:
        self.budget = budget
        self.limit = limit
        self.detail = detail
        super().__init__(f"over the {budget} budget ({limit}): {detail}")


class RenderBudget:
    """What is left to one render; made at its first budgeted operation."""

    __slots__ = ("built", "deadline", "ops", "output", "steps")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.built = MAX_BUILT
        self.output = MAX_OUTPUT
        self.ops = 0
        self.deadline = 0.0  # set at the first reading of the clock

    def tick(self, ops: int = 1) -> None:
        """Count budgeted operations (a large value counts as several: one per
        ``WORK_UNIT`` characters or items); read the CPU clock every ``CLOCK_EVERY``.

        The clock starts at the first reading: the few operations before it are not timed,
        which spares the usual render (a handful of operations) a system call."""
        self.ops += ops
        if self.ops >= CLOCK_EVERY:
            self.ops = 0
            now = time.thread_time()
            if not self.deadline:
                self.deadline = now + MAX_CPU_SECONDS
            elif now > self.deadline:
                raise BudgetExceededError(
                    "CPU time",
                    f"{MAX_CPU_SECONDS:g} s per message",
                    "the template computes too much: simplify its loops and filters",
                )

    def step(self, count: int) -> None:
        self.steps -= count
        if self.steps < 0:
            raise BudgetExceededError(
                "loop steps",
                f"{MAX_STEPS:,} loop iterations and macro calls",
                "simplify the loops",
            )
        self.tick(count)

    def build(self, size: int, what: str) -> None:
        """Charge a value of ``size`` characters or items, checked before it is built."""
        if size > MAX_SEQUENCE:
            raise BudgetExceededError(
                "value size",
                f"{MAX_SEQUENCE:,} characters or items",
                f"{what} would build {size:,}",
            )
        self.built -= size
        if self.built < 0:
            raise BudgetExceededError(
                "values built",
                f"{MAX_BUILT:,} characters and items per message",
                f"{what} adds up past the limit",
            )
        self.tick(1 + size // WORK_UNIT)

    def emit(self, size: int) -> None:
        self.output -= size
        if self.output < 0:
            raise BudgetExceededError(
                "output size", f"{MAX_OUTPUT:,} characters", "the message text grows too long"
            )
        self.ops += 1 + size // WORK_UNIT  # tick(), inlined: one print is the usual operation
        if self.ops >= CLOCK_EVERY:
            self.tick(0)


def budget_of(context: Context) -> RenderBudget:
    state = context.__dict__
    budget = state.get(_STATE)
    if budget is None:
        budget = state[_STATE] = RenderBudget()
    return budget


# --- numbers ---------------------------------------------------------------------------------


def check_number(value: Any, what: str) -> Any:
    """``value`` if it is no number or a number within :data:`MAX_DIGITS` digits."""
    kind = type(value)
    if kind is int:
        if -_LARGEST < value < _LARGEST:
            return value
    elif kind is Decimal:
        if not value.is_finite() or value.adjusted() < MAX_DIGITS:
            return value
    elif kind is float:
        if -_LARGEST < value < _LARGEST:
            return value
    else:
        return value
    raise BudgetExceededError(
        "number size", f"{MAX_DIGITS} digits", f"{what} makes a number too large"
    )


def sequence_size(value: Any) -> int:
    """Characters or items of a built value (0 for numbers and other scalars)."""
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return 0


# --- printing ----------------------------------------------------------------------------------

_OBJECT_NAMES: dict[str, str] = {
    "BorrowerView": "borrower",
    "LoanView": "a loan (loan, loans[…])",
    "Platform": "platform",
    "LoopContext": "the loop",
    "range": "a range",
}


def printable(value: Any) -> str:
    """The text of a value a message may show; any object is refused, never its repr."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int or kind is Decimal:
        return str(check_number(value, "printing"))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Undefined):
        return str(value)  # StrictUndefined raises, naming the variable
    if isinstance(value, float) and value == value and abs(value) < _LARGEST:  # noqa: PLR0124
        return str(value)
    if isinstance(value, date):
        return str(value)
    raise SecurityError(_not_printable(value))


def _not_printable(value: Any) -> str:
    if value is None:
        return "printing an empty value (None) is not allowed: test it with {% if %} first"
    if isinstance(value, bool):
        return "printing true/false is not allowed: write the words with {% if %}"
    name = _OBJECT_NAMES.get(type(value).__name__)
    if name is None:
        if isinstance(value, Mapping):
            name = "a mapping such as loan.extra"
        elif isinstance(value, list | tuple | Iterable):
            name = "a list"
        else:
            name = "this value"
    return f"printing {name} is not allowed: print one of its fields, such as loan.tail"


def concat(budget: RenderBudget, parts: Iterable[Any], what: str = "'~'") -> str:
    """``a ~ b ~ c`` and ``join``: every part printable, the total checked before joining."""
    texts = [printable(part) for part in parts]
    budget.build(sum(map(len, texts)), what)
    return "".join(texts)


def bounded_items(value: Any, what: str) -> list[Any]:
    """The items of an iterable a filter walks, refusing one too large to hold."""
    if isinstance(value, Sized) and isinstance(value, Iterable):
        if len(value) > MAX_SEQUENCE:
            raise BudgetExceededError(
                "value size", f"{MAX_SEQUENCE:,} characters or items", f"{what} of {len(value):,}"
            )
        return list(value)
    items: list[Any] = []
    for item in value:  # a generator of a filter: bounded by what it walks
        items.append(item)
        if len(items) > MAX_SEQUENCE:
            raise BudgetExceededError(
                "value size", f"{MAX_SEQUENCE:,} characters or items", f"{what} of more"
            )
    return items


Filter = Callable[..., Any]
