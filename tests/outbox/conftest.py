"""The outbox fixture: every test that takes ``store_url`` runs on SQLite and on PostgreSQL.

PostgreSQL is the machine's (``127.0.0.1:5432``, trust auth; ``REMINDKIT_TEST_PG`` points
elsewhere). Each test session creates its own database and drops it at the end, so test
runs side by side never meet; each test starts from empty tables. Under ``CI=true`` a
PostgreSQL that cannot be reached fails the tests that need it; elsewhere they are skipped
with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from remindkit.dispatch import StatusCheck
from remindkit.kit import Kit
from remindkit.models import Channel, Stage, zone_for
from remindkit.outbox.store import Outbox
from remindkit.plan import PlannedMessage
from remindkit.policy.decision import MessageStatus
from remindkit.policy.keys import message_key
from remindkit.providers.base import Provider
from remindkit.testing import FrozenClock, RecordingProvider, demo_settings, make_installment

SERVER = os.environ.get("REMINDKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = (
    "events", "message_installments", "messages", "installments", "contacts", "opt_outs",
    "plan_runs",
)  # fmt: skip

OutboxFactory = Callable[..., Outbox]


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(SERVER, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {SERVER} is not reachable: {exc}".strip()
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def create_database() -> str:
    """A new empty database on the test server; returns its SQLAlchemy URL."""
    name = f"rk_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


# The fictional sample lender, for the configs of subprocess tests (never used to send).
PLATFORM_TOML = """
[platform]
name = "禾苗金融"
signature = "禾苗金融"
hotline = "400-100-2026"
app_name = "禾苗金融App"
repay_url = "https://hm.example.cn/r"
"""

T0 = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
CLOSES = datetime.fromisoformat("2026-12-01T20:00:00+08:00")


def planned(
    borrower_id: str = "B1",
    *,
    loans: tuple[tuple[str, int], ...] = (("L1", 1),),
    stage: Stage = Stage.PRE_DUE,
    channel: Channel = Channel.SMS,
    fallbacks: tuple[Channel, ...] = (),
    send_at: datetime = T0,
    not_after: datetime = CLOSES,
    status: MessageStatus = MessageStatus.PLANNED,
    reason: str | None = None,
    phone: str = "13800138000",
    push_token: str = "",
    timezone: str = "Asia/Shanghai",
) -> PlannedMessage:
    """A planned message for ``borrower_id`` with a real key and real installments."""
    installments = tuple(
        make_installment(
            loan_id=loan_id,
            installment_no=number,
            borrower_id=borrower_id,
            phone=phone,
            push_token=push_token,
            timezone=timezone,
            due_date="2026-12-02",
        )
        for loan_id, number in loans
    )
    template = f"{stage.value}/{channel.value}"
    return PlannedMessage(
        key=message_key(
            borrower_id=borrower_id,
            installments=loans,
            stage=stage,
            day=send_at.date(),
            channel=channel,
        ),
        borrower_id=borrower_id,
        loan_ids=tuple(dict.fromkeys(loan for loan, _ in loans)),
        installments=installments,
        stage=stage,
        template_id=template,
        channel=channel,
        fallback_channels=fallbacks,
        day=send_at.date(),
        send_at=send_at.astimezone(zone_for(timezone)),
        not_after=not_after,
        status=status,
        reason=reason,
    )


KitFactory = Callable[..., Kit]


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
