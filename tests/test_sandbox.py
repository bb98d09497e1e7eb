"""The template sandbox against server-side template injection (SPEC §4.2, §11).

Every attack must end in a ``TemplateSecurityError`` naming the template and the line, with
a message for the content team (no Python reprs), and quickly: the static check refuses
most before anything runs, the run-time budgets stop the rest. Each render runs in a
worker thread joined with a generous bound so a regression fails instead of hanging.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jinja2
import pytest

from remindkit.errors import (
    TemplateBudgetError,
    TemplateError,
    TemplateSecurityError,
    UndefinedVariableError,
)
from remindkit.models import Installment, Platform
from remindkit.render import MessageContext, Renderer, TemplateCatalog
from remindkit.render.budget import MAX_NESTING
from remindkit.render.sandbox import Violation, build_environment, check_template, deepest

TemplatesFactory = Callable[..., Path]
InstallmentFactory = Callable[..., Installment]
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=8)))
BODY_LINE = 11  # the standard metadata block takes lines 1-10
HANG_BOUND_SECONDS = 60  # a safety net against a hung suite, not a speed assertion


def render_bounded(
    tmp_templates: TemplatesFactory, platform: Platform, installment: Installment, body: str
) -> str:
    """Render ``body`` as an SMS template in a worker thread; re-raise what it raised."""
    root = tmp_templates({"pre_due/sms.j2": body})
    renderer = Renderer(TemplateCatalog(root), platform)
    context = MessageContext(installments=(installment,), now=NOW)
    outcome: list[object] = []

    def work() -> None:
        try:
            outcome.append(renderer.render("pre_due/sms", context).text)
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(HANG_BOUND_SECONDS)
    assert not worker.is_alive(), f"rendering {body!r} hung"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    assert isinstance(outcome[0], str)
    return outcome[0]


def refused(
    tmp_templates: TemplatesFactory, platform: Platform, installment: Installment, body: str
) -> TemplateSecurityError:
    with pytest.raises(TemplateSecurityError) as caught:
        render_bounded(tmp_templates, platform, installment, body)
    error = caught.value
    assert error.template_id == "pre_due/sms"
    for internal in ("0x", "Traceback", "<class", "<function", "<built-in", "object at"):
        assert internal not in str(error)
    return error


def private(attr: str) -> str:
    return f"access to private attribute '{attr}' is not allowed"


def unavailable(what: str) -> str:
    return f"{what} is not available in reminder templates"


def method(name: str) -> str:
    return f"calling methods ('{name}()') is not allowed in reminder templates"


def read(name: str) -> str:
    return f"access to '{name}' is not allowed in reminder templates"


REPEAT = "repeating text or lists with * is not allowed"
BY_ATTRIBUTE = "access to private attribute by attribute= is not allowed"
NO_CALLS = "function calls other than range() and macros are not allowed in reminder templates"
NO_FORMAT = "formatting text with % is not allowed in reminder templates"
NO_INCLUDE = "templates may not include, import or extend other templates"
PRINT_FUNCTION = "printing a function is not allowed in reminder templates"
STEPS = "loop steps budget (2,000 loop iterations and macro calls): simplify the loops"


STATIC = [
    ("{{ ''.__class__.__mro__ }}", private("__mro__")),
    ("{{ cycler.__init__.__globals__ }}", private("__globals__")),
    ("{{ self.__dict__ }}", private("__dict__")),
    ("{{ lipsum.__globals__ }}", private("__globals__")),
    ("{{ lipsum }}", unavailable("'lipsum'")),
    ("{{ cycler }}", unavailable("'cycler'")),
    ("{{ range(10**9)|list }}", "the power operator is not available in reminder templates"),
    ("{{ range(100000000) }}", "range() larger than 1000 is not allowed"),
    ("{{ 'a' * 1000000000 }}", REPEAT),
    ("{{ 'a' * (loan.installment_no * 100000000) }}", REPEAT),
    ("{{ [1, 2] * 100000000 }}", REPEAT),
    ("{% for i in 'x'*99 %}{{ i }}{% endfor %}",
     "loops may only iterate over context data (such as loans) or a small range()"),
    ("{{ loan.__class__ }}", private("__class__")),
    ("{{ loan.amount_due.__class__ }}", private("__class__")),
    ("{{ loan['__class__'] }}", "access to private attribute by subscript is not allowed"),
    ("{{ loan.extra['_secret'] }}", "access to private attribute by subscript is not allowed"),
    ("{{ ''.format() }}", method("format")),
    ("{{ '{:>999999999}'.format(1) }}",
     method("format")),
    ("{{ now.strftime('%Y') }}", method("strftime")),
    ("{{ loan.extra.items() }}", method("items")),
    ("{{ loans|map(attribute='__class__')|list }}", unavailable("filter 'map'")),
    ("{{ loan|attr('__class__') }}", unavailable("filter 'attr'")),
    ("{{ loans|groupby('__class__') }}", unavailable("filter 'groupby'")),
    ("{{ '%s'|format(1) }}", unavailable("filter 'format'")),
    ("{{ borrower.name|center(1000000000) }}", unavailable("filter 'center'")),
    ("{{ loans|join(attribute='__class__') }}", BY_ATTRIBUTE),
    ("{{ loans|sort(attribute='__class__') }}", BY_ATTRIBUTE),
    ("{{ loans|max(attribute='__class__') }}", BY_ATTRIBUTE),
    ("{{ loans|sum(attribute='amount_due.__class__') }}",
     BY_ATTRIBUTE),
    ("{{ config }}", unavailable("'config'")),
    ("{{ request }}", unavailable("'request'")),
    ("{% set ns = namespace() %}", NO_CALLS),
    ("{{ '%999999999s' % 'a' }}", NO_FORMAT),
    ("{% include '/etc/passwd' %}", NO_INCLUDE),
    ("{% extends 'base.j2' %}", NO_INCLUDE),
    ("{% import 'x.j2' as x %}", NO_INCLUDE),
    ("{{ range }}", PRINT_FUNCTION),
    ("{% set f = range %}{{ f }}", PRINT_FUNCTION),
    ("{% macro m() %}x{% endmacro %}{{ m }}", PRINT_FUNCTION),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), STATIC)
def test_refused_before_running(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    message: str,
) -> None:
    error = refused(tmp_templates, platform, installment(), body)
    assert (error.line, error.message) == (BODY_LINE, message)


@pytest.mark.parametrize(("body", "message"), STATIC)
def test_check_template_reports_the_same_violation_with_its_line(body: str, message: str) -> None:
    env = build_environment()
    violations = list(check_template(env.parse("\n" * 4 + body), lambda n: n in env.filters))
    assert violations[0] == Violation(5, message)


BLOCKED = "blocked by the template sandbox: "
RUN_TIME = [
    # Reading a method (even without calling it) would print a Python repr.
    ("{{ ''.format }}", read("format")),
    ("{{ now.replace }}", read("replace")),
    ("{{ loan.extra.get }}", read("get")),
    ("{{ loans.append }}", read("append")),
    # Private names built at run time, as a subscript or as a filter's attribute=.
    ("{% set a = '__cla' ~ 'ss__' %}{{ loan[a] }}",
     read("__class__")),
    ("{% set a = '__cla' ~ 'ss__' %}{{ loans|join(attribute=a) }}",
     read("__class__")),
    ("{% set a = '__cla' ~ 'ss__' %}{{ loans|max(attribute=a) }}",
     read("__class__")),
    ("{{ borrower.name % 1 }}", NO_FORMAT),
    # Objects print as nothing useful: refused, never a repr.
    ("{{ borrower }}", "printing borrower is not allowed: print one of its fields, such as "
     "loan.tail"),
    ("{{ (borrower|string)|replace('1', '一') }}", "printing borrower is not allowed: print one "
     "of its fields, such as loan.tail"),
    ("{{ loan.installments_total if false else none }}",
     "printing an empty value (None) is not allowed: test it with {% if %} first"),
]  # fmt: skip

SEQUENCE = "value size budget (10,000 characters or items)"
# (body, budget, the message after "over the "): sizes from the context exist only at run time.
BUDGETS = [
    ("{% set n = loan.installment_no * 100000000 %}{{ borrower.name * n }}", "value size",
     f"{SEQUENCE}: repeating a sequence of 2 300,000,000 times"),
    ("{{ loans * 100000000 }}", "value size",
     f"{SEQUENCE}: repeating a sequence of 1 100,000,000 times"),
    ("{{ range(loan.installment_no * 100000000)|list }}", "value size",
     "value size budget (range() of at most 1,000 items): range() of 300,000,000"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
     "{% endfor %}{% endfor %}{% endfor %}", "loop steps", STEPS),
    ("{% set L = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] %}{% for a in L %}{% for b in L %}"
     "{% for c in L %}{% for d in L %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
     "loop steps", STEPS),
    ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(40) }}",
     "loop steps", STEPS),
    ("{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ d('a', 40) }}",
     "value size", f"{SEQUENCE}: '~' would build 16,384"),
    ("{% macro d(s, n) %}{% if n %}{{ d(s + s, n - 1) }}{% endif %}{% endmacro %}{{ d('a', 40) }}",
     "value size", f"{SEQUENCE}: '+' would build 16,384"),
    ("{% macro m(n) %}{% if n %}{{ m(n * n) }}{% endif %}{% endmacro %}{{ m(99) }}",
     "number size", "number size budget (30 digits): '*' makes a number too large"),
    ("{% set s = borrower.name * 5000 %}{{ range(10)|join(s) }}", "value size",
     f"{SEQUENCE}: join would build 90,010"),
    ("{{ (borrower.name * 4000)|replace('王', borrower.name * 3) }}", "value size",
     f"{SEQUENCE}: replace would build 28,000"),
    ("{% set s = borrower.name * 5000 %}{% for i in range(999) %}{{ s }}{{ s }}{% endfor %}",
     "output size", "output size budget (100,000 characters): the message text grows too long"),
    ("{% for i in range(200) %}{% set s = borrower.name * 5000 %}{% endfor %}",
     "values built", "values built budget (1,000,000 characters and items per message): '*' "
     "adds up past the limit"),
    ("{{ 10 * 1" + "0" * 29 + " }}", "number size",
     "number size budget (30 digits): '*' makes a number too large"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "budget", "message"), BUDGETS)
def test_budgets_end_the_render_naming_the_budget(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    budget: str,
    message: str,
) -> None:
    error = refused(tmp_templates, platform, installment(), body)
    assert isinstance(error, TemplateBudgetError)
    assert (error.line, error.budget, error.message) == (BODY_LINE, budget, "over the " + message)


# round(9, -999999999) builds 10**999999999; truncate(-5) fails Jinja's own assert.
BAD_ARGUMENTS = [
    ("{{ loan.installment_no|round(-11) }}",
     "round: precision must be a whole number from -10 to 10, got -11"),
    ("{{ loan.amount_due|round(11, 'floor') }}",
     "round: precision must be a whole number from -10 to 10, got 11"),
    ("{{ loan.amount_due|round(1.5) }}",
     "round: precision must be a whole number from -10 to 10, got 1.5"),
    ("{{ borrower.name|truncate(-5) }}",
     "truncate: length must be a whole number from 3 to 10,000, got -5"),
    ("{{ borrower.name|truncate(5, leeway=-1) }}",
     "truncate: leeway must be a whole number from 0 to 10,000, got -1"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_ARGUMENTS)
def test_filter_arguments_out_of_range_say_so(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    message: str,
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_bounded(tmp_templates, platform, installment(), body)
    assert (caught.value.line, caught.value.message) == (BODY_LINE, message)


@pytest.mark.parametrize(("body", "message"), RUN_TIME)
def test_refused_while_running(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    message: str,
) -> None:
    error = refused(tmp_templates, platform, installment(), body)
    assert (error.line, error.message) == (BODY_LINE, BLOCKED + message)
    assert isinstance(error.__cause__, jinja2.exceptions.SecurityError)


def test_round_still_rounds(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    renderer = Renderer(
        TemplateCatalog(tmp_templates({"pre_due/sms.j2": "{{ loan.amount_due|round(1) }}"})),
        platform,
    )
    context = MessageContext(installments=(installment(),), now=NOW)
    assert renderer.render("pre_due/sms", context).text == "【禾苗金融】1234.5"


def test_endless_recursion_is_stopped(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}"
    error = refused(tmp_templates, platform, installment(), body)
    assert isinstance(error, TemplateBudgetError)
    assert error.budget in ("loop steps", "nesting")


def test_nesting_past_the_budget_is_refused_before_it_compiles(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    # Jinja's optimizer is quadratic in an expression's depth: 300 chained filters took
    # ~0.6 s to compile before Python refused them. The budget refuses them first, on the
    # line of the deepest node.
    chain = "{{ borrower.name" + "|trim" * 300 + " }}"
    error = refused(tmp_templates, platform, installment(), "好\n\n" + chain)
    assert isinstance(error, TemplateBudgetError)
    assert (error.budget, error.line) == ("nesting", BODY_LINE + 2)
    expected = f"over the nesting budget ({MAX_NESTING} levels): nested 304 levels deep"
    assert error.message == expected
    # Template, Output, the filters, Getattr, Name: exactly at the budget the chain renders.
    at_budget = "{{ borrower.name" + "|trim" * (MAX_NESTING - 4) + " }}"
    assert render_bounded(tmp_templates, platform, installment(), at_budget) == "【禾苗金融】王芳"
    over = refused(tmp_templates, platform, installment(), at_budget.replace("}}", "|trim }}"))
    assert isinstance(over, TemplateBudgetError)
    assert over.budget == "nesting"


def test_a_template_s_depth_is_counted_without_recursion() -> None:
    environment = jinja2.Environment(autoescape=False)
    assert deepest(environment.parse("{{ a }}")) == (3, 1)  # Template, Output, Name; its line
    deep = environment.parse("x\n{{ " + "(" * 50 + "a|trim" + ")" * 50 + " }}")
    assert deepest(deep) == (4, 2)  # parentheses add no node: Template, Output, Filter, Name
    # Jinja parses a filter chain with a loop: a tree deeper than Python's recursion limit.
    chain = environment.parse("{{ a" + "|trim" * 3000 + " }}")
    assert deepest(chain) == (3003, 1)


def test_the_violation_names_its_own_line(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = (
        "{{ borrower.honorific }}您好，\n应还{{ loan.amount_due|yuan }}，\n{{ loan.__class__ }}\n"
    )
    error = refused(tmp_templates, platform, installment(), body)
    assert error.line == BODY_LINE + 2
    assert str(error) == "pre_due/sms:13: access to private attribute '__class__' is not allowed"


def test_a_run_time_refusal_names_its_own_line(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    body = "您好，\n{% set n = loan.installment_no * 100000000 %}\n\n{{ borrower.name * n }}\n"
    error = refused(tmp_templates, platform, installment(), body)
    assert error.line == BODY_LINE + 3


def test_unknown_names_are_undefined_not_leaked(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    with pytest.raises(UndefinedVariableError) as caught:
        render_bounded(tmp_templates, platform, installment(), "{{ settings.SECRET_KEY }}")
    assert (caught.value.variable, caught.value.line) == ("settings", BODY_LINE)


def test_the_budget_is_per_render_not_per_renderer(
    tmp_templates: TemplatesFactory, platform: Platform, installment: InstallmentFactory
) -> None:
    # 1,500 steps fit in one render; a shared budget would fail on the second render.
    root = tmp_templates(
        {"pre_due/sms.j2": "{% for i in range(1000) %}{% endfor %}{% for i in range(499) %}"
                           "{% endfor %}ok"}
    )  # fmt: skip
    renderer = Renderer(TemplateCatalog(root), platform)
    context = MessageContext(installments=(installment(),), now=NOW)
    texts = {renderer.render("pre_due/sms", context).text for _ in range(3)}
    assert texts == {"【禾苗金融】ok"}


ALLOWED = [
    ("{% for l in loans %}{{ loop.index }}/{{ loop.length }}:{{ l.tail }}{% endfor %}", "1/1:0001"),
    ("{% for i in range(3)|reverse %}{{ i }}{% if loop.last %}!{% endif %}{% endfor %}", "210!"),
    ("{% for l in loans if l.amount_due > 0 %}{{ l.tail }}{% else %}无{% endfor %}", "0001"),
    ("{% macro greet(x) %}<{{ x ~ '!' }}>{% endmacro %}{{ greet(borrower.surname) }}", "<王!>"),
    ("{% set t %}{{ loan.tail }}{% endset %}{{ t }}", "0001"),
    ("{{ loan.installment_no % 2 }}{{ loan.installment_no + 1 }}{{ loan.installment_no * 2 }}",
     "146"),
    ("{{ borrower.name|replace('王', '汪') }}{{ range(3)|join('-') }}", "汪芳0-1-2"),
    ("{{ loans|sum(attribute='amount_due')|yuan }}", "1,234.50元"),
    ("{{ (borrower.surname ~ '-') * 3 }}", "王-王-王-"),
    ("{{ now.year }}{{ loan.due_date.month }}{{ loan.extra|length }}", "2026120"),
    ("{% filter upper %}app{% endfilter %}", "APP"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), ALLOWED)
def test_ordinary_constructs_still_work(
    tmp_templates: TemplatesFactory,
    platform: Platform,
    installment: InstallmentFactory,
    body: str,
    expected: str,
) -> None:
    text = render_bounded(tmp_templates, platform, installment(), body)
    assert text == "【禾苗金融】" + expected


def test_every_refusal_is_a_template_error_for_callers() -> None:
    assert issubclass(TemplateSecurityError, TemplateError)
