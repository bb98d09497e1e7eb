"""Hostile SMS template bodies: growth, reprs, internals, budgets (issue: hostile input).

Each must be refused (a ``TemplateSecurityError`` or another template error naming the
template) or rendered harmlessly: quickly, in little memory, without a Python repr or the
borrower's full phone number in the output. The metadata block is added by the tests.
"""

from __future__ import annotations

S10 = "xxxxxxxxxx"
# The standard metadata block (as tests/conftest.py writes it): the body starts on line 11.
META = """{#-
description: test template
tone: gentle
weight: 1
audience: borrower
purpose: notification
max_parts: 1
parts_reason: ""
lint: {}
-#}
"""


def _nested_sets(name: str, seed: str, step: str, times: int) -> str:
    return f"{{% set {name} = {seed} %}}" + "".join(
        f"{{% set {name} = {step} %}}" for _ in range(times)
    )


def _block_sets(levels: int) -> str:
    body = "{% set s %}" + S10 + "{% endset %}"
    for _ in range(levels):
        body += "{% set s %}" + "{{ s }}" * 10 + "{% endset %}"
    return body + "{{ s }}"


def _long_literal() -> str:
    # A string built by ~ (literal repetition is refused before anything runs), then
    # printed inside nested lists: the repr of the whole tree.
    build = '{% set s = "' + "x" * 100 + '" %}' + "{% set s = s~s~s~s~s~s~s~s~s~s %}" * 2
    tree = "[" * 6 + "s,s,s" + "]" * 6
    return build + "{{ " + tree + " }}"


