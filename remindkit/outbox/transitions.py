"""Moving messages between states, in batches, each move with its event (SPEC §6.2).

A batch of moves costs a handful of statements whatever its size: one ``SELECT`` finds the
messages still in the expected state (and leased to this worker, when asked), locking them
on PostgreSQL (``FOR UPDATE``; SQLite's write lock is held since ``BEGIN IMMEDIATE``), one
``UPDATE`` per distinct set of columns runs for all of them, and one ``INSERT`` appends
their events. A message no longer in the expected state is left alone: a worker that lost
its lease, or a message cancelled meanwhile, changes nothing.

Messages that become ``sent`` (settled by the dispatcher, a late answer, a person resolving
an ``unknown``) have their reach written in the same transaction, one more statement for
the batch (:mod:`remindkit.outbox.reach`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.sql import ClauseElement

from remindkit.outbox.database import is_postgresql
from remindkit.outbox.reach import record_reach
from remindkit.outbox.schema import events, messages
from remindkit.outbox.states import MessageState
from remindkit.outbox.values import Transition, chunks

SENT = MessageState.SENT


def apply_moves(
    connection: Connection,
    moves: Sequence[Transition],
    now: datetime,
    *,
    worker: str,
    expect: tuple[MessageState, ...],
    own: bool = False,
) -> set[str]:
    """Apply each move whose message is in ``expect`` (and, with ``own``, leased to
    ``worker``); append an event for each. Returns the keys moved."""
    moved: set[str] = set()
    for batch in chunks(moves):
        moved |= _apply_batch(connection, batch, now, worker=worker, expect=expect, own=own)
    return moved


def _apply_batch(
    connection: Connection,
    moves: list[Transition],
    now: datetime,
    *,
    worker: str,
    expect: tuple[MessageState, ...],
    own: bool,
) -> set[str]:
    current = _movable(connection, [m.key for m in moves], expect, worker if own else None)
    groups: dict[
        tuple[tuple[str, ...], tuple[str, ...]], tuple[dict[str, Any], list[dict[str, Any]]]
    ] = {}
    journal: list[dict[str, Any]] = []
    for move in moves:
        if move.key not in current:
            continue
        values: dict[str, Any] = {"state": move.to.value, "updated_at": now}
        if move.reason is not None:
            values["reason"] = move.reason
        values.update(move.values or {})
        params = {
            name: value for name, value in values.items() if not isinstance(value, ClauseElement)
        }
        exprs = {name: value for name, value in values.items() if isinstance(value, ClauseElement)}
        shape = (tuple(sorted(params)), tuple(sorted(exprs)))
        group = groups.setdefault(shape, (exprs, []))
        group[1].append({"k": move.key, **{f"v_{name}": value for name, value in params.items()}})
        journal.append(event_row(move, now, worker=worker, from_state=current[move.key]))
    for (names, _), (exprs, rows) in groups.items():
        statement = (
            update(messages)
            .where(messages.c.key == bindparam("k"))
            .values(**{name: bindparam(f"v_{name}") for name in names}, **exprs)
        )
        connection.execute(statement, rows)
    if journal:
        connection.execute(insert(events), journal)
    record_reach(connection, [m.key for m in moves if m.to is SENT and m.key in current])
    return set(current) & {move.key for move in moves}


def _movable(
    connection: Connection, keys: list[str], expect: tuple[MessageState, ...], owner: str | None
) -> dict[str, str]:
    """Key → state of the messages that may move, locked until the transaction ends."""
    query = select(messages.c.key, messages.c.state).where(
        messages.c.key.in_(keys), messages.c.state.in_([state.value for state in expect])
    )
    if owner is not None:
        query = query.where(messages.c.lease_owner == owner)
    if is_postgresql(connection):
        query = query.with_for_update()
    return {str(key): str(state) for key, state in connection.execute(query)}


def event_row(
    move: Transition, now: datetime, *, worker: str, from_state: str | None
) -> dict[str, Any]:
    return {
        "message_key": move.key,
        "at": now,
        "worker": worker,
        "from_state": from_state,
        "to_state": move.to.value,
        "reason": move.reason,
        "detail": json.dumps(dict(move.detail), ensure_ascii=False) if move.detail else None,
    }
