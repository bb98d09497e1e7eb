"""Every command and the module that registers it on the Typer app when imported.

One line per command: the CLI imports only the module of the command it runs.
"""

from __future__ import annotations

from collections.abc import Sequence

COMMANDS = {
    "db": "remindkit.cli.db",
    "init": "remindkit.cli.init",
    "demo": "remindkit.cli.demo",
    "lint": "remindkit.cli.lint",
    "outbox": "remindkit.cli.outbox",
    "plan": "remindkit.cli.plan",
    "preview": "remindkit.cli.preview",
    "providers": "remindkit.cli.providers",
    "purge": "remindkit.cli.outbox",
    "report": "remindkit.cli.report",
    "run": "remindkit.cli.run",
    "status": "remindkit.cli.outbox",
    "studio": "remindkit.cli.studio",
}
# Options of the program itself that print and exit without a command.
_ALONE = frozenset({"--version"})


def modules_for(args: Sequence[str] | None) -> list[str]:
    """The modules a command line needs: its command's; none for ``--version`` alone; every
    one for ``--help``, no arguments or an unknown command (whose error lists close names)."""
    if args is None:
        return list(COMMANDS.values())
    named = next((arg for arg in args if not arg.startswith("-")), None)
    if named is None and args and set(args) <= _ALONE:
        return []
    if named in COMMANDS:
        return [COMMANDS[named]]
    return list(COMMANDS.values())
