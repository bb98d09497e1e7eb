"""The ``remindkit`` command line (SPEC §9): a Typer app whose commands live one per module."""

from __future__ import annotations

from typing import Annotated

import typer

from remindkit import __version__
from remindkit.cli.usage import ReadableGroup, run

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


def _register() -> None:
    # Each command module adds itself to ``app``; importing them here keeps one entry point.
    from remindkit.cli import commands  # noqa: F401, PLC0415 - commands import app from here


def main() -> None:
    _register()
    run(app)  # one-line usage errors (exit 2) and readable --help labels for every command
