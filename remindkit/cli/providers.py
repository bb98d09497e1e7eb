"""``remindkit providers check``: is every configured provider ready to send? Nothing is sent.

For each provider the config names (``[providers] sms / push`` and every
``[providers.<name>]`` table): its settings are validated, its SDK imported, its
credentials looked for in the environment (their presence and shape only: no value is
printed, no request made), and whatever else it checks offline. Exit 0 when all are ready,
2 with one line per problem naming the key or the environment variable.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from remindkit.cli import app
from remindkit.cli.common import (
    EXIT_USAGE,
    ConfigOption,
    FormatOption,
    OutputFormat,
    load_cli_settings,
    print_json,
    stderr,
    stdout,
)
from remindkit.config import Settings
from remindkit.errors import ConfigError
from remindkit.models import Channel

providers_app = typer.Typer(help="The configured SMS and push providers.", no_args_is_help=True)
app.add_typer(providers_app, name="providers")


@dataclass(frozen=True, slots=True)
class ProviderCheck:
    name: str
    channels: tuple[str, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "channels": list(self.channels),
            "ready": not self.problems,
            "problems": list(self.problems),
        }


def configured(settings: Settings) -> dict[str, list[str]]:
    """Provider name → the channels it carries (a table without a channel is checked too)."""
    chosen: dict[str, list[str]] = {}
    for channel in Channel:
        chosen.setdefault(settings.providers.for_channel(channel), []).append(channel.value)
    for name in settings.providers.model_extra or {}:
        chosen.setdefault(name, [])
    return chosen


def check_provider(settings: Settings, name: str, channels: list[str]) -> ProviderCheck:
    from remindkit.providers import registry  # noqa: PLC0415 - imports provider modules
    from remindkit.providers.base import pool_too_small  # noqa: PLC0415

    try:
        provider = registry.build(name, settings.providers.options(name), f"providers.{name}")
    except ConfigError as exc:
        return ProviderCheck(name, tuple(channels), (str(exc),))
    try:
        problems = list(provider.check())
        carried = {channel.value for channel in provider.capabilities.channels}
        problems += [
            f"providers.{channel}: provider {name!r} does not carry {channel}"
            for channel in channels
            if channel not in carried
        ]
        small = pool_too_small(provider, settings.dispatch.workers)
        if small is not None and channels:
            problems.append(str(small))
    finally:
        provider.close()
    return ProviderCheck(name, tuple(channels), tuple(problems))


@providers_app.command("check")
def check_command(config: ConfigOption = None, output: FormatOption = OutputFormat.TEXT) -> None:
    """Validate each configured provider's settings and credentials without sending."""
    settings = load_cli_settings(config)
    results = [
        check_provider(settings, name, channels) for name, channels in configured(settings).items()
    ]
    if output is OutputFormat.JSON:
        print_json({"providers": [result.to_json() for result in results]})
    else:
        table = Table(title="服务商检查", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("provider", "channels", "ready"):
            table.add_column(column, no_wrap=True)
        for result in results:
            table.add_row(
                result.name,
                ", ".join(result.channels) or "-",
                "[red]no[/]" if result.problems else "[green]yes[/]",
            )
        stdout.print(table)
        for result in results:
            for problem in result.problems:
                stderr.print(f"[red]错误[/]：{escape(problem)}")
    if any(result.problems for result in results):
        raise typer.Exit(EXIT_USAGE)