HOSTILE: list[tuple[str, str]] = [
    # -- growth: lists, strings, numbers -----------------------------------------------------
    ("list sum growth", "{% set a = [1,1,1,1,1,1,1,1,1,1] %}"
     + "{% set a = [a,a,a,a,a,a,a,a,a,a]|sum(start=[]) %}" * 8 + "{{ a|length }}"),
    ("list sum growth, two steps", "{% set a = [1,1,1,1,1,1,1,1,1,1] %}"
     + "{% set a = [a,a,a,a,a,a,a,a,a,a]|sum(start=[]) %}" * 4 + "{{ a|length }}"),
    ("block-set growth", _block_sets(8)),
    ("block-set growth, small", _block_sets(5)),
    ("concat growth", _nested_sets("s", f'"{S10}"', "s~s~s~s~s~s~s~s~s~s", 8) + "{{ s|length }}"),
    ("plus growth", _nested_sets("s", f'"{S10}"', "s+s+s+s+s+s+s+s+s+s", 8) + "{{ s|length }}"),
    ("list plus growth", _nested_sets("a", "[1,2,3,4,5,6,7,8,9,0]", "a+a+a+a+a+a+a+a+a+a", 8)
     + "{{ a|length }}"),
    ("amount squared", _nested_sets("a", "loan.amount_due", "a * a", 18) + "{{ a }}"),
    ("amount squared, printed by yuan", _nested_sets("a", "loan.amount_due", "a * a", 6)
     + "{{ a|yuan }}{{ a|rmb_upper }}"),
    ("int squared", _nested_sets("a", "99", "a * a", 20) + "{{ a }}"),
    ("int from amount squared", _nested_sets("a", "loan.amount_due|int", "a * a", 20) + "{{ a }}"),
    ("float overflow", _nested_sets("a", "1.5", "a * a * a * a", 12) + "{{ a }}"),
    ("total_due squared", _nested_sets("a", "total_due", "a * a * a", 10) + "{{ a|yuan }}"),
    ("decimal division", "{{ loan.amount_due / (loan.amount_due - loan.amount_due) }}"),
    ("decimal floor division growth",
     _nested_sets("a", "loan.amount_due", "a * a // 1", 16) + "{{ a }}"),
    ("huge int literal", "{{ " + "9" * 4000 + " }}"),
    ("huge int literal, multiplied", "{{ " + "9" * 400 + " * " + "9" * 400 + " }}"),
    ("int filter of a long digit string",
     _nested_sets("s", '"9999999999"', "s~s~s~s~s~s~s~s~s~s", 3) + "{{ (s|int) * 7 }}"),
    ("nested list of a long string", _long_literal()),
    ("nested list literal", "{{ " + "[" * 200 + "1" + "]" * 200 + " }}"),
    ("deep parentheses", "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}"),
    ("deep filters", "{{ borrower.name" + "|lower" * 3000 + " }}"),
    ("repeat by a context number", "{{ loan.id * (loan.installment_no * 100000) }}"),
    ("repeat a list by a number", "{% set l = [loan.id] * 10000 %}{{ l|join(l|join) }}"),
    ("join growth", _nested_sets("s", f'"{S10}"', "s~s~s~s~s~s~s~s~s~s", 3)
     + "{% set l = [s,s,s,s,s,s,s,s,s,s] %}{{ l|join(s) }}"),
    ("replace growth", _nested_sets("s", f'"{S10}"', "s~s~s", 6) + '{{ s|replace("x", s) }}'),
    ("replace growth, empty needle", _nested_sets("s", f'"{S10}"', "s~s~s", 6)
     + '{{ s|replace("", "yyyyyyyyyy") }}'),
    ("truncate huge end", _nested_sets("s", f'"{S10}"', "s~s~s", 8)
     + "{{ borrower.name|truncate(5, end=s) }}"),
    ("many concats in one expression", "{{ " + "~".join(["loan.id"] * 3000) + " }}"),
    ("built values add up", "".join(
        f"{{% set v{n} = \"{S10}\"~\"{S10}\" %}}{{% set w{n} = v{n}~v{n}~v{n}~v{n}~v{n} %}}"
        "{% set z = w0 %}" for n in range(400)) + "{{ z|length }}"),
    ("upper expansion", _nested_sets("s", '"ﬃﬃﬃﬃﬃﬃﬃﬃﬃﬃ"', "(s~s~s)|upper", 8) + "{{ s|length }}"),
    ("sorted large list", "{% set l = range(1000)|list %}{% set l = l+l+l+l+l+l+l+l+l+l %}"
     + "{{ (l|sort|unique|list|length) }}" * 50),
    # -- loops and calls -------------------------------------------------------------------
    ("nested loops", "{% for i in range(1000) %}{% for j in range(1000) %}x"
     "{% endfor %}{% endfor %}"),
    ("blocks nested past Python's limit", "{% if true %}" * 30 + "x" + "{% endif %}" * 30),
    ("loop over repeated loans", "{% for l in loans * 10000 %}{{ l.id }}{% endfor %}"),
    ("loop over a computed range",
     "{% for i in range(loan.installment_no * 1000000) %}{% endfor %}"),
    ("recursive macro", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"),
    ("macro fan-out", "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}"
     "{{ f(40) }}"),
    ("macro output growth", "{% macro f() %}" + "{{ borrower.name }}" * 200 + "{% endmacro %}"
     + "{% for i in range(1000) %}{{ f() }}{% endfor %}"),
    ("call block growth", "{% macro m() %}{{ caller() }}{{ caller() }}{% endmacro %}"
     + "{% call m() %}{% call m() %}{% call m() %}{% call m() %}" + S10 * 1000
     + "{% endcall %}{% endcall %}{% endcall %}{% endcall %}"),
    ("filter block growth", "{% filter upper %}{% for i in range(1000) %}" + S10 * 20
     + "{% endfor %}{% endfilter %}"),
    ("block set inside a loop", "{% set s %}{% for i in range(1000) %}{{ borrower.name }}"
     "{% endfor %}{% endset %}{% for i in range(1000) %}{{ s }}{% endfor %}"),
    ("many top-level outputs", _nested_sets("s", f'"{S10}"', "s~s~s~s~s~s~s~s~s~s", 3)
     + "{{ s }}" * 2000),
    ("slow sort in a loop", "{% set l = range(1000)|list %}{% set l = l+l+l+l+l+l+l+l+l+l %}"
     "{% for i in range(1000) %}{{ (l|sort|first) }}{% endfor %}"),
    # -- objects that would print Python reprs ---------------------------------------------
    ("print loan", "{{ loan }}"),
    ("print borrower", "{{ borrower }}"),
    ("print platform", "{{ platform }}"),
    ("print loans", "{{ loans }}"),
    ("print loan.extra", "{{ loan.extra }}"),
    ("print loans[0]", "{{ loans[0] }}"),
    ("print loans|first", "{{ loans|first }}"),
    ("print loans|reverse", "{{ loans|reverse }}"),
    ("print loans|unique", "{{ loans|unique }}"),
    ("print a range", "{{ range(3) }}"),
    ("print a list", "{{ [1, 2, 3] }}"),
    ("print a dict literal", "{{ {'a': borrower.name} }}"),
    ("print now.tzinfo", "{{ now.tzinfo }}"),
    ("print the loop", "{% for l in loans %}{{ loop }}{% endfor %}"),
    ("print varargs", "{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, x=2) }}"),
    ("borrower as string, digits replaced", "{{ (borrower|string)|replace('1', '一') }}"),
    ("borrower concatenated", '{{ "" ~ borrower }}'),
    ("borrower lowered", "{{ borrower|lower }}"),
    ("borrower joined", "{{ [borrower]|join(',') }}"),
    ("loan escaped", "{{ loan|e }}"),
    ("platform upper", "{{ platform|upper }}"),
    ("extra as string", "{{ loan.extra|string }}"),
    ("loans sum with start list", "{{ loans|sum(start=[]) }}"),
    ("phone with digits replaced", "{{ borrower.phone|replace('1', '一')|replace('3', '三')"
     "|replace('8', '八')|replace('0', '〇') }}"),
    ("phone reversed", "{{ borrower.phone|reverse|join }}"),
    ("phone in pieces", "{{ borrower.phone[:7] }} {{ borrower.phone[7:] }}"),
    ("phone spelled out", "{% for c in borrower.phone %}{{ c }} {% endfor %}"),
    # -- internals and the file system --------------------------------------------------------
    ("class of a string", "{{ ''.__class__.__mro__ }}"),
    ("attr filter", "{{ loan|attr('__class__') }}"),
    ("subscript dunder", "{{ borrower['__class__'] }}"),
    ("self", "{{ self }}"),
    ("lipsum globals", "{{ lipsum.__globals__ }}"),
    ("cycler", "{{ cycler.__init__.__globals__.os }}"),
    ("namespace", "{% set ns = namespace(a=1) %}{{ ns }}"),
    ("include", "{% include 'pre_due/push.j2' %}"),
    ("import", "{% import 'pre_due/push.j2' as x %}"),
    ("extends", "{% extends 'pre_due/push.j2' %}"),
    ("method call", "{{ loan.due_date.replace(year=1) }}"),
    ("method print", "{{ loan.due_date.replace }}"),
    ("format string", "{{ '%99999999s' % 1 }}"),
    ("format via variable", "{% set f = '%99999999s' %}{{ f % 1 }}"),
    ("power", "{{ 10 ** 100000 }}"),
    ("string repetition", "{{ 'x' * 100000000 }}"),
    ("big range", "{{ range(100000000)|length }}"),
    ("round huge precision", "{{ loan.amount_due|round(-999999999) }}"),
    ("truncate negative", "{{ borrower.name|truncate(-5) }}"),
    ("truncate negative leeway", "{{ borrower.name|truncate(5, leeway=-5) }}"),
    ("map filter", "{{ loans|map(attribute='id')|join }}"),
    ("center filter", "{{ borrower.name|center(100000000) }}"),
    # -- the metadata block ------------------------------------------------------------------
    ("yaml alias bomb", None),
    ("oversized file", None),
]  # fmt: skip

YAML_BOMB = """{#-
description: test template
tone: [&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"],
       &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b],
       &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d],
       &f [*e,*e,*e,*e,*e,*e,*e,*e,*e], &g [*f,*f,*f,*f,*f,*f,*f,*f,*f],
       &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]]
-#}
{{ borrower.honorific }}您好
"""


def source_of(name: str, body: str | None, meta: str) -> str:
    """The whole file: the standard metadata block and the body, or the special cases."""
    if name == "yaml alias bomb":
        return YAML_BOMB
    if name == "oversized file":
        return meta + "您好" * 5_000_000
    assert body is not None
    return meta + body
