"""Helpers of the outbox tests: the PostgreSQL test server, planned messages, constants.

Imported by name (``from outbox_support import planned``): ``conftest`` is ambiguous
between this folder and ``tests/``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime

import psycopg
import pytest

from remindkit.kit import Kit
from remindkit.models import Channel, Stage, zone_for
from remindkit.outbox.store import Outbox
from remindkit.plan import PlannedMessage
from remindkit.policy.decision import MessageStatus
from remindkit.policy.keys import message_key
from remindkit.testing import make_installment

SERVER = os.environ.get("REMINDKIT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = (
    "events", "message_installments", "messages", "installments", "contacts", "opt_outs",
    "plan_runs", "reach",
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
