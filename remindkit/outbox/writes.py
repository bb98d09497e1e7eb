"""Putting planned messages into the store: new keys only, in bulk.

Enqueueing is the outbox's hottest write (a million-row feed plans tens of thousands of
messages every morning), so a batch goes to the driver as plain rows — one ``executemany``
per table, values converted once here — instead of through SQLAlchemy's per-value type
processing. ``INSERT … ON CONFLICT DO NOTHING`` keeps the key the idempotency guard even
if two planners ran at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from remindkit.models import Channel
from remindkit.outbox.database import is_postgresql
from remindkit.outbox.records import join_channels, snapshot
from remindkit.outbox.schema import (
    contacts,
    installments,
    message_installments,
    messages,
    sqlite_text,
)
from remindkit.outbox.states import MessageState, Origin
from remindkit.outbox.values import EnqueueResult, StatusUpdate
from remindkit.plan import PlannedMessage
from remindkit.render.catalog import split_template_id

MESSAGE_COLUMNS = (
    "key", "state", "origin", "parent_key", "borrower_id", "loan_ids", "stage", "template_id",
    "variant", "channel", "fallbacks", "day", "timezone", "send_at", "not_after",
    "next_attempt_at", "attempts", "lease_owner", "lease_expires_at", "provider",
    "provider_message_id", "address", "error_code", "reason", "text", "title", "template_hash",
    "context", "created_at", "created_by", "updated_at", "sent_at", "delivery_status",
    "delivery_code", "delivered_at",
)  # fmt: skip
LINK_COLUMNS = ("message_key", "loan_id", "installment_no")


def enqueue_batch(
    connection: Connection, batch: list[PlannedMessage], now: datetime, worker: str
) -> EnqueueResult:
    known = _existing_keys(connection, [message.key for message in batch])
    fresh = [message for message in batch if message.key not in known]
    if fresh:
        text_times = not is_postgresql(connection)
        rows = [
            message_values(m, now, worker, origin=Origin.PLAN, text_times=text_times) for m in fresh
        ]
        bulk_insert(connection, messages, MESSAGE_COLUMNS, rows)
        bulk_insert(connection, message_installments, LINK_COLUMNS, link_rows(fresh))
    # In key order, the order every writer locks several messages in (see transitions).
    stale = sorted((message for message in batch if message.key in known), key=attrgetter("key"))
    if stale:
        # A message still waiting gets the feed's fresher view of its installments (a new
        # phone number); one that moved on is never touched.
        connection.execute(
            update(messages)
            .where(
                messages.c.key == bindparam("k"),
                messages.c.state == MessageState.PLANNED.value,
            )
            .values(context=bindparam("c")),
            [{"k": m.key, "c": snapshot(m.installments)} for m in stale],
        )
    note_installments(connection, batch, now)
    return EnqueueResult(
        inserted=len(fresh),
        already_known=len(stale),
        suppressed=sum(1 for m in fresh if not m.planned),
    )


def insert_message(
    connection: Connection,
    message: PlannedMessage,
    now: datetime,
    worker: str,
    *,
    origin: Origin,
    parent_key: str | None,
) -> bool:
    """Insert one fallback or event message; ``False`` if its key exists already."""
    values = message_values(
        message,
        now,
        worker,
        origin=origin,
        parent_key=parent_key,
        text_times=not is_postgresql(connection),
    )
    sql = _insert_sql(connection, messages, MESSAGE_COLUMNS) + " RETURNING key"
    if connection.exec_driver_sql(sql, values).first() is None:
        return False
    bulk_insert(connection, message_installments, LINK_COLUMNS, link_rows([message]))
    note_installments(connection, [message], now)
    return True


def bulk_insert(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of driver-ready rows in one ``executemany``."""
    if rows:
        connection.exec_driver_sql(_insert_sql(connection, table, columns), list(rows))


def _insert_sql(connection: Connection, table: Table, columns: Sequence[str]) -> str:
    marker = "%s" if is_postgresql(connection) else "?"  # the driver's own placeholders
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))}) ON CONFLICT DO NOTHING"
    )


def message_values(
    message: PlannedMessage,
    now: datetime,
    worker: str,
    *,
    origin: Origin,
    parent_key: str | None = None,
    text_times: bool,
) -> tuple[Any, ...]:
    """The ``messages`` row of a planned message, in ``MESSAGE_COLUMNS`` order, as the driver
    takes it (``text_times``, for SQLite: times as :func:`sqlite_text`, the day as ISO text)."""
    variant = _variant(message.template_id)
    state = MessageState.PLANNED if message.planned else MessageState.SUPPRESSED
    moment = sqlite_text if text_times else _utc
    send_at = moment(message.send_at)
    created = moment(now)
    # In the order of MESSAGE_COLUMNS (the schema's column order; a test holds them equal).
    return (
        message.key,
        state.value,
        origin.value,
        parent_key,
        message.borrower_id,
        json.dumps(list(message.loan_ids), ensure_ascii=False),
        message.stage.value,
        message.template_id,
        variant,
        message.channel.value,
        join_channels(message.fallback_channels),
        message.day.isoformat() if text_times else message.day,
        # The zone the planner used for the borrower's day (a ZoneInfo), else the borrower's.
        getattr(message.send_at.tzinfo, "key", None) or message.installments[0].borrower.timezone,
        send_at,
        moment(message.not_after),
        send_at,  # next_attempt_at
        0,  # attempts
        None,  # lease_owner
        None,  # lease_expires_at
        None,  # provider
        None,  # provider_message_id
        None,  # address
        None,  # error_code
        message.reason,
        None,  # text
        None,  # title
        None,  # template_hash
        snapshot(message.installments),
        created,
        worker,  # created_by
        created,  # updated_at
        None,  # sent_at
        None,  # delivery_status
        None,  # delivery_code
        None,  # delivered_at
    )


