"""Jinja's built-in filters as reminder templates get them: within the render's budgets.

Each filter a template may use is wrapped so that what it walks or builds is counted
(:mod:`remindkit.render.budget`) and checked before it is built where the size is known;
the text filters print only what :func:`~remindkit.render.budget.printable` accepts, so
``borrower|string`` or ``loan|lower`` is refused instead of printing a repr; and filter
arguments that Jinja checks with ``assert`` (``truncate(-5)``) get a sentence instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_context
from jinja2.runtime import Context

from remindkit.render.budget import (
    MAX_DIGITS,
    MAX_SEQUENCE,
    WORK_UNIT,
    BudgetExceededError,
    bounded_items,
    budget_of,
    check_number,
    concat,
    printable,
    sequence_size,
)

MAX_ROUND_DIGITS = 10  # round(precision): 10**precision of a huge precision never ends
MAX_TRUNCATE_END = 100


class FilterArgumentError(Exception):
    """A filter argument out of range; the renderer shows the message as it is."""


def _text_filter(function: Callable[..., str], name: str) -> Callable[..., str]:
    @pass_context
    def bounded(context: Context, value: Any, *args: Any) -> str:
        budget = budget_of(context)
        given = (arg if arg is None else printable(arg) for arg in args)
        result = function(printable(value), *given)
        budget.build(len(result), name)
        return result

    return bounded


@pass_context
def _truncate(
    context: Context,
    value: Any,
    length: Any = 255,
    killwords: Any = False,
    end: Any = "...",
    leeway: Any = None,
) -> str:
    text, ending = printable(value), printable(end)
    _whole_number_argument("truncate", "length", length, 3, MAX_SEQUENCE)
    if leeway is not None:
        _whole_number_argument("truncate", "leeway", leeway, 0, MAX_SEQUENCE)
    if len(ending) > MAX_TRUNCATE_END:
        raise FilterArgumentError(f"truncate: end may have at most {MAX_TRUNCATE_END} characters")
    budget_of(context).build(min(len(text), length + len(ending)), "truncate")
    result: str = jinja_filters.do_truncate(
        context.environment, text, length, bool(killwords), ending, leeway
    )
    return result


def _whole_number_argument(name: str, argument: str, value: Any, low: int, high: int) -> None:
    if type(value) is not int or not low <= value <= high:
        raise FilterArgumentError(
            f"{name}: {argument} must be a whole number from {low} to {high:,}, "
            f"got {value if type(value) in (int, float) else type(value).__name__}"
        )


@pass_context
def _replace(context: Context, value: Any, old: Any, new: Any, count: Any = None) -> str:
    text, before, after = printable(value), printable(old), printable(new)
    if count is not None:
        _whole_number_argument("replace", "count", count, 0, MAX_SEQUENCE)
    hits = text.count(before) if before else len(text) + 1
    if count is not None:
        hits = min(hits, count)
    budget_of(context).build(len(text) + hits * (len(after) - len(before)), "replace")
    return text.replace(before, after, -1 if count is None else count)


@pass_context
def _join(context: Context, value: Any, separator: Any = "", attribute: Any = None) -> str:
    items = bounded_items(value, "join")
    if attribute is not None:
        getter = jinja_filters.make_attrgetter(context.environment, attribute)
        items = [getter(item) for item in items]
    between = printable(separator)
    parts: list[Any] = []
    for index, item in enumerate(items):
        if index:
            parts.append(between)
        parts.append(item)
    return concat(budget_of(context), parts, "join")


@pass_context
def _sum(context: Context, value: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = bounded_items(value, "sum")
    if attribute is not None:
        getter = jinja_filters.make_attrgetter(context.environment, attribute)
        items = [getter(item) for item in items]
    budget = budget_of(context)
    if isinstance(start, list | tuple):
        # sum(start=[]) concatenates: count the result before building it.
        budget.build(len(start) + sum(map(sequence_size, items)), "sum")
    else:
        budget.tick(1 + len(items) // WORK_UNIT)
    return check_number(sum(items, start), "sum")


def _items_filter(
    function: Callable[..., Any], name: str, *, environment: bool = True
) -> Callable[..., list[Any]]:
    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> list[Any]:
        items = bounded_items(value, name)
        budget_of(context).build(len(items), name)
        if environment:
            return list(function(context.environment, items, *args, **kwargs))
        return list(function(items, *args, **kwargs))

    return bounded


@pass_context
def _reverse(context: Context, value: Any) -> Any:
    if isinstance(value, str):
        budget_of(context).build(len(value), "reverse")
        return value[::-1]
    items = bounded_items(value, "reverse")
    budget_of(context).build(len(items), "reverse")
    return items[::-1]


@pass_context
def _int(context: Context, value: Any, default: Any = 0, base: Any = 10) -> Any:
    budget_of(context).tick()
    if isinstance(value, str) and len(value.strip()) > MAX_DIGITS + 1:
        raise BudgetExceededError("number size", f"{MAX_DIGITS} digits", "int of a long text")
    return check_number(jinja_filters.do_int(value, default, base), "int")


@pass_context
def _float(context: Context, value: Any, default: Any = 0.0) -> Any:
    budget_of(context).tick()
    if isinstance(value, str) and len(value.strip()) > MAX_DIGITS + 10:
        raise BudgetExceededError("number size", f"{MAX_DIGITS} digits", "float of a long text")
    return check_number(jinja_filters.do_float(value, default), "float")


@pass_context
def _abs(context: Context, value: Any) -> Any:
    budget_of(context).tick()
    return check_number(abs(value), "abs")


@pass_context
def _round(context: Context, value: Any, precision: Any = 0, method: Any = "common") -> Any:
    # Jinja's round computes 10**precision (floor, ceil) or rounds an int to it: a
    # precision of -999999999 would keep a worker busy for hours.
    _whole_number_argument("round", "precision", precision, -MAX_ROUND_DIGITS, MAX_ROUND_DIGITS)
    budget_of(context).tick()
    return check_number(jinja_filters.do_round(value, precision, method), "round")


def _walking(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``max``/``min``: walk a bounded list, return one of its items."""

    @pass_context
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        items = bounded_items(value, name)
        budget_of(context).tick(1 + len(items) // WORK_UNIT)
        return function(context.environment, items, *args, **kwargs)

    return bounded


def _text(name: str) -> Callable[..., str]:
    function = jinja_filters.FILTERS[name]
    return _text_filter(function, name)


def bounded_filters() -> dict[str, Callable[..., Any]]:
    """The built-in filters reminder templates may use, by name, each within budget.

    Left out on purpose: padding or repeating ones (``center``, ``indent``, ``wordwrap``,
    ``format``), attribute walkers (``attr``, ``map``, ``select`` …) and ``batch``/``slice``.
    ``first``, ``last``, ``length``/``count`` and ``default`` return what they are given.
    """
    builtin = jinja_filters.FILTERS
    return {
        **{name: _text(name) for name in ("capitalize", "lower", "upper", "title", "trim")},
        "string": _text_filter(str, "string"),
        "escape": _text_filter(builtin["escape"], "escape"),
        "e": _text_filter(builtin["escape"], "escape"),
        "truncate": _truncate,
        "replace": _replace,
        "join": _join,
        "sum": _sum,
        "list": _items_filter(list, "list", environment=False),
        "sort": _items_filter(jinja_filters.do_sort, "sort"),
        "unique": _items_filter(jinja_filters.do_unique, "unique"),
        "reverse": _reverse,
        "int": _int,
        "float": _float,
        "abs": _abs,
        "round": _round,
        "max": _walking(jinja_filters.do_max, "max"),
        "min": _walking(jinja_filters.do_min, "min"),
        **{name: builtin[name] for name in ("first", "last", "length", "count", "default", "d")},
    }
