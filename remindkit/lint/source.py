"""A template file as the linter reads it: its literal text and its output expressions.

The writer's words are the ``data`` tokens of the Jinja lexer (the metadata block is a
comment and is skipped) plus string constants inside tags (``{{ x or "借款" }}``).
Each ``{{ … }}`` becomes one placeholder character, and block tags become a boundary so
a push title never reads on into its body. Lines are the file's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from remindkit.lint.scantext import BOUNDARY, PLACEHOLDER, ScanText

_QUOTES = "\"'"


@dataclass(frozen=True, slots=True)
class Expression:
    """The source of one ``{{ … }}`` and its line."""

    line: int
    source: str


@dataclass(frozen=True, slots=True)
class TemplateSource:
    text: ScanText
    expressions: tuple[Expression, ...]


def read_source(environment: jinja2.Environment, source: str, body_line: int) -> TemplateSource:
    """Literal text and expressions of ``source``; on a lexer error, the raw body as text."""
    try:
        tokens = list(environment.lex(source))
    except jinja2.TemplateSyntaxError:
        return TemplateSource(_raw_body(source, body_line), ())
    pieces: list[tuple[str, int]] = []
    expressions: list[Expression] = []
    current: list[str] | None = None
    start_line = 0
    for line, kind, value in tokens:
        if kind == "data":
            pieces.append((value, line))
        elif kind == "variable_begin":
            current, start_line = [], line
            pieces.append((PLACEHOLDER, line))
        elif kind == "variable_end" and current is not None:
            expressions.append(Expression(start_line, "".join(current).strip()))
            current = None
        elif kind == "block_begin":
            pieces.append((BOUNDARY, line))
        elif current is not None:
            current.append(value)
        if kind == "string":
            pieces += [(BOUNDARY, line), (_unquote(value), line), (BOUNDARY, line)]
    return TemplateSource(ScanText.build(pieces), tuple(expressions))


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] in _QUOTES and token[-1] == token[0]:
        return token[1:-1]
    return token


def _raw_body(source: str, body_line: int) -> ScanText:
    lines = source.splitlines(keepends=True)[max(body_line - 1, 0) :]
    return ScanText.of("".join(lines), body_line)
