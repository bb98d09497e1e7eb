"""Imports every command module so each registers itself on the Typer app."""

from __future__ import annotations

import importlib

COMMAND_MODULES = ("preview", "lint", "plan", "demo")

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"remindkit.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command still being built must not break the others
        if exc.name != f"remindkit.cli.{_name}":
            raise
