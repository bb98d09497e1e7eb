"""Start-up: a command loads its own module and the libraries it needs, nothing more.

Cron runs the CLI every few minutes and the pre-commit hook on every commit; these tests
pin *what* is imported (never how long it takes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from remindkit.cli import _register, app
from remindkit.cli.commands import COMMANDS, modules_for

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
sys.argv = ["remindkit", *json.loads(sys.argv[1])]
from remindkit.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_version_loads_no_command_and_no_heavy_library() -> None:
    modules = imported_by("--version")
    assert not modules & set(COMMANDS.values())
    for heavy in ("pydantic", "jinja2", "phonenumbers", "chinese_calendar", "remindkit.kit"):
        assert heavy not in modules, heavy


def test_lint_loads_the_linter_but_not_the_planner() -> None:
    modules = imported_by("lint", "templates/zh_CN/pre_due/sms.j2")
    assert "remindkit.cli.lint" in modules
    assert not modules & (set(COMMANDS.values()) - {"remindkit.cli.lint"})
    for unneeded in ("remindkit.plan", "remindkit.kit", "chinese_calendar", "holidays"):
        assert unneeded not in modules, unneeded


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--version"], []),
        (["lint", "templates/"], ["remindkit.cli.lint"]),
        (["plan", "--feed", "lint.csv"], ["remindkit.cli.plan"]),
        (["--help"], list(COMMANDS.values())),
        ([], list(COMMANDS.values())),
        (["pln"], list(COMMANDS.values())),  # the error lists the commands close to it
    ],
)
def test_the_command_line_names_the_modules_to_load(args: list[str], expected: list[str]) -> None:
    assert modules_for(args) == expected


def test_every_command_module_registers_the_command_of_its_name() -> None:
    _register()
    registered = {
        command.name or getattr(command.callback, "__name__", "").replace("_", "-")
        for command in app.registered_commands
    } | {group.name for group in app.registered_groups}  # command groups: outbox, db
    assert registered == set(COMMANDS)
