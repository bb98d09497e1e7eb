"""What every command shares: option types, config/template resolution, output, exit codes.

Exit codes (SPEC §9): 0 success, 1 findings or failures, 2 usage or config errors. Errors
go to stderr as one clear line, never a traceback (:func:`fail`; the parser's own usage
errors are caught once for all commands in :mod:`remindkit.cli.usage`); JSON goes to stdout
alone. Human output follows :mod:`remindkit.cli.output` (Chinese, Chinese line breaking,
the terminal's width).

The platform: settings without ``[platform]`` make ``Kit.plan`` / ``Kit.render`` refuse
(nothing goes out under the fictional sample lender). A command that only previews — and
the demo — asks for the sample lender with ``load_cli_kit(..., sample_platform=True)`` or
:func:`preview_platform`, and calls :func:`note_sample_platform` after its output to say so.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from remindkit.cli.output import error_line, note, stderr, stdout
from remindkit.clock import parse_instant
from remindkit.config import Settings, load_settings
from remindkit.config_delivery import StoreSettings
from remindkit.errors import RemindkitError
from remindkit.models import Platform
from remindkit.resources import (
    SAMPLE_PLATFORM_NOTE,
    default_templates_dir,
    sample_platform_settings,
    with_sample_platform,
)

if TYPE_CHECKING:
    from remindkit.kit import Kit  # the kit pulls in planning and rendering: only when used

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

__all__ = ["stderr", "stdout"]  # re-exported: commands print through these consoles


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: config/remindkit.toml if present, else built-in defaults).",
        dir_okay=False,
    ),
]
TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        help="Template directory (default: the config's, else templates/, else the shipped set).",
        file_okay=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Outbox database URL (default: the config's [store] url, else sqlite:///remindkit.db).",
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="Pretend it is this time (ISO 8601 with offset, e.g. 2026-12-01T10:00+08:00)."
    ),
]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear line on stderr and exit with ``code``."""
    error_line(message)
    raise typer.Exit(code)


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn remindkit errors raised while setting up a command into exit 2 with a message."""
    try:
        yield
    except RemindkitError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    """JSON on stdout alone (no rich markup, no wrapping), UTF-8 text kept readable."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def load_cli_settings(config: Path | None) -> Settings:
    """The settings for a command; a bad config exits 2 naming the key."""
    with usage_errors():
        return load_settings(config)


def load_cli_kit(
    config: Path | None, templates: Path | None, *, sample_platform: bool = False
) -> Kit:
    """Settings, catalog, renderer and planner for a command, from ``--config``/``--templates``.

    ``sample_platform=True`` (previews, the demo): without a configured ``[platform]`` the
    kit signs with the fictional sample lender, and a note on stderr says so. Otherwise a
    kit without a platform refuses to plan or render (exit 2, ``platform: not configured``).
    """
    from remindkit.kit import Kit  # noqa: PLC0415 - see the import above

    settings = load_cli_settings(config)
    if sample_platform:
        settings = with_sample_platform(settings)[0]
    with usage_errors():
        return Kit(settings, templates=resolve_templates_dir(templates, settings))


def preview_platform(settings: Settings) -> Platform:
    """The configured platform, else the sample lender (say so: :func:`note_sample_platform`)."""
    return with_sample_platform(settings)[0].require_platform()


def uses_sample_platform(settings: Settings) -> bool:
    """Whether previews are signed by the fictional sample lender: none is configured (or
    the config copied the sample's values)."""
    return settings.platform is None or settings.platform == sample_platform_settings()


def note_sample_platform(settings: Settings) -> None:
    """After a preview's output: a note on stderr when it was signed by the sample lender."""
    if uses_sample_platform(settings):
        note(SAMPLE_PLATFORM_NOTE)


def open_cli_kit(config: Path | None, templates: Path | None, store: str | None) -> Kit:
    """A kit whose outbox is ``--store`` (or the config's); a bad store URL exits 2."""
    from remindkit.kit import Kit  # noqa: PLC0415 - see the import above

    settings = load_cli_settings(config)
    if store is not None:
        try:
            chosen = settings.store.model_copy(update={"url": StoreSettings.valid_url(store)})
        except ValueError as exc:
            fail(f"--store: {exc}")
        settings = settings.model_copy(update={"store": chosen})
    with usage_errors():
        kit = Kit(settings, templates=resolve_templates_dir(templates, settings))
        kit.outbox  # noqa: B018 - open (and migrate) now: a bad store is a usage error
    return kit


def resolve_templates_dir(option: Path | None, settings: Settings) -> Path:
    """``--templates`` > the config's ``[templates] dir`` > ``./templates`` > the shipped set."""
    if option is not None:
        if not option.is_dir():
            fail(f"--templates: {option} is not a directory")
        return option
    if settings.templates_dir is not None:
        if not settings.templates_dir.is_dir():
            fail(f"templates.dir: {settings.templates_dir} is not a directory")
        return settings.templates_dir
    return default_templates_dir()


def parse_at(value: str | None) -> datetime | None:
    """``--at`` as an aware datetime; a naive or malformed value exits 2."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except RemindkitError as exc:
        fail(str(exc))
