"""Turn pydantic validation errors into ``ConfigError("dotted.key[i]", reason)``.

Keys are written the way the operator wrote them in TOML: ``cadence.default.steps[2].send_time``.
Validators raise :func:`config_error` to choose their own wording, and may extend the
location (``at``) when a model-level check is about one field.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from remindkit.errors import ConfigError

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def config_error(reason: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A validation error with our own wording; ``at`` extends the location (model checks)."""
    return PydanticCustomError("remindkit_config", "{reason}", {"reason": reason, "at": at})


def shown(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def first_error(exc: ValidationError, root: type[BaseModel]) -> ConfigError:
    """The first problem pydantic found, keyed by its path in the file rooted at ``root``."""
    error = exc.errors()[0]
    loc: tuple[str | int, ...] = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    loc = tuple(part for part in loc if part not in ("[key]", "[keys]")) + tuple(ctx.get("at", ()))
    return ConfigError(dotted_key(loc), _reason(error, loc, root))


def dotted_key(loc: Sequence[str | int]) -> str:
    """``("cadence", "default", "steps", 2, "x")`` → ``cadence.default.steps[2].x``."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            name = part if _PLAIN_KEY.fullmatch(part) else f'"{part}"'
            key += f".{name}" if key else name
    return key


def _reason(error: Mapping[str, Any], loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "remindkit_config":
        return str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc, root)
    if kind == "missing":
        return "required"
    if kind == "too_short":
        return "must not be empty"
    value = error.get("input")
    if isinstance(value, str | int | float | bool):
        return f"{error['msg']}, got {shown(value)}"
    return str(error["msg"])


def _suggestion(loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    known = _known_keys(loc[:-1], root)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


def _known_keys(parent: tuple[str | int, ...], root: type[BaseModel]) -> list[str]:
    """Field names of the model at ``parent`` inside the file, for "did you mean" hints."""
    current: Any = root
    for part in parent:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = None if field is None else _unwrap(field.annotation)
        else:
            args = typing.get_args(current)
            current = _unwrap(args[-1] if isinstance(part, str) else args[0]) if args else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``; other annotations unchanged."""
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation
