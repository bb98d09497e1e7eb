"""Moving messages between states, in batches, each move with its event (SPEC §6.2).

A batch of moves costs a handful of statements whatever its size: one ``SELECT`` finds the
messages still in the expected state (and leased to this worker, when asked), locking them
on PostgreSQL (``FOR UPDATE``; SQLite's write lock is held since ``BEGIN IMMEDIATE``), one
multi-row ``UPDATE`` per distinct set of columns runs for all of them (``WHERE key IN (…)``,
a column whose value differs between rows set by ``CASE key WHEN … THEN …``), and
multi-row ``INSERT`` statements append their events. A message no longer in the expected
state is left alone: a worker that lost its lease, or a message cancelled meanwhile, changes
nothing.

Messages that become ``sent`` (settled by the dispatcher, a late answer, a person resolving
an ``unknown``) have their reach written in the same transaction, one more statement for
the batch (:mod:`remindkit.outbox.reach`).

Why multi-row statements rather than ``executemany``: the driver runs an ``executemany``
row by row, and the SQLite driver releases the interpreter lock around each row; on the
dispatcher's store thread, with dozens of send threads wanting the lock, getting it back
after every row is what a batch cost. The statements are built once per shape and size
(sizes rounded up to a power of two, padded with keys that match no row), so SQLAlchemy's
compiled cache serves them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, Update, bindparam, case, select, text, update
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
    keys = [m.key for m in moves]
    if len(set(keys)) != len(keys):  # one message moved twice: in order, row by row
        return _apply_in_order(connection, moves, now, worker=worker, expect=expect, own=own)
    # One expected state: the guarded UPDATE … RETURNING tells what moved, no SELECT first.
    guarded = len(expect) == 1
    current = {} if guarded else _movable(connection, keys, expect, worker if own else None)
    groups: dict[
        tuple[tuple[str, ...], tuple[tuple[str, int], ...]],
        tuple[dict[str, ClauseElement], list[dict[str, Any]]],
    ] = {}
    for move in moves:
        if not guarded and move.key not in current:
            continue
        params, exprs = _values(move, now)
        shape = (tuple(sorted(params)), tuple(sorted((n, id(e)) for n, e in exprs.items())))
        group = groups.setdefault(shape, (exprs, []))
        group[1].append({"key": move.key, **params})
    moved: set[str] = set()
    guard = (expect[0].value, worker if own else None) if guarded else None
    if guard is not None and groups and is_postgresql(connection):
        _lock_in_key_order(connection, keys, guard)
    for (names, _), (exprs, rows) in groups.items():
        moved |= _update_rows(connection, names, exprs, rows, guard)
    if not guarded:
        moved = set(current) & set(keys)
    journal = [
        event_row(
            move,
            now,
            worker=worker,
            from_state=current[move.key] if not guarded else expect[0].value,
        )
        for move in moves
        if move.key in moved
    ]
    _insert_events(connection, journal)
    record_reach(connection, [m.key for m in moves if m.to is SENT and m.key in moved])
    return moved


def _values(move: Transition, now: datetime) -> tuple[dict[str, Any], dict[str, ClauseElement]]:
    """The move's new column values: bound values, and SQL expressions (``attempts + 1``)."""
    values: dict[str, Any] = {"state": move.to.value, "updated_at": now}
    if move.reason is not None:
        values["reason"] = move.reason
    values.update(move.values or {})
    params = {name: value for name, value in values.items() if not isinstance(value, ClauseElement)}
    exprs = {name: value for name, value in values.items() if isinstance(value, ClauseElement)}
    return params, exprs


def _apply_in_order(
    connection: Connection,
    moves: list[Transition],
    now: datetime,
    *,
    worker: str,
    expect: tuple[MessageState, ...],
    own: bool,
) -> set[str]:
    """Each move in turn, with its event (a batch that moves one message more than once)."""
    current = _movable(connection, [m.key for m in moves], expect, worker if own else None)
    journal: list[dict[str, Any]] = []
    for move in moves:
        if move.key not in current:
            continue
        params, exprs = _values(move, now)
        statement = (
            update(messages)
            .where(messages.c.key == move.key)
            .values(**{name: bindparam(f"v_{name}") for name in params}, **exprs)
        )
        connection.execute(statement, {f"v_{name}": value for name, value in params.items()})
        journal.append(event_row(move, now, worker=worker, from_state=current[move.key]))
    _insert_events(connection, journal)
    record_reach(connection, [m.key for m in moves if m.to is SENT and m.key in current])
    return set(current) & {move.key for move in moves}


def _size(count: int) -> int:
    """``count`` rounded up to a power of two: a few statement sizes serve every batch."""
    return 1 << max(0, count - 1).bit_length()


def _same(a: object, b: object) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def _update_rows(
    connection: Connection,
    names: tuple[str, ...],
    exprs: dict[str, ClauseElement],
    rows: list[dict[str, Any]],
    guard: tuple[str, str | None] | None,
) -> set[str]:
    """One ``UPDATE`` for ``rows`` (each: ``key`` and a value per name): the values every
    row shares are bound once, the others picked per row with ``CASE key``. With a
    ``guard`` (the expected state, and the lease owner or ``None``) only rows that pass it
    change, and the keys that did are returned; without, every key given is."""
    first = rows[0]
    varying = tuple(name for name in names if any(not _same(r[name], first[name]) for r in rows))
    shared = tuple(name for name in names if name not in varying)
    size = _size(len(rows))
    owned = guard is not None and guard[1] is not None
    statement = _update_statement(size, varying, shared, exprs, guard is not None, owned)
    bound: dict[str, Any] = {f"s_{name}": first[name] for name in shared}
    for index in range(size):
        row = rows[index] if index < len(rows) else None  # padding: a NULL key matches nothing
        bound[f"k{index}"] = row["key"] if row is not None else None
        for name in varying:
            bound[f"v{index}_{name}"] = row[name] if row is not None else None
    if guard is None:
        connection.execute(statement, bound)
        return {row["key"] for row in rows}
    bound["g_state"] = guard[0]
    if owned:
        bound["g_owner"] = guard[1]
    return {str(key) for key in connection.execute(statement, bound).scalars()}


