"""The reach: per installment × stage × channel, the first sent message that mentions it.

The outcome report's unit is the installment, reached by the first sent message of a stage
on a channel. Finding it means joining every sent message with its installments, which over
a million messages is most of a report's time; so the store keeps the answer as messages
become ``sent``: :func:`record_reach` runs in the transaction that marks a batch sent (one
statement whatever the batch's size) and writes one narrow row per installment × stage ×
channel it reaches for the first time.

A row is written once. A later sent message about the same installment, stage and channel
finds it there and changes nothing (``INSERT … ON CONFLICT``). Only a message that went out
*earlier* replaces it: an ``unknown`` resolved as sent after the next reminder, or a late
provider answer recorded after a later one. So a row is always the first message by
(``sent_at``, ``variant``, ``key``), whatever order the messages were settled in, the same
message the old join would find.

:func:`forget_reach` keeps that true when messages are purged: the rows of purged messages
go, and the first of the remaining sent messages about those installments takes their
place.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from remindkit.outbox.schema import message_installments, messages, reach
from remindkit.outbox.states import MessageState
from remindkit.outbox.values import chunks

REACH_KEY = ("borrower_id", "stage", "channel", "loan_id", "installment_no")
# What the row says about its message; the order that picks the first of several.
REACH_VALUES = ("message_key", "sent_at", "day", "variant", "template_id")
FIRST = ("sent_at", "variant", "message_key")


def sent_rows(where: ColumnElement[bool]) -> Select[Any]:
    """A reach row for each installment of each message ``where`` selects; ``where`` must
    select sent messages only. (With a ``state`` condition here SQLite, without statistics,
    would read every sent message through the state index instead of the few keys asked.)"""
    return (
        select(
            messages.c.borrower_id,
            messages.c.stage,
            messages.c.channel,
            message_installments.c.loan_id,
            message_installments.c.installment_no,
            messages.c.key.label("message_key"),
            messages.c.sent_at,
            messages.c.day,
            messages.c.variant,
            messages.c.template_id,
        )
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .where(where, messages.c.sent_at.is_not(None))
    )


def first_of(rows: Select[Any]) -> Select[Any]:
    """Of reach rows (:func:`sent_rows`), the first per installment × stage × channel
    (``sent_at``, then ``variant``, then ``key``)."""
    position = func.row_number().over(
        partition_by=[rows.selected_columns[name] for name in REACH_KEY],
        order_by=[rows.selected_columns[name] for name in FIRST],
    )
    ranked = rows.add_columns(position.label("position")).subquery("ranked")
    return select(*(ranked.c[name] for name in REACH_KEY + REACH_VALUES)).where(
        ranked.c.position == 1
    )


def record_reach(connection: Connection, keys: Sequence[str]) -> None:
    """Write the reach of these messages, which the transaction has just marked sent."""
    if keys:
        connection.execute(_recording(connection.dialect.name), {"keys": list(keys)})


@cache
def _recording(dialect: str) -> Any:
    # Built once per dialect: settling runs it for every batch, and building the statement
    # costs more than running it for a few messages. SQLite applies the rows one after the
    # other, the earliest winning by the conflict rule, so it needs no ranking;
    # PostgreSQL refuses to update one row twice in a statement, so it gets the first only.
    keys: BindParameter[str] = bindparam("keys", expanding=True)
    rows = sent_rows(messages.c.key.in_(keys))
    return _upsert(first_of(rows) if dialect == "postgresql" else rows, dialect)


def forget_reach(connection: Connection, keys: Sequence[str]) -> None:
    """Before messages ``keys`` are deleted (at most a batch): remove the rows they hold and
    record again the other sent messages about the same installments (the first of them
    takes each row)."""
    linked = select(message_installments.c.loan_id, message_installments.c.installment_no)
    about = connection.execute(
        linked.where(message_installments.c.message_key.in_(keys)).distinct()
    ).all()
    if not about:
        return
    installment = tuple_(reach.c.loan_id, reach.c.installment_no)
    connection.execute(delete(reach).where(installment.in_(about), reach.c.message_key.in_(keys)))
    mentioned = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
    others = (
        select(messages.c.key, messages.c.state)
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .where(mentioned.in_(about), messages.c.key.not_in(keys))
        .distinct()
    )
    sent = [key for key, state in connection.execute(others) if state == MessageState.SENT.value]
    for batch in chunks(sent):
        record_reach(connection, batch)


def _upsert(rows: Select[Any], dialect: str) -> Any:
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = maker(reach).from_select(list(REACH_KEY + REACH_VALUES), rows)
    excluded = statement.excluded
    earlier = tuple_(*(excluded[name] for name in FIRST)) < tuple_(
        *(reach.c[name] for name in FIRST)
    )
    return statement.on_conflict_do_update(
        index_elements=[reach.c[name] for name in REACH_KEY],
        set_={name: excluded[name] for name in REACH_VALUES},
        where=earlier,
    )
