"""The outbox fixture: every test that takes ``store_url`` runs on SQLite and on PostgreSQL.

PostgreSQL is the machine's (``127.0.0.1:5432``, trust auth; ``REMINDKIT_TEST_PG`` points
elsewhere). Each test session creates its own database and drops it at the end, so test
runs side by side never meet; each test starts from empty tables. Under ``CI=true`` a
PostgreSQL that cannot be reached fails the tests that need it; elsewhere they are skipped
with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from daemon_support import kill_leftovers
from outbox_support import (  # the names below conftest offered first, kept for old imports
    CLOSES,  # noqa: F401
    PLATFORM_TOML,  # noqa: F401
    T0,
    TABLES,
    KitFactory,
    OutboxFactory,
    create_database,
    drop_database,
    planned,  # noqa: F401
)
from sqlalchemy import text

from remindkit.dispatch import StatusCheck
from remindkit.kit import Kit
from remindkit.models import Channel
from remindkit.outbox.store import Outbox
from remindkit.providers.base import Provider
from remindkit.testing import FrozenClock, RecordingProvider, demo_settings


@pytest.fixture(autouse=True)
def _no_daemon_left() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    """A database of its own, for tests with several processes."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    url: str = request.getfixturevalue("pg_database")
    outbox = Outbox.open(url)
    with outbox.transaction() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    outbox.close()
    return url


@pytest.fixture
def open_outbox(store_url: str) -> Iterator[OutboxFactory]:
    """``open_outbox(worker="w1")``: outboxes on the test's store, closed afterwards."""
    opened: list[Outbox] = []

    def factory(**kwargs: object) -> Outbox:
        outbox = Outbox.open(store_url, **kwargs)  # type: ignore[arg-type]
        opened.append(outbox)
        return outbox

    yield factory
    for outbox in opened:
        outbox.close()


@pytest.fixture
def make_kit(store_url: str) -> Iterator[KitFactory]:
    """``make_kit(provider, dispatch={"workers": 4}, at=T0)``: a kit on the test's store with
    one provider for both channels, a frozen clock and no real sleeping."""
    kits: list[Kit] = []

    def factory(
        provider: Provider | None = None,
        *,
        at: datetime = T0,
        status_check: StatusCheck | None = None,
        sleeps: list[float] | None = None,
        **sections: dict[str, object],
    ) -> Kit:
        chosen = provider or RecordingProvider()
        settings = demo_settings()
        for name, values in sections.items():
            part = getattr(settings, name).model_copy(update=values)
            settings = settings.model_copy(update={name: part})
        recorded = sleeps if sleeps is not None else []
        kit = Kit(
            settings,
            clock=FrozenClock(at),
            store=store_url,
            providers={Channel.SMS: chosen, Channel.PUSH: chosen},
            status_check=status_check,
            sleep=recorded.append,
        )
        kits.append(kit)
        return kit

    yield factory
    for kit in kits:
        kit.close()


# The loopback peers of the provider tests (started once per module that uses them).
from peers import fcm_peer, twilio_server  # noqa: E402, F401 - fixtures, found by name
