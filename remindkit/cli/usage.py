"""Usage errors and ``--help`` labels, once for every command (SPEC §9).

Every command registered on the app gets, without doing anything:

- **one line on stderr, exit 2** for a usage error the parser finds (a missing option, a
  value out of range, an unknown choice, a directory where a file is wanted): no usage
  box, no traceback. :func:`run` is the program's entry point and catches them all;
- **readable labels** in ``--help`` (``FILE``, ``DIR``, ``N``, ``text|json``, none for a
  flag) instead of Python type names (``<bool>``, ``<list[Path]>``): :class:`ReadableGroup`
  relabels a command's parameters when the command is looked up, so commands stay lazy.

Errors a command finds itself go through :func:`remindkit.cli.common.fail`, which prints
the same ``error: …`` line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
import typer.core

EXIT_USAGE = 2
_INVALID = re.compile(r"\AInvalid value for (?:'([^']+)'|(\S+)): (.*)\Z", re.DOTALL)
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# The parser validates with pydantic and says so in its words; a person reads these instead.
_PLAIN_WORDS = (
    (re.compile(r"input should be greater than or equal to (\S+)"), r"must be at least \1"),
    (re.compile(r"input should be less than or equal to (\S+)"), r"must be at most \1"),
    (re.compile(r"input should be greater than (\S+)"), r"must be more than \1"),
    (re.compile(r"input should be a valid integer.*"), "must be a whole number"),
    (re.compile(r"input should be a valid number.*"), "must be a number"),
)
_MISSING_OPTION = re.compile(r"\AMissing option '([^']+)'\Z")
_MISSING_ARGUMENT = re.compile(r"\AMissing argument '([^']+)'\Z")
_LABELS = {"bool": "", "file": "FILE", "dir": "DIR", "path": "PATH", "str": "TEXT"}


class ReadableGroup(typer.core.TyperGroup):
    """The command group: each command it hands out has readable ``--help`` labels."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            relabel(command)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        relabel(self)
        super().format_help(ctx, formatter)


def relabel(command: Any) -> None:
    """Give every parameter of ``command`` a label a person reads (idempotent)."""
    if getattr(command, "_remindkit_relabelled", False):
        return
    command._remindkit_relabelled = True
    # The parser adds --help when it lists the parameters: relabel what it lists, each time.
    # Instance attributes override the methods for this command and its parameters alone.
    listed = command.get_params

    def get_params(ctx: Any) -> Any:
        params = listed(ctx)
        for param in params:
            _relabel_param(param)
        return params

    command.get_params = get_params
    if hasattr(command, "list_commands") and not isinstance(command, ReadableGroup):
        # A sub-app (``remindkit outbox list``): its own commands are relabelled likewise.
        found = command.get_command

        def get_command(ctx: Any, cmd_name: str) -> Any:
            sub = found(ctx, cmd_name)
            if sub is not None:
                relabel(sub)
            return sub

        command.get_command = get_command


def _relabel_param(param: Any) -> None:
    if getattr(param, "_remindkit_label", None) is not None:
        return
    try:
        label = _label(param)
    except (AttributeError, TypeError):  # a parameter type typer may add later
        return
    param._remindkit_label = label
    # The type column of ``--help`` comes from display_type (typer ≥ 0.20).
    param.display_type = lambda ctx, label=label: label


def _label(param: Any) -> str:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        label = "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ())
    elif descriptor.is_path:
        label = _LABELS.get(descriptor.path_type, "PATH")
    else:
        name = param.bare_type()
        inner = re.fullmatch(r"list\[(\w+)\]", name)
        label = _type_label(inner[1] if inner else name)
    many = descriptor.is_list or getattr(param, "nargs", 1) != 1
    return f"{label}..." if many and label else label


def _type_label(name: str) -> str:
    if name in ("int", "float", "Decimal"):
        return "N"
    if name == "Path":
        return "PATH"
    return _LABELS.get(name, name.upper())


def run(app: typer.Typer, args: Sequence[str] | None = None) -> NoReturn:
    """Run the CLI: exit with the command's code; a usage error is one line, exit 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name="remindkit", standalone_mode=False)
    except typer.TyperException as exc:
        sys.exit(_report(exc))
    except typer.Abort:
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _report(exc: typer.TyperException) -> int:
    code = getattr(exc, "exit_code", EXIT_USAGE)
    if type(exc).__name__ == "NoArgsIsHelpError":
        # ``remindkit`` alone: the help is the answer, printed as --help prints it.
        sys.stderr.write(exc.format_message() + "\n")
        return int(code)
    from remindkit.cli.output import error_line  # noqa: PLC0415 - only on an error (start-up)

    error_line(usage_message(exc.format_message()))
    return int(code)


def usage_message(message: str) -> str:
    """The parser's message on one line, naming the option first: ``--days: …``."""
    text = " ".join(message.split()).rstrip(".")
    missing = _MISSING_OPTION.match(text) or _MISSING_ARGUMENT.match(text)
    if missing:
        name = missing[1] if missing[1].startswith("-") else missing[1].upper()
        return f"{name}: required"
    match = _INVALID.match(text)
    if match is None:
        return text
    where, reason = match[1] or match[2], match[3]
    for prefix in _PYDANTIC_PREFIXES:
        reason = reason.removeprefix(prefix)
    reason = reason[:1].lower() + reason[1:]
    for pattern, plain in _PLAIN_WORDS:
        reason = pattern.sub(plain, reason)
    return f"{where.split(' / ')[0]}: {reason}"
