"""Imports every command module so each registers itself on the Typer app."""

from __future__ import annotations

from remindkit.cli import db, demo, lint, outbox, plan, preview, run

__all__ = ["db", "demo", "lint", "outbox", "plan", "preview", "run"]
