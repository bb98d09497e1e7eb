"""``Outbox``: the store every planned message goes through, on SQLite or PostgreSQL.

The database does the concurrency (style rule 5): the message key is the primary key, so
re-planning inserts only keys it has not seen; a claim is one conditional ``UPDATE`` (with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under SQLite's write lock otherwise) that leases
rows to one worker; every later transition is conditional on the state and the lease it
expects, so a worker that lost its lease changes nothing. Each transition appends a row to
``events`` in the same transaction.

Methods take and return frozen values (:mod:`remindkit.outbox.records`); none sends, renders
or decides policy: that is :mod:`remindkit.dispatch`'s work.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from remindkit.errors import MessageStateError
from remindkit.models import Channel, Stage, Status
from remindkit.outbox.database import (
    SQLITE_BUSY_SECONDS,
    create_store_engine,
    ensure_schema,
    is_postgresql,
    shown_url,
    translated,
)
from remindkit.outbox.records import OutboxEvent, OutboxMessage, join_channels, snapshot
from remindkit.outbox.schema import contacts, events, installments, message_installments, messages
from remindkit.outbox.states import CONTACTED, RESOLVABLE, MessageState, Origin
from remindkit.plan import PlannedMessage
from remindkit.render.catalog import split_template_id

# Rows per statement: small enough for SQLite's 32,766 bound parameters with ~30 columns.
BATCH = 500
T = TypeVar("T")
InstallmentRef = tuple[str, int]


def worker_id() -> str:
    """``host:pid:random``: unique per process, readable in ``events.worker``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnqueueResult:
    inserted: int = 0
    already_known: int = 0
    suppressed: int = 0

    def __add__(self, other: EnqueueResult) -> EnqueueResult:
        return EnqueueResult(
            inserted=self.inserted + other.inserted,
            already_known=self.already_known + other.already_known,
            suppressed=self.suppressed + other.suppressed,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """The latest status of one installment, from a feed row or the backend."""

    loan_id: str
    installment_no: int
    borrower_id: str
    status: Status
    context: str | None = None  # snapshot of the feed row, kept for the thank-you

    @property
    def ref(self) -> InstallmentRef:
        return (self.loan_id, self.installment_no)


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstPaid:
    """An installment seen ``paid`` for the first time, and whether it had a reminder sent
    recently (SPEC §5.1: the thank-you goes only to borrowers who were reminded)."""

    update: StatusUpdate
    paid_at: datetime
    context: str  # the feed row's snapshot, else the latest message's
    reminded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """One message moving from the state the caller holds to ``to``, with its columns."""

    key: str
    to: MessageState
    reason: str | None = None
    values: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    """A message that may have reached the borrower (for the caps at the re-check)."""

    borrower_id: str
    key: str
    sent_at: datetime
    installments: tuple[InstallmentRef, ...]


def chunks(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Outbox:
    """The outbox store. Thread-safe: each call uses its own connection from the pool."""

    def __init__(self, engine: Engine, *, worker: str | None = None) -> None:
        self.engine = engine
        self.worker = worker or worker_id()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        auto_migrate: bool = True,
        worker: str | None = None,
        busy_timeout_seconds: float = SQLITE_BUSY_SECONDS,
    ) -> Outbox:
        """Open (and by default migrate) the store at ``url``; a fresh SQLite file is created
        at the latest schema. Raises ``StoreUnavailableError`` / ``ConfigError``."""
        engine = create_store_engine(url, busy_seconds=busy_timeout_seconds)
        ensure_schema(engine, auto_migrate=auto_migrate)
        return cls(engine, worker=worker)

    @property
    def url(self) -> str:
        return shown_url(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with translated(self.engine), self.engine.begin() as connection:
            yield connection

    # -- planning -------------------------------------------------------------------------

    def enqueue(self, planned: Iterable[PlannedMessage], *, now: datetime) -> EnqueueResult:
        """Insert the messages whose keys are new; known keys are never reset (a planned one
        gets the planner's fresher snapshot of its installments)."""
        total = EnqueueResult()
        for batch in chunks(planned):
            with self.transaction() as connection:
                total += self._enqueue_batch(connection, batch, now)
        return total

    def insert_one(
        self, message: PlannedMessage, *, now: datetime, origin: Origin, parent_key: str | None
    ) -> bool:
        """Insert a fallback or event message; ``False`` if its key exists already."""
        with self.transaction() as connection:
            row = _message_row(message, now, self.worker, origin=origin, parent_key=parent_key)
            maker = pg_insert if is_postgresql(connection) else sqlite_insert
            statement = maker(messages).on_conflict_do_nothing().returning(messages.c.key)
            inserted = connection.execute(statement, row).first() is not None
            if inserted:
                self._link(connection, [message])
                self._note_installments(connection, [message], now)
            return inserted

    def _enqueue_batch(
        self, connection: Connection, batch: list[PlannedMessage], now: datetime
    ) -> EnqueueResult:
        keys = [message.key for message in batch]
        known = set(
            connection.execute(select(messages.c.key).where(messages.c.key.in_(keys))).scalars()
        )
        fresh = [message for message in batch if message.key not in known]
        if fresh:
            rows = [_message_row(m, now, self.worker, origin=Origin.PLAN) for m in fresh]
            self._insert_ignoring(connection, messages, rows)
            self._link(connection, fresh)
        stale = [message for message in batch if message.key in known]
        if stale:
            connection.execute(
                update(messages)
                .where(
                    messages.c.key == bindparam("k"),
                    messages.c.state == MessageState.PLANNED.value,
                )
                .values(context=bindparam("c")),
                [{"k": m.key, "c": snapshot(m.installments)} for m in stale],
            )
        self._note_installments(connection, batch, now)
        return EnqueueResult(
            inserted=len(fresh),
            already_known=len(stale),
            suppressed=sum(1 for m in fresh if not m.planned),
        )

    def _insert_ignoring(
        self, connection: Connection, table: Any, rows: list[dict[str, Any]]
    ) -> None:
        """Insert rows, skipping those whose primary key exists (a concurrent planner)."""
        maker = pg_insert if is_postgresql(connection) else sqlite_insert
        connection.execute(maker(table).on_conflict_do_nothing(), rows)

    def _link(self, connection: Connection, batch: Sequence[PlannedMessage]) -> None:
        rows = [
            {"message_key": m.key, "loan_id": item.loan_id, "installment_no": item.installment_no}
            for m in batch
            for item in {i.key: i for i in m.installments}.values()
        ]
        if rows:
            self._insert_ignoring(connection, message_installments, rows)

    def _note_installments(
        self, connection: Connection, batch: Sequence[PlannedMessage], now: datetime
    ) -> None:
        """The planned installments are ``due``/``plan`` in the latest feed: remember it, so
        a payment reversed since an earlier ``paid`` row does not cancel their messages."""
        latest = {
            item.key: StatusUpdate(
                loan_id=item.loan_id,
                installment_no=item.installment_no,
                borrower_id=item.borrower.id,
                status=item.status,
            )
            for m in batch
            if m.planned
            for item in m.installments
        }
        if latest:
            self._upsert_statuses(connection, list(latest.values()), now)

    def _upsert_statuses(
        self, connection: Connection, updates: Sequence[StatusUpdate], now: datetime
    ) -> None:
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

    # -- statuses from feeds and the backend ----------------------------------------------

    def record_statuses(
        self,
        updates: Iterable[StatusUpdate],
        *,
        now: datetime,
        cancel: Mapping[Status, str],
        reminded_within: timedelta,
    ) -> tuple[int, list[FirstPaid]]:
        """Record the statuses of installments the outbox has messages for (others are
        ignored: the outbox has nothing to say about them), cancel queued messages of those
        in a stop status (``cancel`` maps status → reason), and return the installments seen
        paid for the first time. Returns (messages cancelled, first paid)."""
        cancelled = 0
        first: list[FirstPaid] = []
        for batch in chunks(updates):
            with self.transaction() as connection:
                known = self._known(connection, batch)
                if not known:
                    continue
                self._upsert_statuses(connection, known, now)
                cancelled += self._cancel_stopped(connection, known, now, cancel)
                first.extend(self._first_paid(connection, known, now, reminded_within))
        return cancelled, first

    def _known(self, connection: Connection, batch: list[StatusUpdate]) -> list[StatusUpdate]:
        refs = {update.ref: update for update in batch}
        pairs = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
        found = connection.execute(
            select(message_installments.c.loan_id, message_installments.c.installment_no)
            .where(pairs.in_(list(refs)))
            .distinct()
        )
        return [refs[(loan_id, number)] for loan_id, number in found]

    def _cancel_stopped(
        self,
        connection: Connection,
        known: list[StatusUpdate],
        now: datetime,
        cancel: Mapping[Status, str],
    ) -> int:
        stopped = {u.ref: cancel[u.status] for u in known if u.status in cancel}
        if not stopped:
            return 0
        pairs = tuple_(message_installments.c.loan_id, message_installments.c.installment_no)
        rows = connection.execute(
            select(
                messages.c.key,
                message_installments.c.loan_id,
                message_installments.c.installment_no,
            )
            .join(message_installments, message_installments.c.message_key == messages.c.key)
            .where(
                messages.c.state == MessageState.PLANNED.value,
                # A thank-you is about the payment itself: a stop status never cancels it.
                messages.c.stage != Stage.PAYMENT_RECEIVED.value,
                pairs.in_(list(stopped)),
            )
        ).all()
        reasons: dict[str, str] = {}
        for key, loan_id, number in rows:
            reasons.setdefault(key, stopped[(loan_id, number)])
        moves = [Transition(key=k, to=MessageState.CANCELLED, reason=r) for k, r in reasons.items()]
        return len(self._apply(connection, moves, now, expect=(MessageState.PLANNED,)))

    def _first_paid(
        self,
        connection: Connection,
        known: list[StatusUpdate],
        now: datetime,
        reminded_within: timedelta,
    ) -> list[FirstPaid]:
        first: list[FirstPaid] = []
        for update_ in known:
            if update_.status is not Status.PAID:
                continue
            claimed = connection.execute(
                update(installments)
                .where(
                    installments.c.loan_id == update_.loan_id,
                    installments.c.installment_no == update_.installment_no,
                    installments.c.paid_at.is_(None),
                )
                .values(paid_at=now)
            )
            if claimed.rowcount != 1:
                continue  # seen paid before, by this process or another
            reminded, context = self._reminder_context(connection, update_, now - reminded_within)
            first.append(
                FirstPaid(
                    update=update_,
                    paid_at=now,
                    context=update_.context or context,
                    reminded=reminded,
                )
            )
        return first

    def _reminder_context(
        self, connection: Connection, update_: StatusUpdate, since: datetime
    ) -> tuple[bool, str]:
        linked = (
            select(messages.c.state, messages.c.sent_at, messages.c.context)
            .join(message_installments, message_installments.c.message_key == messages.c.key)
            .where(
                message_installments.c.loan_id == update_.loan_id,
                message_installments.c.installment_no == update_.installment_no,
            )
            .order_by(messages.c.created_at.desc())
        )
        reminded, context = False, ""
        for state, sent_at, row_context in connection.execute(linked):
            context = context or _only(row_context, update_.ref)
            if state == MessageState.SENT.value and sent_at is not None and sent_at >= since:
                reminded = True
        return reminded, context

    # -- claims and transitions -----------------------------------------------------------

    def claim(
        self,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        channels: Sequence[Channel] = tuple(Channel),
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due ``planned`` messages on ``channels`` to this worker,
        oldest first."""
        due = (
            select(messages.c.key)
            .where(
                messages.c.state == MessageState.PLANNED.value,
                messages.c.next_attempt_at <= now,
                or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now),
                messages.c.channel.in_([channel.value for channel in channels]),
            )
            .order_by(messages.c.next_attempt_at, messages.c.key)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(messages)
            .where(messages.c.key.in_(due.scalar_subquery()))
            .values(lease_owner=self.worker, lease_expires_at=now + lease, updated_at=now)
            .returning(*messages.c)
        )
        with self.transaction() as connection:
            rows = connection.execute(statement).mappings().all()
        claimed = [OutboxMessage.from_row(row) for row in rows]
        claimed.sort(key=lambda m: (m.next_attempt_at, m.key))
        return claimed

    def start_sending(
        self, moves: Sequence[Transition], *, now: datetime, lease: timedelta
    ) -> set[str]:
        """Commit ``sending`` (with the rendered text) for leased messages, before any
        provider call (SPEC §6.3). Returns the keys that really moved: a message whose lease
        was lost or that was cancelled meanwhile is not sent."""
        stamped = [
            Transition(
                key=move.key,
                to=MessageState.SENDING,
                reason=move.reason,
                detail=move.detail,
                values={
                    **(move.values or {}),
                    "lease_expires_at": now + lease,
                    "sent_at": now,
                    "attempts": messages.c.attempts + 1,
                },
            )
            for move in moves
        ]
        with self.transaction() as connection:
            return self._apply(connection, stamped, now, expect=(MessageState.PLANNED,), own=True)

    def settle(
        self,
        moves: Sequence[Transition],
        *,
        now: datetime,
        expect: tuple[MessageState, ...],
        release: bool = True,
    ) -> set[str]:
        """Apply transitions to messages this worker holds in one of ``expect``; the lease is
        released (the row is free for any worker once it is due again)."""
        if not moves:
            return set()
        if release:
            moves = [
                Transition(
                    key=m.key,
                    to=m.to,
                    reason=m.reason,
                    detail=m.detail,
                    values={**(m.values or {}), "lease_owner": None, "lease_expires_at": None},
                )
                for m in moves
            ]
        with self.transaction() as connection:
            return self._apply(connection, moves, now, expect=expect, own=True)

    def _apply(
        self,
        connection: Connection,
        moves: Sequence[Transition],
        now: datetime,
        *,
        expect: tuple[MessageState, ...],
        own: bool = False,
    ) -> set[str]:
        """Move each message if it is in ``expect`` (and, with ``own``, leased to this
        worker); append an event for each move. Returns the keys moved."""
        moved: set[str] = set()
        journal: list[dict[str, Any]] = []
        expected = [state.value for state in expect]
        before = self._states(connection, [m.key for m in moves]) if len(expect) > 1 else {}
        for move in moves:
            condition = and_(messages.c.key == move.key, messages.c.state.in_(expected))
            if own:
                condition = and_(condition, messages.c.lease_owner == self.worker)
            values: dict[str, Any] = {"state": move.to.value, "updated_at": now}
            if move.reason is not None:
                values["reason"] = move.reason
            values.update(move.values or {})
            row = connection.execute(
                update(messages).where(condition).values(**values).returning(messages.c.key)
            ).first()
            if row is None:
                continue
            moved.add(move.key)
            journal.append(self._event(move, now, from_state=before.get(move.key, expected[0])))
        if journal:
            connection.execute(insert(events), journal)
        return moved

    def _states(self, connection: Connection, keys: list[str]) -> dict[str, str]:
        query = select(messages.c.key, messages.c.state).where(messages.c.key.in_(keys))
        if is_postgresql(connection):
            query = query.with_for_update()
        return {str(key): str(state) for key, state in connection.execute(query)}

    def _event(self, move: Transition, now: datetime, *, from_state: str | None) -> dict[str, Any]:
        return {
            "message_key": move.key,
            "at": now,
            "worker": self.worker,
            "from_state": from_state,
            "to_state": move.to.value,
            "reason": move.reason,
            "detail": json.dumps(dict(move.detail), ensure_ascii=False) if move.detail else None,
        }

    def reap(self, *, now: datetime) -> tuple[int, int]:
        """Expired leases of ``sending`` rows → ``unknown`` (the provider may have the
        message: never back to ``planned``); ``planned`` rows past ``not_after`` →
        ``expired``. Returns (unknown, expired)."""
        with self.transaction() as connection:
            lost = connection.execute(
                select(messages.c.key).where(
                    messages.c.state == MessageState.SENDING.value,
                    messages.c.lease_expires_at < now,
                )
            ).scalars()
            unknown = self._apply(
                connection,
                [
                    Transition(
                        key=key,
                        to=MessageState.UNKNOWN,
                        reason="lease expired while sending (worker stopped or hung)",
                    )
                    for key in lost
                ],
                now,
                expect=(MessageState.SENDING,),
            )
            late = connection.execute(
                select(messages.c.key).where(
                    messages.c.state == MessageState.PLANNED.value,
                    messages.c.not_after <= now,
                    or_(messages.c.lease_expires_at.is_(None), messages.c.lease_expires_at < now),
                )
            ).scalars()
            expired = self._apply(
                connection,
                [
                    Transition(key=key, to=MessageState.EXPIRED, reason="not_after_passed")
                    for key in late
                ],
                now,
                expect=(MessageState.PLANNED,),
            )
        return len(unknown), len(expired)

    # -- what the re-check reads ----------------------------------------------------------

    def statuses(self, refs: Iterable[InstallmentRef]) -> dict[InstallmentRef, Status]:
        wanted = list(dict.fromkeys(refs))
        found: dict[InstallmentRef, Status] = {}
        pairs = tuple_(installments.c.loan_id, installments.c.installment_no)
        with translated(self.engine), self.engine.connect() as connection:
            for batch in chunks(wanted):
                rows = connection.execute(
                    select(
                        installments.c.loan_id, installments.c.installment_no, installments.c.status
                    ).where(pairs.in_(batch))
                )
                for loan_id, number, status in rows:
                    found[(loan_id, number)] = Status(status)
            connection.rollback()
        return found

    def contacts_since(self, borrower_ids: Iterable[str], since: datetime) -> list[Contact]:
        """Messages that may have reached these borrowers since ``since``."""
        wanted = sorted(set(borrower_ids))
        found: dict[str, Contact] = {}
        with translated(self.engine), self.engine.connect() as connection:
            for batch in chunks(wanted):
                rows = connection.execute(
                    select(
                        messages.c.key,
                        messages.c.borrower_id,
                        messages.c.sent_at,
                        message_installments.c.loan_id,
                        message_installments.c.installment_no,
                    )
                    .join(
                        message_installments, message_installments.c.message_key == messages.c.key
                    )
                    .where(
                        messages.c.borrower_id.in_(batch),
                        messages.c.state.in_([state.value for state in CONTACTED]),
                        messages.c.sent_at >= since,
                    )
                )
                for key, borrower, sent_at, loan_id, number in rows:
                    previous = found.get(key)
                    refs = (previous.installments if previous else ()) + ((loan_id, number),)
                    found[key] = Contact(
                        borrower_id=borrower, key=key, sent_at=sent_at, installments=refs
                    )
            connection.rollback()
        return list(found.values())

    def flagged(self, pairs: Iterable[tuple[Channel, str]]) -> set[tuple[Channel, str]]:
        wanted = list(dict.fromkeys(pairs))
        found: set[tuple[Channel, str]] = set()
        columns = tuple_(contacts.c.channel, contacts.c.address)
        with translated(self.engine), self.engine.connect() as connection:
            for batch in chunks(wanted):
                rows = connection.execute(
                    select(contacts.c.channel, contacts.c.address).where(
                        columns.in_([(channel.value, address) for channel, address in batch])
                    )
                )
                found.update((Channel(channel), address) for channel, address in rows)
            connection.rollback()
        return found

    def flag_contact(
        self,
        *,
        channel: Channel,
        address: str,
        borrower_id: str,
        error_code: str | None,
        message_key: str,
        now: datetime,
    ) -> None:
        row = {
            "channel": channel.value,
            "address": address,
            "borrower_id": borrower_id,
            "flagged_at": now,
            "error_code": error_code,
            "message_key": message_key,
        }
        with self.transaction() as connection:
            self._insert_ignoring(connection, contacts, [row])

    # -- reading and resolving ------------------------------------------------------------

    def get(self, key: str) -> OutboxMessage:
        with translated(self.engine), self.engine.connect() as connection:
            row = (
                connection.execute(select(messages).where(messages.c.key == key)).mappings().first()
            )
            connection.rollback()
        if row is None:
            raise MessageStateError(key, "no message with this key")
        return OutboxMessage.from_row(row)

    def history(self, key: str) -> list[OutboxEvent]:
        with translated(self.engine), self.engine.connect() as connection:
            rows = (
                connection.execute(
                    select(events).where(events.c.message_key == key).order_by(events.c.id)
                )
                .mappings()
                .all()
            )
            connection.rollback()
        return [OutboxEvent.from_row(row) for row in rows]

    def messages(
        self,
        *,
        states: Sequence[MessageState] = (),
        borrower_id: str | None = None,
        limit: int = 100,
    ) -> list[OutboxMessage]:
        query = select(messages).order_by(messages.c.send_at, messages.c.key).limit(limit)
        if states:
            query = query.where(messages.c.state.in_([state.value for state in states]))
        if borrower_id is not None:
            query = query.where(messages.c.borrower_id == borrower_id)
        with translated(self.engine), self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            connection.rollback()
        return [OutboxMessage.from_row(row) for row in rows]

    def counts(self) -> list[tuple[str, str, str | None, int]]:
        """(state, channel, provider, count) for every combination present."""
        query = (
            select(messages.c.state, messages.c.channel, messages.c.provider, func.count())
            .group_by(messages.c.state, messages.c.channel, messages.c.provider)
            .order_by(messages.c.state, messages.c.channel, messages.c.provider)
        )
        with translated(self.engine), self.engine.connect() as connection:
            rows = [(s, c, p, int(n)) for s, c, p, n in connection.execute(query)]
            connection.rollback()
        return rows

    def oldest(self, state: MessageState) -> OutboxMessage | None:
        found = self.messages(states=(state,), limit=1)
        return found[0] if found else None

    def resolve(self, key: str, *, to: MessageState, note: str, now: datetime) -> OutboxMessage:
        """A human's decision on an ``unknown`` message, after checking the provider."""
        if to not in RESOLVABLE:
            raise MessageStateError(key, f"can be resolved as sent or failed, not {to.value}")
        current = self.get(key)
        if current.state is not MessageState.UNKNOWN:
            raise MessageStateError(
                key, f"is {current.state.value}; only unknown messages are resolved"
            )
        move = Transition(
            key=key,
            to=to,
            reason=f"resolved by a person: {note}" if note else "resolved by a person",
        )
        with self.transaction() as connection:
            if not self._apply(connection, [move], now, expect=(MessageState.UNKNOWN,)):
                raise MessageStateError(key, "changed while resolving; look again")
        return self.get(key)

    def cancel(self, keys: Iterable[str], *, reason: str, now: datetime) -> set[str]:
        moves = [Transition(key=key, to=MessageState.CANCELLED, reason=reason) for key in keys]
        with self.transaction() as connection:
            return self._apply(connection, moves, now, expect=(MessageState.PLANNED,))

    def purge(self, *, before: datetime) -> int:
        """Delete messages in a final state created before ``before``, with their events."""
        finals = [state.value for state in MessageState if state.final]
        old = select(messages.c.key).where(
            messages.c.created_at < before, messages.c.state.in_(finals)
        )
        with self.transaction() as connection:
            keys = list(connection.execute(old).scalars())
            for batch in chunks(keys):
                connection.execute(delete(events).where(events.c.message_key.in_(batch)))
                connection.execute(
                    delete(message_installments).where(
                        message_installments.c.message_key.in_(batch)
                    )
                )
                connection.execute(delete(messages).where(messages.c.key.in_(batch)))
        return len(keys)


def _message_row(
    message: PlannedMessage,
    now: datetime,
    worker: str,
    *,
    origin: Origin,
    parent_key: str | None = None,
) -> dict[str, Any]:
    _, _, variant = split_template_id(message.template_id)
    state = MessageState.PLANNED if message.planned else MessageState.SUPPRESSED
    return {
        "key": message.key,
        "state": state.value,
        "origin": origin.value,
        "parent_key": parent_key,
        "borrower_id": message.borrower_id,
        "loan_ids": json.dumps(list(message.loan_ids), ensure_ascii=False),
        "stage": message.stage.value,
        "template_id": message.template_id,
        "variant": variant,
        "channel": message.channel.value,
        "fallbacks": join_channels(message.fallback_channels),
        "day": message.day,
        # The zone the planner used for the borrower's day (a ZoneInfo), else the borrower's.
        "timezone": getattr(message.send_at.tzinfo, "key", None)
        or message.installments[0].borrower.timezone,
        "send_at": message.send_at,
        "not_after": message.not_after,
        "next_attempt_at": message.send_at,
        "attempts": 0,
        "lease_owner": None,
        "lease_expires_at": None,
        "provider": None,
        "provider_message_id": None,
        "address": None,
        "error_code": None,
        "reason": message.reason,
        "text": None,
        "title": None,
        "template_hash": None,
        "context": snapshot(message.installments),
        "created_at": now,
        "created_by": worker,
        "updated_at": now,
        "sent_at": None,
    }


def _only(context: str, ref: InstallmentRef) -> str:
    """The snapshot of one installment out of a (consolidated) message's snapshot."""
    items = [
        item for item in json.loads(context) if (item["loan_id"], item["installment_no"]) == ref
    ]
    return json.dumps(items, ensure_ascii=False) if items else ""
