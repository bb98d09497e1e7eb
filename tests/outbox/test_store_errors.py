"""A store that cannot be used says so, names itself, and loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from outbox_support import T0, planned
from sqlalchemy import text
from typer.testing import CliRunner

from remindkit.cli import _register, app
from remindkit.errors import StoreUnavailableError
from remindkit.outbox.database import SCHEMA_HEAD, create_store_engine
from remindkit.outbox.store import Outbox

_register()
runner = CliRunner()


def test_a_file_that_is_not_a_database_is_refused_with_the_cure(tmp_path: Path) -> None:
    path = tmp_path / "remindkit.db"
    path.write_bytes(b"this is a spreadsheet, not an outbox" * 100)
    with pytest.raises(StoreUnavailableError) as caught:
        Outbox.open(f"sqlite:///{path}")
    assert str(path) in str(caught.value)
    assert "restore it from a backup" in str(caught.value)
    result = runner.invoke(app, ["status", "--store", f"sqlite:///{path}"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_locked_database_waits_then_fails_and_nothing_is_lost(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'remindkit.db'}"
    outbox = Outbox.open(url, busy_timeout_seconds=0.2)
    holder = sqlite3.connect(tmp_path / "remindkit.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailableError, match="database is locked"):
            outbox.enqueue([planned()], now=T0)
        holder.execute("ROLLBACK")
        assert outbox.enqueue([planned()], now=T0).inserted == 1
    finally:
        holder.close()
        outbox.close()


def test_a_schema_newer_than_this_remindkit_is_refused(store_url: str) -> None:
    outbox = Outbox.open(store_url)
    with outbox.transaction() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    outbox.close()
    try:
        with pytest.raises(StoreUnavailableError, match="newer than this remindkit"):
            Outbox.open(store_url)
        with pytest.raises(StoreUnavailableError, match="newer than this remindkit"):
            Outbox.open(store_url, auto_migrate=False)
    finally:  # the PostgreSQL database is shared by the session's tests
        engine = create_store_engine(store_url)
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": SCHEMA_HEAD}
            )
        engine.dispose()


def test_without_auto_migrate_an_empty_store_asks_for_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(StoreUnavailableError, match="run `remindkit db upgrade`"):
        Outbox.open(url, auto_migrate=False)
    assert runner.invoke(app, ["db", "upgrade", "--store", url]).exit_code == 0
    Outbox.open(url, auto_migrate=False).close()
    result = runner.invoke(app, ["db", "current", "--store", url])
    assert result.exit_code == 0
    assert SCHEMA_HEAD in result.stdout


def test_an_unreachable_server_is_named_without_its_password() -> None:
    url = "postgresql://remindkit:s3cret@127.0.0.1:1/remindkit"
    with pytest.raises(StoreUnavailableError) as caught:
        Outbox.open(url)
    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


def test_an_unsupported_store_url_is_a_usage_error() -> None:
    result = runner.invoke(app, ["status", "--store", "mysql://x"])
    assert result.exit_code == 2
    assert "unsupported database 'mysql'" in result.stderr
