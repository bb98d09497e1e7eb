"""Reading the outbox: what the re-check needs before sending, and what operators ask.

Functions of a connection; :class:`remindkit.outbox.store.Outbox` opens a read-only one for
them (on SQLite a deferred transaction, so readers never wait for the write lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select, tuple_

from remindkit.models import Channel, Status
from remindkit.outbox.records import OutboxEvent, OutboxMessage
from remindkit.outbox.schema import contacts, events, installments, message_installments, messages
from remindkit.outbox.states import CONTACTED, MessageState
from remindkit.outbox.values import Contact, InstallmentRef, chunks


def statuses(
    connection: Connection, refs: Sequence[InstallmentRef]
) -> dict[InstallmentRef, Status]:
    found: dict[InstallmentRef, Status] = {}
    pairs = tuple_(installments.c.loan_id, installments.c.installment_no)
    for batch in chunks(dict.fromkeys(refs)):
        rows = connection.execute(
            select(
                installments.c.loan_id, installments.c.installment_no, installments.c.status
            ).where(pairs.in_(batch))
        )
        for loan_id, number, status in rows:
            found[(loan_id, number)] = Status(status)
    return found


def contacts_since(
    connection: Connection, borrower_ids: Sequence[str], since: datetime
) -> list[Contact]:
    """Messages that may have reached these borrowers since ``since``."""
    found: dict[str, Contact] = {}
    for batch in chunks(sorted(set(borrower_ids))):
        rows = connection.execute(
            select(
                messages.c.key,
                messages.c.borrower_id,
                messages.c.sent_at,
                message_installments.c.loan_id,
                message_installments.c.installment_no,
            )
            .join(message_installments, message_installments.c.message_key == messages.c.key)
            .where(
                messages.c.borrower_id.in_(batch),
                messages.c.state.in_([state.value for state in CONTACTED]),
                messages.c.sent_at >= since,
            )
        )
        for key, borrower, sent_at, loan_id, number in rows:
            previous = found.get(key)
            refs = (previous.installments if previous else ()) + ((loan_id, number),)
            found[key] = Contact(borrower_id=borrower, key=key, sent_at=sent_at, installments=refs)
    return list(found.values())


def flagged(
    connection: Connection, pairs: Sequence[tuple[Channel, str]]
) -> set[tuple[Channel, str]]:
    found: set[tuple[Channel, str]] = set()
    columns = tuple_(contacts.c.channel, contacts.c.address)
    for batch in chunks(dict.fromkeys(pairs)):
        rows = connection.execute(
            select(contacts.c.channel, contacts.c.address).where(
                columns.in_([(channel.value, address) for channel, address in batch])
            )
        )
        found.update((Channel(channel), address) for channel, address in rows)
    return found


def message(connection: Connection, key: str) -> OutboxMessage | None:
    row = connection.execute(select(messages).where(messages.c.key == key)).mappings().first()
    return OutboxMessage.from_row(row) if row is not None else None


def history(connection: Connection, key: str) -> list[OutboxEvent]:
    query = select(events).where(events.c.message_key == key).order_by(events.c.id)
    return [OutboxEvent.from_row(row) for row in connection.execute(query).mappings()]


def message_list(
    connection: Connection,
    *,
    states: Sequence[MessageState],
    borrower_id: str | None,
    limit: int,
) -> list[OutboxMessage]:
    query = select(messages).order_by(messages.c.send_at, messages.c.key).limit(limit)
    if states:
        query = query.where(messages.c.state.in_([state.value for state in states]))
    if borrower_id is not None:
        query = query.where(messages.c.borrower_id == borrower_id)
    return [OutboxMessage.from_row(row) for row in connection.execute(query).mappings()]


def counts(connection: Connection) -> list[tuple[str, str, str | None, int]]:
    """(state, channel, provider, count) for every combination present."""
    query = (
        select(messages.c.state, messages.c.channel, messages.c.provider, func.count())
        .group_by(messages.c.state, messages.c.channel, messages.c.provider)
        .order_by(messages.c.state, messages.c.channel, messages.c.provider)
    )
    return [(s, c, p, int(n)) for s, c, p, n in connection.execute(query)]
