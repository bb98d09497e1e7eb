"""Feed values as text: what a message may show, how a bad value is quoted, JSON as read.

Feeds and preview contexts are untrusted (SPEC §3, §11). Text a template can show must not
carry 【 or 】 (the SMS signature's brackets: a second pair signs as someone else) nor
invisible characters (control characters, bidirectional controls such as U+202E that
reverse the text on a phone, zero-width characters, line separators, private-use and
unassigned code points); spaces, U+3000 included, are fine. Fields are refused
(:func:`refuse_unsafe`), extra columns cleaned (:func:`extra_text`): a column nobody uses
must not cost a row.
"""

from __future__ import annotations

import json
import unicodedata

from remindkit.errors import FieldError

MAX_JSON_INT_DIGITS = 30  # longer JSON integers stay text (int() of 5,000 digits raises)
_SHOWN = 40  # characters of a bad value quoted in a reason
BRACKETS = "【】"


class JsonNumber(str):
    """A JSON number kept as its literal text: fractions (amounts are decimal text, never
    floats; ``1e3`` is no amount) and integers too long to be a count or an id."""

    __slots__ = ()


def _json_int(text: str) -> int | JsonNumber:
    return int(text) if len(text) <= MAX_JSON_INT_DIGITS else JsonNumber(text)


def loads_json(text: str | bytes) -> object:
    """``json.loads`` for feed lines and contexts: numbers stay exact, and a number too long
    or too odd (``NaN``) reaches the field's own check as text. Raises ``ValueError``
    (``json.JSONDecodeError``) or ``RecursionError`` (nesting deeper than Python's stack)."""
    return json.loads(text, parse_float=JsonNumber, parse_int=_json_int, parse_constant=JsonNumber)


def extra_text(value: object) -> str:
    """An extra column's value as text a message can show (see the module docstring)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | list | dict):
        # JSON's own spelling, never a Python repr ("True", "{'a': 1}").
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    if text.isprintable() and "【" not in text and "】" not in text:
        return text
    return "".join(_clean_char(char) for char in text)


def _clean_char(char: str) -> str:
    if char in BRACKETS:
        return "[" if char == "【" else "]"
    if char.isprintable() or unicodedata.category(char) == "Zs":
        return char
    return " " if char.isspace() else ""


def shown(value: object) -> str:
    """A bad value quoted in a reason: its repr, cut to a readable length."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return repr(value[:_SHOWN]) + f"… ({len(value)} characters)"
    text = repr(str(value) if isinstance(value, JsonNumber) else value)
    return text if len(text) <= _SHOWN + 2 else f"{text[:_SHOWN]}…"


def refuse_unsafe(text: str, name: str) -> None:
    """Raise for the first character that would corrupt a message; spaces are fine."""
    for char in text:
        if char in BRACKETS:
            raise FieldError(name, f"must not contain {char}: 【】 mark the SMS signature")
        if not char.isprintable() and unicodedata.category(char) != "Zs":
            what = unicodedata.name(char, unicodedata.category(char))
            raise FieldError(
                name,
                f"contains U+{ord(char):04X} ({what}), an invisible or control character "
                "that can hide or reorder text on a phone",
            )
