"""Opening the outbox database: URLs, SQLite pragmas, migrations, and errors that say what to do.

- **SQLite** (default ``sqlite:///remindkit.db``): WAL journal, a busy timeout, foreign keys
  on. Every write transaction begins ``IMMEDIATE``: a worker that reads and then writes (a
  claim) holds the write lock from the start, so two processes never both think they own a
  row and SQLite never has to refuse a lock upgrade half-way. Read-only transactions
  (``READ_ONLY``) begin ``DEFERRED`` and never wait for writers (WAL).
- **PostgreSQL** (``postgresql://…`` or ``postgresql+psycopg://…``; psycopg 3): a small
  connection pool with pre-ping. Passwords come from the environment (``PGPASSWORD``) or
  ``.pgpass``, never from the config file; URLs are shown with the password hidden.

Migrations are Alembic's, shipped in the package. With ``store.auto_migrate`` (default on) a
store is brought to the latest schema when it is opened, under a lock (SQLite's write lock;
a PostgreSQL advisory lock), so several processes starting at once migrate it exactly once.
With it off, a store behind the code is refused until ``remindkit db upgrade`` is run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, text
from sqlalchemy.engine import URL, make_url

from remindkit.errors import ConfigError, StoreUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision; a test holds it equal to Alembic's head, so opening a
# store that is up to date reads one row instead of importing Alembic.
SCHEMA_HEAD = "0004"
SQLITE_BUSY_SECONDS = 30.0
# pg_advisory_lock keys: "rk" + purpose, fixed so every remindkit process agrees.
MIGRATION_LOCK = 0x726B_0001
PLANNER_LOCK = 0x726B_0002
SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST/DB"
# Connection execution options of a read-only transaction (SQLite: BEGIN DEFERRED).
READ_ONLY = {"remindkit_read_only": True}


def parse_store_url(value: str) -> URL:
    """A store URL remindkit can use; anything else is a :class:`ConfigError` on ``store.url``."""
    try:
        url = make_url(value)
    except exc.ArgumentError:
        raise ConfigError("store.url", f"not a database URL (expected {SUPPORTED})") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.get_driver_name() not in ("pysqlite", ""):
            raise ConfigError("store.url", f"unsupported SQLite driver {url.drivername!r}")
        return url
    if backend == "postgresql":
        if url.get_driver_name() not in ("psycopg", "psycopg2", ""):
            raise ConfigError("store.url", f"use postgresql+psycopg://, got {url.drivername!r}")
        return url.set(drivername="postgresql+psycopg")
    raise ConfigError(
        "store.url", f"unsupported database {backend!r}: remindkit stores to {SUPPORTED}"
    )


def shown_url(url: URL | str) -> str:
    """The URL for messages and logs, with any password hidden."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def create_store_engine(
    url: URL | str, *, pool_size: int = 8, busy_seconds: float = SQLITE_BUSY_SECONDS
) -> Engine:
    """An engine for ``url`` with remindkit's settings; nothing is connected yet.
    ``busy_seconds``: how long SQLite waits for another process's write lock."""
    parsed = parse_store_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_seconds)
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": "remindkit"},
    )


def _sqlite_engine(url: URL, busy_seconds: float) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_seconds, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" event below emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        reading = connection.get_execution_options().get("remindkit_read_only", False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")

    return engine


def is_postgresql(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


# Alembic is imported only to migrate or read a revision: opening a store at the latest
# schema costs one query, not Alembic's import.


def alembic_config() -> Config:
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("remindkit ships no outbox migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    """The schema revision stored in the database (``None``: an empty database)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None


def upgrade(engine: Engine) -> str:
    """Bring the store to the latest schema (idempotent, safe with concurrent callers)."""
    with translated(engine), engine.begin() as connection:
        if is_postgresql(connection):
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _refuse_unknown_revision(connection, engine)
        from alembic import command  # noqa: PLC0415

        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        return head_revision()


def ensure_schema(engine: Engine, *, auto_migrate: bool) -> None:
    """Migrate (``auto_migrate``) or check that the store is at the latest schema."""
    if auto_migrate:
        with translated(engine), engine.connect() as connection:
            current = current_revision(connection)
            connection.rollback()
        if current != SCHEMA_HEAD:
            upgrade(engine)
        return
    with translated(engine), engine.connect() as connection:
        current = current_revision(connection)
        if current != SCHEMA_HEAD:
            _refuse_unknown_revision(connection, engine)
        connection.rollback()
    if current != SCHEMA_HEAD:
        raise StoreUnavailableError(
            shown_url(engine.url),
            f"schema at {current or 'nothing'}, remindkit needs {SCHEMA_HEAD}: "
            "run `remindkit db upgrade` (store.auto_migrate is off)",
        )


def _refuse_unknown_revision(connection: Connection, engine: Engine) -> None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    current = current_revision(connection)
    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(current)
    except Exception:  # alembic raises several kinds for an unknown revision id
        raise StoreUnavailableError(
            shown_url(engine.url),
            f"schema revision {current} is newer than this remindkit: upgrade remindkit",
        ) from None


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Database errors as :class:`StoreUnavailableError` naming the store and the cause."""
    try:
        yield
    except exc.OperationalError as error:
        raise StoreUnavailableError(shown_url(engine.url), _cause(error)) from error
    except exc.DatabaseError as error:
        raise StoreUnavailableError(shown_url(engine.url), _cause(error)) from error


def _cause(error: exc.DBAPIError) -> str:
    original = str(error.orig).strip().splitlines()
    message = original[0] if original else type(error.orig).__name__
    if "file is not a database" in message or "malformed" in message:
        return (
            f"{message} (the file is damaged or not an outbox: restore it from a backup "
            "or point store.url elsewhere)"
        )
    if "database is locked" in message:
        return f"{message} (another process held the write lock past store.busy_timeout_seconds)"
    return message