@lru_cache(maxsize=256)
def _variant(template_id: str) -> str:
    return split_template_id(template_id)[2]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _existing_keys(connection: Connection, keys: list[str]) -> set[str]:
    """Which of ``keys`` the outbox has (plain SQL: this runs for every enqueued batch)."""
    if is_postgresql(connection):
        rows = connection.exec_driver_sql("SELECT key FROM messages WHERE key = ANY(%s)", (keys,))
    else:
        marks = ", ".join("?" * len(keys))
        rows = connection.exec_driver_sql(
            f"SELECT key FROM messages WHERE key IN ({marks})", tuple(keys)
        )
    return {str(key) for (key,) in rows}


def _stored_statuses(
    connection: Connection, refs: list[tuple[str, int]]
) -> list[tuple[str, int, str]]:
    """The recorded statuses of those of ``refs`` the outbox has heard about."""
    loans = [loan_id for loan_id, _ in refs]
    numbers = [number for _, number in refs]
    if is_postgresql(connection):
        sql = (
            "SELECT i.loan_id, i.installment_no, i.status FROM installments i "
            "JOIN unnest(%s::text[], %s::int[]) AS r(loan_id, installment_no) "
            "ON i.loan_id = r.loan_id AND i.installment_no = r.installment_no"
        )
        rows = connection.exec_driver_sql(sql, (loans, numbers))
    else:
        pairs = ", ".join(["(?, ?)"] * len(refs))
        sql = (
            "SELECT loan_id, installment_no, status FROM installments "
            f"WHERE (loan_id, installment_no) IN (VALUES {pairs})"
        )
        rows = connection.exec_driver_sql(sql, tuple(value for ref in refs for value in ref))
    return [(str(loan), int(number), str(status)) for loan, number, status in rows]


def link_rows(batch: Sequence[PlannedMessage]) -> list[tuple[str, str, int]]:
    return [
        (m.key, item.loan_id, item.installment_no)
        for m in batch
        for item in {i.key: i for i in m.installments}.values()
    ]


def note_installments(
    connection: Connection, batch: Sequence[PlannedMessage], now: datetime
) -> None:
    """An installment planned again is ``due``/``plan`` in the latest feed. Where the outbox
    had heard a stop status for it (a payment since reversed), record the new status, so
    its messages are not cancelled; installments it never heard about need no row."""
    latest = {item.key: item for m in batch if m.planned for item in m.installments}
    if not latest:
        return
    stored = _stored_statuses(connection, list(latest))
    changed = [
        StatusUpdate(
            loan_id=loan_id,
            installment_no=number,
            borrower_id=latest[(loan_id, number)].borrower.id,
            status=latest[(loan_id, number)].status,
        )
        for loan_id, number, status in stored
        if status != latest[(loan_id, number)].status.value
    ]
    if changed:
        upsert_statuses(connection, changed, now)


def upsert_statuses(connection: Connection, updates: Sequence[StatusUpdate], now: datetime) -> None:
    maker = pg_insert if is_postgresql(connection) else sqlite_insert
    statement = maker(installments)
    statement = statement.on_conflict_do_update(
        index_elements=[installments.c.loan_id, installments.c.installment_no],
        set_={
            "status": statement.excluded.status,
            "status_at": statement.excluded.status_at,
            # The backend's status call may not know the borrower: keep the one recorded.
            "borrower_id": func.coalesce(
                func.nullif(statement.excluded.borrower_id, ""), installments.c.borrower_id
            ),
            "context": func.coalesce(statement.excluded.context, installments.c.context),
        },
    )
    connection.execute(
        statement,
        [
            {
                "loan_id": u.loan_id,
                "installment_no": u.installment_no,
                "borrower_id": u.borrower_id,
                "status": u.status.value,
                "status_at": now,
                "paid_at": None,
                "context": u.context,
            }
            for u in updates
        ],
    )


def flag_recipient(
    connection: Connection,
    *,
    channel: Channel,
    address: str,
    borrower_id: str,
    error_code: str | None,
    message_key: str,
    now: datetime,
) -> None:
    maker = pg_insert if is_postgresql(connection) else sqlite_insert
    row = {
        "channel": channel.value,
        "address": address,
        "borrower_id": borrower_id,
        "flagged_at": now,
        "error_code": error_code,
        "message_key": message_key,
    }
    connection.execute(maker(contacts).on_conflict_do_nothing(), row)
