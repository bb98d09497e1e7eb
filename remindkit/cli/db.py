"""``remindkit db upgrade|current``: the outbox schema, for operators who migrate explicitly.

With ``store.auto_migrate = true`` (the default) a store is migrated when it is opened, under
a lock, so this is only needed where migrations are a deliberate step (``auto_migrate =
false``, e.g. a PostgreSQL role without DDL rights for the service).
"""

from __future__ import annotations

import typer

from remindkit.cli import app
from remindkit.cli.common import (
    ConfigOption,
    StoreOption,
    fail,
    load_cli_settings,
    stdout,
    usage_errors,
)
from remindkit.outbox.database import (
    create_store_engine,
    current_revision,
    head_revision,
    shown_url,
    translated,
    upgrade,
)

db_app = typer.Typer(help="The outbox database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _url(config: ConfigOption, store: StoreOption) -> str:
    return store or load_cli_settings(config).store.url


@db_app.command("upgrade")
def upgrade_command(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Bring the outbox to the latest schema (safe to run from several hosts at once)."""
    with usage_errors():
        engine = create_store_engine(_url(config, store))
        revision = upgrade(engine)
        engine.dispose()
    stdout.print(f"{shown_url(engine.url)}: schema {revision}")


@db_app.command("current")
def current_command(config: ConfigOption = None, store: StoreOption = None) -> None:
    """Show the schema revision of the outbox and the one this remindkit needs."""
    with usage_errors():
        engine = create_store_engine(_url(config, store))
        with translated(engine), engine.connect() as connection:
            current = current_revision(connection)
        engine.dispose()
    head = head_revision()
    stdout.print(f"{shown_url(engine.url)}: schema {current or '（空）'}，需要 {head}")
    if current != head:
        fail("the outbox is not at the latest schema: run remindkit db upgrade", code=1)
