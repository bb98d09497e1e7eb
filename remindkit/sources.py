"""Where the service's loan feed comes from (SPEC §8): a CSV or JSONL file, or a SQL query.

``[feed] source = "sql"`` streams the rows of ``query`` from the database at ``url`` with a
server-side cursor, ``batch_size`` rows at a time, so memory stays flat however large the
table. Columns are the feed's field names (SPEC §3: alias them in the query,
``SELECT due_on AS due_date``); each row is validated like a file's row and numbered from 1
in the query's order; a bad row is rejected alone. Dates, numbers and decimals may come as
the database's own types: they are turned into the feed's text forms first.

The URL holds no password: the driver reads ``PGPASSWORD`` / ``.pgpass``, or
``feed.password_env`` names the variable that holds it (``feed.url_env``: the whole URL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from remindkit.config_delivery import FeedSettings
from remindkit.errors import ConfigError, InputError
from remindkit.feed import FeedItem, read_csv, read_feed, read_jsonl, read_rows


def open_feed(settings: FeedSettings, path: Path | None = None) -> Iterator[FeedItem]:
    """The feed items of ``path`` (a ``--feed`` file), else of the configured source."""
    if path is not None:
        return read_feed(path)
    kind = settings.kind
    if kind == "sql":
        return read_sql(settings)
    if settings.path is None:
        raise ConfigError("feed.path", 'no feed: set [feed] path (or source = "sql")')
    if kind == "csv":
        return read_csv(settings.path)
    if kind == "jsonl":
        return read_jsonl(settings.path)
    return read_feed(settings.path)


def describe(settings: FeedSettings, path: Path | None = None) -> str:
    """The feed as logs show it: a file path, or the SQL source without credentials."""
    if path is not None:
        return str(path)
    if settings.kind == "sql":
        return f"sql {_shown_url(settings)}"
    return str(settings.path)


def read_sql(settings: FeedSettings) -> Iterator[FeedItem]:
    """Stream the rows of the configured query as feed items (see the module docstring)."""
    from sqlalchemy import create_engine, exc, text  # noqa: PLC0415 - only for sql feeds

    url = _url(settings)
    try:
        engine = create_engine(url, pool_pre_ping=False)
    except (exc.ArgumentError, ImportError) as error:
        raise ConfigError("feed.url", f"cannot use this database URL: {error}") from None

    def rows() -> Iterator[Mapping[str, object]]:
        try:
            with engine.connect() as connection:
                result = connection.execution_options(
                    stream_results=True, yield_per=settings.batch_size
                ).execute(text(settings.query or ""))
                columns = list(result.keys())
                for row in result:
                    yield {
                        name: _feed_text(value) for name, value in zip(columns, row, strict=True)
                    }
                connection.rollback()
        except exc.DBAPIError as error:
            first = str(error.orig).strip().splitlines()
            reason = first[0] if first else type(error.orig).__name__
            raise InputError(f"feed {_shown_url(settings)}: {reason}") from error
        finally:
            engine.dispose()

    return read_rows(rows())


def _url(settings: FeedSettings) -> Any:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    raw = settings.url
    if settings.url_env is not None:
        raw = os.environ.get(settings.url_env) or None
        if raw is None:
            raise ConfigError("feed.url_env", f"the variable {settings.url_env} is not set")
    url = make_url(raw or "")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if settings.password_env is not None:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise ConfigError(
                "feed.password_env", f"the variable {settings.password_env} is not set"
            )
        url = url.set(password=password)
    return url


def _shown_url(settings: FeedSettings) -> str:
    if settings.url_env is not None and settings.url is None:
        return f"${settings.url_env}"
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(settings.url or "").render_as_string(hide_password=True)


def _feed_text(value: object) -> object:
    """A database value in the feed's own text form (SPEC §3): dates ``YYYY-MM-DD``,
    amounts as decimal text; text, booleans and ``None`` as they are."""
    if isinstance(value, datetime):
        return value  # refused by the parser with the field's name: a due date has no time
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "" if value is None else value