_CACHE_LIMIT = 256
_updates: dict[tuple[object, ...], tuple[dict[str, ClauseElement], Update]] = {}
_inserts: dict[tuple[int, bool], TextClause] = {}
_cache_lock = threading.Lock()


def _update_statement(
    size: int,
    varying: tuple[str, ...],
    shared: tuple[str, ...],
    exprs: dict[str, ClauseElement],
    guarded: bool,
    owned: bool,
) -> Update:
    cache_key = (
        size,
        varying,
        shared,
        tuple(sorted((n, id(e)) for n, e in exprs.items())),
        guarded,
        owned,
    )
    with _cache_lock:
        cached = _updates.get(cache_key)
        # The expressions are told apart by identity: only reuse a statement built with them.
        if cached is not None and all(cached[0].get(n) is e for n, e in exprs.items()):
            return cached[1]
    key = messages.c.key
    keys = [bindparam(f"k{index}", type_=key.type) for index in range(size)]
    values: dict[str, Any] = {
        name: bindparam(f"s_{name}", type_=messages.c[name].type) for name in shared
    }
    for name in varying:
        column = messages.c[name]
        values[name] = case(
            {k: bindparam(f"v{index}_{name}", type_=column.type) for index, k in enumerate(keys)},
            value=key,
        )
    statement = update(messages).where(key.in_(keys)).values(**values, **exprs)
    if guarded:
        statement = statement.where(messages.c.state == bindparam("g_state"))
        if owned:
            statement = statement.where(messages.c.lease_owner == bindparam("g_owner"))
        statement = statement.returning(key)
    with _cache_lock:
        if len(_updates) >= _CACHE_LIMIT:
            _updates.clear()
        _updates[cache_key] = (dict(exprs), statement)
    return statement


def _insert_events(connection: Connection, journal: list[dict[str, Any]]) -> None:
    """The events in multi-row ``INSERT`` statements. On SQLite one statement, padded to a
    power of two with rows that are filtered out (``INSERT … SELECT … WHERE``); elsewhere
    statements of power-of-two sizes (54 rows: 32 + 16 + 4 + 2), whose values need no
    casts."""
    padded = not is_postgresql(connection)
    start = 0
    while start < len(journal):
        left = len(journal) - start
        size = _size(left) if padded else 1 << (left.bit_length() - 1)
        piece = journal[start : start + size]
        bound = {f"{name}{index}": None for index in range(size) for name in _EVENT_COLUMNS}
        for index, row in enumerate(piece):
            for name, value in row.items():
                bound[f"{name}{index}"] = value
        connection.execute(_insert_statement(size, padded), bound)
        start += size


_EVENT_COLUMNS = ("message_key", "at", "worker", "from_state", "to_state", "reason", "detail")


def _insert_statement(size: int, padded: bool) -> TextClause:
    """``INSERT INTO events (…) VALUES (…), (…)`` for ``size`` rows (``padded``: rows whose
    ``message_key`` is NULL are left out). Written as text with typed parameters:
    SQLAlchemy does not cache a multi-row ``insert().values([...])``, and compiling one per
    batch would cost more than the rows it saves."""
    with _cache_lock:
        cached = _inserts.get((size, padded))
    if cached is not None:
        return cached
    columns = ", ".join(f'"{name}"' for name in _EVENT_COLUMNS)
    rows = ", ".join(
        "(" + ", ".join(f":{name}{index}" for name in _EVENT_COLUMNS) + ")" for index in range(size)
    )
    into = f'INSERT INTO "{events.name}" ({columns})'
    sql = (
        f"{into} SELECT * FROM (VALUES {rows}) WHERE column1 IS NOT NULL"
        if padded
        else (f"{into} VALUES {rows}")
    )
    statement = text(sql).bindparams(
        *(
            bindparam(f"{name}{index}", type_=events.c[name].type)
            for index in range(size)
            for name in _EVENT_COLUMNS
        )
    )
    with _cache_lock:
        _inserts[(size, padded)] = statement
    return statement


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
        query = query.order_by(messages.c.key).with_for_update()  # see _lock_in_key_order
    return {str(key): str(state) for key, state in connection.execute(query)}


def _lock_in_key_order(
    connection: Connection, keys: list[str], guard: tuple[str, str | None]
) -> None:
    """Lock the rows a guarded ``UPDATE`` will change, in key order (PostgreSQL).

    A multi-row ``UPDATE`` locks its rows in whatever order the plan reads them; two
    transactions locking overlapping rows in different orders can wait for each other (a
    planner refreshing waiting messages while a dispatcher moves them to ``sending``), and
    PostgreSQL then aborts one of them. Every writer that locks several messages takes
    them in key order first, so no such cycle can form.
    """
    state, owner = guard
    statement = _LOCK_OWNED if owner is not None else _LOCK
    connection.execute(statement, {"keys": keys, "state": state, "owner": owner})


_LOCK_WHERE = (
    messages.c.key.in_(bindparam("keys", expanding=True)),
    messages.c.state == bindparam("state"),
)
_LOCK = select(messages.c.key).where(*_LOCK_WHERE).order_by(messages.c.key).with_for_update()
_LOCK_OWNED = _LOCK.where(messages.c.lease_owner == bindparam("owner"))


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
