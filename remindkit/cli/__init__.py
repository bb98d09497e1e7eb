"""The ``remindkit`` command line (SPEC §9): a Typer app whose commands live one per module.

Start-up matters (cron runs ``remindkit run --once`` every few minutes, the pre-commit
hook runs ``remindkit lint`` on every commit): :func:`main` imports only the module of the
command named on the command line, and that module its heavy libraries.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import Annotated

import typer

from remindkit import __version__
from remindkit.cli import usage
from remindkit.cli.usage import ReadableGroup

app = typer.Typer(
    name="remindkit",
    cls=ReadableGroup,
    help="Humane, compliant loan-repayment reminders in Chinese.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"remindkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Humane, compliant loan-repayment reminders in Chinese."""


def _register(args: Sequence[str] | None = None) -> None:
    """Import the command modules ``args`` need (all of them for ``None``); each module adds
    its command to ``app`` (so they import ``app`` from here, and are imported late)."""
    from remindkit.cli.commands import modules_for  # noqa: PLC0415 - see above

    for module in modules_for(args):
        import_module(module)


def main() -> None:
    _register(sys.argv[1:])
    # usage.run, not a bare name: the ``run`` command's module is remindkit.cli.run.
    try:
        usage.run(app)  # one-line usage errors (exit 2), readable --help labels for every command
    finally:
        # The process ends here: leave its objects to the operating system. The collector's
        # last pass at exit would walk every object the command loaded (~2 % of a lint).
        gc.freeze()
