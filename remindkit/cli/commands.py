"""Imports every command module so each registers itself on the Typer app."""

from __future__ import annotations

from remindkit.cli import demo, lint, plan, preview, studio

__all__ = ["demo", "lint", "plan", "preview", "studio"]
