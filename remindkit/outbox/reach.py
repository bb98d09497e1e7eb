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
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from remindkit.outbox.database import is_postgresql
from remindkit.outbox.schema import message_installments, messages, reach
from remindkit.outbox.states import MessageState

REACH_KEY = ("borrower_id", "stage", "channel", "loan_id", "installment_no")
# What the row says about its message; the order that picks the first of several.
REACH_VALUES = ("message_key", "sent_at", "day", "variant", "template_id")
FIRST = ("sent_at", "variant", "message_key")


def first_sent(where: ColumnElement[bool]) -> Select[Any]:
    """Per installment × stage × channel among the sent messages ``where`` selects: the
    first (``sent_at``, then ``variant``, then ``key``), as a reach row."""
    ranked = (
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
            func.row_number()
            .over(
                partition_by=(
                    messages.c.borrower_id,
                    messages.c.stage,
                    messages.c.channel,
                    message_installments.c.loan_id,
                    message_installments.c.installment_no,
                ),
                order_by=(messages.c.sent_at, messages.c.variant, messages.c.key),
            )
            .label("position"),
        )
        .join(message_installments, message_installments.c.message_key == messages.c.key)
        .where(where, messages.c.state == MessageState.SENT.value, messages.c.sent_at.is_not(None))
        .subquery("ranked")
    )
    return select(*(ranked.c[name] for name in REACH_KEY + REACH_VALUES)).where(
        ranked.c.position == 1
    )


def record_reach(connection: Connection, keys: Sequence[str]) -> None:
    """Write the reach of these messages (those of them that are ``sent``); call it in the
    transaction that marked them sent, with at most a batch of keys."""
    if keys:
        connection.execute(_upsert(first_sent(messages.c.key.in_(keys)), connection))


def forget_reach(connection: Connection, keys: Sequence[str]) -> None:
    """Before messages ``keys`` are deleted (at most a batch): remove the rows they hold and
    put back the first of the other sent messages about the same installments."""
    linked = select(message_installments.c.loan_id, message_installments.c.installment_no)
    about = connection.execute(
        linked.where(message_installments.c.message_key.in_(keys)).distinct()
    ).all()
    if not about:
        return
    installment = tuple_(reach.c.loan_id, reach.c.installment_no)
    connection.execute(delete(reach).where(installment.in_(about), reach.c.message_key.in_(keys)))
    mentioned = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
    others = and_(mentioned.in_(about), messages.c.key.not_in(keys))
    connection.execute(_upsert(first_sent(others), connection))


def _upsert(rows: Select[Any], connection: Connection) -> Any:
    maker = pg_insert if is_postgresql(connection) else sqlite_insert
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
